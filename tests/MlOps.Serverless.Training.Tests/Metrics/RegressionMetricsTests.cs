using MlOps.Serverless.Training.Metrics;

namespace MlOps.Serverless.Training.Tests.Metrics;

public sealed class RegressionMetricsTests
{
    [Fact]
    public void Wmae_weights_holiday_weeks_five_times()
    {
        // errors 10, 20 (holiday), 30: (10 + 5·20 + 30) / (1 + 5 + 1) = 140 / 7 = 20
        double[] actual = [100, 200, 300];
        double[] predicted = [110, 180, 330];
        bool[] holiday = [false, true, false];
        Assert.Equal(20.0, RegressionMetrics.Wmae(actual, predicted, holiday), 12);
    }

    [Fact]
    public void Rmse_and_mae_are_unweighted()
    {
        double[] actual = [100, 200, 300];
        double[] predicted = [110, 180, 330];
        var errors = RegressionMetrics.Compute(actual, predicted, [false, true, false]);
        Assert.Equal(20.0, errors.Mae, 12); // (10 + 20 + 30) / 3
        Assert.Equal(Math.Sqrt((100 + 400 + 900) / 3.0), errors.Rmse, 12);
        Assert.Equal(3, errors.Rows);
    }

    [Fact]
    public void Wmae_equals_mae_without_holidays()
    {
        double[] actual = [1, -2, 4, 8];
        double[] predicted = [2, -2, 1, 10];
        Assert.Equal(1.5, RegressionMetrics.Wmae(actual, predicted, new bool[4]), 12); // (1 + 0 + 3 + 2) / 4
    }

    [Fact]
    public void Mismatched_lengths_and_empty_input_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => RegressionMetrics.Compute([1.0], [1.0, 2.0], [false]));
        Assert.Throws<ArgumentException>(() => RegressionMetrics.Compute([], [], []));
    }
}
