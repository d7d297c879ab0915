namespace MlOps.Serverless.Training.Jobs;

/// <summary>
/// Per-round metric curves of one training job (<c>metric-curves.json</c> next to the model, and in the
/// local job store), for the MLflow stage to log as metric histories. Not an AWS shape.
/// </summary>
public sealed record MetricCurves(
    string TrainingJobName,
    int RoundsTrained,
    int BestIteration,
    bool StoppedEarly,
    IReadOnlyDictionary<string, IReadOnlyList<double>> Metrics)
{
    public static MetricCurves From(string trainingJobName, TrainingOutcome outcome)
    {
        var names = outcome.Curve.SelectMany(r => r.Values.Keys).Distinct(StringComparer.Ordinal);
        var metrics = names.ToDictionary(
            name => name,
            name => (IReadOnlyList<double>)outcome.Curve.Select(r => r.Values.TryGetValue(name, out var v) ? v : double.NaN).ToList(),
            StringComparer.Ordinal);
        return new MetricCurves(trainingJobName, outcome.RoundsTrained, outcome.BestIteration, outcome.StoppedEarly, metrics);
    }
}
