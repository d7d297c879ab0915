using MlOps.Serverless.Training.Metrics;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>One test week of one series, in dollars. <see cref="Predicted"/> is NaN when the week has no prediction.</summary>
public sealed record ForecastPoint(DateOnly Date, double Actual, double Predicted, double Naive, double Weight);

/// <summary>One store/department series over the test weeks, ordered by date.</summary>
public sealed record ForecastSeries(int Store, int Dept, IReadOnlyList<ForecastPoint> Points)
{
    /// <summary>A title for a series that is not one store and department (e.g. a total).</summary>
    public string? Label { get; init; }

    public string Title => Label ?? $"Store {Store} · Dept {Dept}";

    public double TotalActual => Points.Sum(p => p.Actual);

    /// <summary>The model's WMAE over the weeks that have a prediction (the evaluation query's inner join); null when none do.</summary>
    public double? Wmae => WeightedMae(p => p.Predicted);

    /// <summary>The naive baseline's WMAE over the same weeks as <see cref="Wmae"/>, so the two compare.</summary>
    public double? NaiveWmae => WeightedMae(p => p.Naive);

    // The labels' weight is WMAE's (holiday 5, else 1): the evaluation's reference metric scores it.
    private double? WeightedMae(Func<ForecastPoint, double> forecast)
    {
        var scored = Points.Where(p => !double.IsNaN(p.Predicted)).ToList();
        return scored.Count == 0 ? null : RegressionMetrics.Wmae(
            [.. scored.Select(p => p.Actual)], [.. scored.Select(forecast)], [.. scored.Select(p => p.Weight == RegressionMetrics.HolidayWeight)]);
    }
}
