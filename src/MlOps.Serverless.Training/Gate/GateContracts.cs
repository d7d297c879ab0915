using System.Text.Json.Serialization;
using MlOps.Serverless.Core.Runs;

namespace MlOps.Serverless.Training.Gate;

/// <summary>
/// The gate Lambda's input, assembled by the state machine: the run, the evaluation query's result set,
/// the current champion (latest Approved model package), the tuning/training result and the MLflow
/// training-logging result (<c>$.mlflow.training.result</c>), whose parent run id goes into the registry.
/// </summary>
public sealed record GateInput(
    RunRequest Run,
    AthenaResultSet Evaluation,
    ChampionReference Champion,
    TrainingReference Training,
    MlflowReference? Mlflow = null);

/// <summary>The MLflow logging stage's output as far as the gate needs it: <c>deferred</c> runs have no run id yet.</summary>
public sealed record MlflowReference(string? Status = null, string? ParentRunId = null);

/// <summary>Athena GetQueryResults' <c>ResultSet</c> (PascalCase, as Athena returns it): header row first.</summary>
public sealed record AthenaResultSet([property: JsonPropertyName("Rows")] IReadOnlyList<AthenaRow> Rows);

public sealed record AthenaRow([property: JsonPropertyName("Data")] IReadOnlyList<AthenaDatum> Data);

/// <summary>One cell; SQL NULL arrives as an empty object (no VarCharValue).</summary>
public sealed record AthenaDatum([property: JsonPropertyName("VarCharValue")] string? VarCharValue = null);

/// <summary>The champion: <c>{"found": false}</c>, or the package ARN with its CustomerMetadataProperties.</summary>
public sealed record ChampionReference(
    bool Found,
    string? ModelPackageArn = null,
    IReadOnlyDictionary<string, string>? CustomerMetadataProperties = null);

public sealed record TrainingReference(string BestTrainingJobName, string ModelArtifactUri);

public enum GateDecision
{
    [JsonStringEnumMemberName("promote")] Promote,
    [JsonStringEnumMemberName("reject")] Reject,
}

/// <summary>Metrics on the test rows; null where the evaluation did not produce a finite value.</summary>
public sealed record MetricSet(double? Wmae, double? Rmse, double? Mae, long? Rows = null);

/// <summary>The champion as the gate saw it. <see cref="Comparable"/> is false when it has no usable WMAE.</summary>
public sealed record ChampionSummary(string? ModelPackageArn, double? Wmae, bool Comparable, string? MetricKey);

/// <summary>The gate's decision, what the Choice state and the registry/notification states read.</summary>
public sealed record GateOutput(
    GateDecision Decision,
    IReadOnlyList<string> Reasons,
    MetricSet Challenger,
    MetricSet Baseline,
    ChampionSummary? Champion,
    IReadOnlyDictionary<string, string> ModelPackageProperties,
    string EvaluationReportUri,
    string Summary);
