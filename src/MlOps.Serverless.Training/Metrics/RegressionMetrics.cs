namespace MlOps.Serverless.Training.Metrics;

/// <summary>Forecast error on a set of rows: the competition's WMAE plus RMSE and MAE.</summary>
public sealed record ForecastErrors(double Wmae, double Rmse, double Mae, long Rows);

/// <summary>
/// The evaluation metrics in plain C#, the reference the evaluation SQL is checked against:
/// WMAE = Σ wᵢ|yᵢ − ŷᵢ| / Σ wᵢ with wᵢ = 5 in holiday weeks and 1 otherwise (Walmart competition).
/// </summary>
public static class RegressionMetrics
{
    public const double HolidayWeight = 5;

    public static ForecastErrors Compute(ReadOnlySpan<double> actual, ReadOnlySpan<double> predicted, ReadOnlySpan<bool> isHoliday)
    {
        if (actual.Length != predicted.Length || actual.Length != isHoliday.Length)
            throw new ArgumentException($"actual ({actual.Length}), predicted ({predicted.Length}) and isHoliday ({isHoliday.Length}) must have the same length.");
        if (actual.IsEmpty) throw new ArgumentException("No rows to evaluate.", nameof(actual));
        double weighted = 0, weights = 0, absolute = 0, squared = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var error = actual[i] - predicted[i];
            var w = isHoliday[i] ? HolidayWeight : 1;
            weighted += w * Math.Abs(error);
            weights += w;
            absolute += Math.Abs(error);
            squared += error * error;
        }
        return new ForecastErrors(weighted / weights, Math.Sqrt(squared / actual.Length), absolute / actual.Length, actual.Length);
    }

    public static double Wmae(ReadOnlySpan<double> actual, ReadOnlySpan<double> predicted, ReadOnlySpan<bool> isHoliday) =>
        Compute(actual, predicted, isHoliday).Wmae;

    public static double Rmse(ReadOnlySpan<double> actual, ReadOnlySpan<double> predicted) =>
        Compute(actual, predicted, new bool[actual.Length]).Rmse;

    public static double Mae(ReadOnlySpan<double> actual, ReadOnlySpan<double> predicted) =>
        Compute(actual, predicted, new bool[actual.Length]).Mae;
}
