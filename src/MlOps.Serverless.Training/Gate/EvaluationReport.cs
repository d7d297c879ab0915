using System.Text.Json.Serialization;

namespace MlOps.Serverless.Training.Gate;

/// <summary>
/// <c>evaluation.json</c>: SageMaker ModelMetrics statistics style (<c>regression_metrics.{name}.value</c>),
/// so a model package's <c>ModelMetrics.ModelQuality.Statistics</c> can point at it, plus the gate's decision.
/// </summary>
public sealed record EvaluationReport(
    [property: JsonPropertyName("regression_metrics")] RegressionStatistics RegressionMetrics,
    [property: JsonPropertyName("naive_baseline_metrics")] RegressionStatistics NaiveBaselineMetrics,
    long? Rows,
    GateDecision Decision,
    IReadOnlyList<string> Reasons,
    ChampionSummary? Champion,
    string RunId,
    string ExecutionArn,
    string TrainingJobName,
    string ModelArtifactUri,
    DateTimeOffset EvaluatedAt);

public sealed record RegressionStatistics(
    [property: JsonPropertyName("wmae")] StatisticValue? Wmae,
    [property: JsonPropertyName("rmse")] StatisticValue? Rmse,
    [property: JsonPropertyName("mae")] StatisticValue? Mae);

public sealed record StatisticValue([property: JsonPropertyName("value")] double Value);
