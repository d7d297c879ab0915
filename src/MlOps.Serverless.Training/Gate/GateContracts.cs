using System.Text.Json.Serialization;
using MlOps.Serverless.Core.Runs;

namespace MlOps.Serverless.Training.Gate;

/// <summary>
/// The gate Lambda's input, assembled by the state machine: the run, the evaluation query's result set (challenger,
/// champion and naive on the same test rows), the current champion (latest Approved model package, with how its
/// scoring on this run's test features went), the tuning/training result, the MLflow training-logging result
/// (<c>$.mlflow.training.result</c>), whose parent run id goes into the registry, and the feature set version
/// of this deployment's features SQL.
/// </summary>
public sealed record GateInput(
    RunRequest Run,
    AthenaResultSet Evaluation,
    ChampionReference Champion,
    TrainingReference Training,
    MlflowReference? Mlflow = null,
    string? FeatureSetVersion = null);

/// <summary>The MlflowLogger stage's output as far as the gate needs it: <c>deferred</c> runs have no run id yet.</summary>
public sealed record MlflowReference(string? Status = null, string? ParentRunId = null);

/// <summary>Athena GetQueryResults' <c>ResultSet</c> (PascalCase, as Athena returns it): header row first.</summary>
public sealed record AthenaResultSet([property: JsonPropertyName("Rows")] IReadOnlyList<AthenaRow> Rows);

public sealed record AthenaRow([property: JsonPropertyName("Data")] IReadOnlyList<AthenaDatum> Data);

/// <summary>One cell; SQL NULL arrives as an empty object (no VarCharValue).</summary>
public sealed record AthenaDatum([property: JsonPropertyName("VarCharValue")] string? VarCharValue = null);

/// <summary>
/// The champion: <c>{"found": false}</c>, or the package ARN with its DescribeModelPackage output and, when the
/// state machine tried to score it on this run's test features, how that went.
/// </summary>
public sealed record ChampionReference(
    bool Found,
    string? ModelPackageArn = null,
    ModelPackageDescription? Package = null,
    ChampionScoring? Scoring = null)
{
    [JsonIgnore] public IReadOnlyDictionary<string, string> Metadata => Package?.CustomerMetadataProperties ?? new Dictionary<string, string>();

    /// <summary>The first container's model artifact, null when the package has none.</summary>
    [JsonIgnore] public string? ModelDataUrl => Package?.InferenceSpecification?.Containers is [var first, ..] ? first.ModelDataUrl : null;
}

/// <summary>The part of DescribeModelPackage's response the gate reads (PascalCase, as SageMaker returns it; all optional there).</summary>
public sealed record ModelPackageDescription(
    [property: JsonPropertyName("CustomerMetadataProperties")] IReadOnlyDictionary<string, string>? CustomerMetadataProperties = null,
    [property: JsonPropertyName("InferenceSpecification")] ModelPackageInference? InferenceSpecification = null);

public sealed record ModelPackageInference([property: JsonPropertyName("Containers")] IReadOnlyList<ModelPackageContainer>? Containers = null);

public sealed record ModelPackageContainer(
    [property: JsonPropertyName("Image")] string? Image = null,
    [property: JsonPropertyName("ModelDataUrl")] string? ModelDataUrl = null);

/// <summary>
/// The champion's batch transform on this run's test features: <c>scored</c>, or <c>failed</c> with the error and
/// cause the state machine caught (CreateModel refused the model data, or the transform job failed).
/// </summary>
public sealed record ChampionScoring(string Status, string? TransformJobName = null, string? Error = null, string? Cause = null)
{
    public const string Scored = "scored";
    public const string Failed = "failed";
}

public sealed record TrainingReference(string BestTrainingJobName, string ModelArtifactUri);

public enum GateDecision
{
    [JsonStringEnumMemberName("promote")] Promote,
    [JsonStringEnumMemberName("reject")] Reject,
}

/// <summary>Metrics on the test rows; null where the evaluation did not produce a finite value.</summary>
public sealed record MetricSet(double? Wmae, double? Rmse, double? Mae, long? Rows = null);

/// <summary>
/// The champion as the gate saw it. <see cref="Wmae"/>, <see cref="Rmse"/>, <see cref="Mae"/> are its metrics on
/// this run's test rows (<see cref="Rows"/>, the challenger's rows); <see cref="Comparable"/> is false when it could
/// not be scored on them, with <see cref="Reason"/>. <see cref="StoredWmae"/> is the WMAE its package recorded on
/// its own, older test weeks: history, never compared.
/// </summary>
public sealed record ChampionSummary(
    string? ModelPackageArn,
    bool Comparable,
    string? Reason,
    double? Wmae,
    double? Rmse,
    double? Mae,
    long? Rows,
    double? StoredWmae,
    string? FeatureSetVersion);

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
