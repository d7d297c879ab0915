using System.Text.Json.Serialization;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Costs;
using MlOps.Serverless.Core.SageMaker;
using MlOps.Serverless.Core.Storage;

namespace MlOps.Serverless.Core.Runs;

/// <summary>How a run was started.</summary>
public enum TriggerKind
{
    [JsonStringEnumMemberName("schedule")] Schedule,
    [JsonStringEnumMemberName("s3Upload")] S3Upload,
    [JsonStringEnumMemberName("manual")] Manual,
}

/// <summary>
/// The one run request every later state reads (at <c>$.run</c> in the state machine): the output of
/// the prepare-run stage, whatever the trigger was.
/// </summary>
/// <param name="RunId">The execution name (<c>$$.Execution.Name</c>); names every output prefix.</param>
/// <param name="ExecutionArn">The execution ARN (<c>$$.Execution.Id</c>), recorded in MLflow and the registry.</param>
/// <param name="Trigger">Schedule, S3 upload or manual start.</param>
/// <param name="RequestedAt">When the trigger fired (event time or execution start).</param>
/// <param name="Data">The raw-data batch this run reads, with the objects' ETags as its fingerprint.</param>
/// <param name="Config">The effective configuration: defaults ← deployment settings ← run overrides.</param>
/// <param name="Output">Where this run writes.</param>
/// <param name="SageMaker">SageMaker-ready values computed from <paramref name="Config"/> (strings, PascalCase API shapes).</param>
/// <param name="CostEstimate">What the run may cost at list price, estimated before it starts.</param>
public sealed record RunRequest(
    string RunId,
    string ExecutionArn,
    TriggerKind Trigger,
    DateTimeOffset RequestedAt,
    DataLocation Data,
    PipelineConfiguration Config,
    OutputLocations Output,
    SageMakerParameters SageMaker,
    RunCostEstimate? CostEstimate = null)
{
    /// <summary>Where the run's copy of a fingerprinted object is: every stage after PrepareRun reads the copy.</summary>
    public S3Uri InputOf(StoredObject source) => S3Uri.Parse(Output.InputUri + source.Key[Data.Prefix.Length..]);

    /// <summary>The SageMaker states' time limits (<c>$.run.timeouts</c>), derived from <see cref="Config"/>.</summary>
    public TaskTimeouts Timeouts => TaskTimeouts.From(Config);
}

/// <summary>
/// A raw-data batch: <c>s3://{Bucket}/{Prefix}</c> with the folders <c>sales/</c>, <c>features/</c>,
/// <c>stores/</c> and the marker <c>manifest.json</c> (see README "Upload convention").
/// </summary>
/// <param name="Fingerprint">SHA-256 over the sorted (key, ETag, version) triples: same data, same fingerprint.</param>
public sealed record DataLocation(
    string Bucket,
    string Prefix,
    string BatchId,
    IReadOnlyList<StoredObject> Objects,
    string Fingerprint);

/// <summary>
/// This run's output locations. Every URI ends with '/'; each stage writes under its own prefix, an UNLOAD stage in
/// the folder of its attempt (<see cref="AttemptUri"/>), so Athena UNLOAD always meets an empty target.
/// </summary>
public sealed record OutputLocations(
    string Bucket,
    string Prefix,
    string RunUri,
    string QualityUri,
    string FeaturesUri,
    string TrainUri,
    string ValidationUri,
    string TestFeaturesUri,
    string TestLabelsUri,
    string ForecastFeaturesUri,
    string PredictionsUri,
    string ForecastUri,
    string ForecastSalesUri,
    string EvaluationUri,
    string ReportsUri,
    string ModelArtifactsUri,
    string CheckpointUri,
    string ChampionPredictionsUri)
{
    /// <summary>The run's copy of the batch (<c>runs/{runId}/input/</c>), made by PrepareRun from the fingerprinted versions.</summary>
    public string InputUri => RunUri + "input/";

    /// <summary>
    /// The Athena UNLOAD stages (by output member, camelCase as in <c>$.run.output</c>) and where each records the attempt it
    /// wrote. An UNLOAD writes <see cref="AttemptUri"/> of its prefix with <c>$$.Execution.RedriveCount</c>, so a redriven
    /// state meets an empty prefix even after a failed attempt left files; every reader uses the recorded attempt.
    /// </summary>
    public static IReadOnlyDictionary<string, string> UnloadAttemptPaths { get; } = new Dictionary<string, string>
    {
        ["featuresUri"] = "$.features.attempt",
        ["trainUri"] = "$.splits.train.attempt",
        ["validationUri"] = "$.splits.validation.attempt",
        ["testFeaturesUri"] = "$.splits.testFeatures.attempt",
        ["testLabelsUri"] = "$.splits.testLabels.attempt",
        ["forecastFeaturesUri"] = "$.splits.forecastFeatures.attempt",
        ["forecastSalesUri"] = "$.forecastSales.attempt",
    };

    /// <summary>One attempt's folder under a stage prefix: <c>{stageUri}r{attempt}/</c> (attempt = the redrive count).</summary>
    public static string AttemptUri(string stageUri, int attempt) => $"{stageUri}r{attempt}/";

    /// <summary>The layout under <c>s3://{workBucket}/runs/{runId}/</c> and <c>s3://{artifactBucket}/runs/{runId}/</c>.</summary>
    public static OutputLocations For(string workBucket, string artifactBucket, string runId)
    {
        var prefix = $"runs/{runId}/";
        string Work(string stage) => $"s3://{workBucket}/{prefix}{stage}/";
        return new OutputLocations(
            workBucket, prefix, $"s3://{workBucket}/{prefix}",
            Work("quality"), Work("features"), Work("train"), Work("validation"),
            Work("test-features"), Work("test-labels"), Work("forecast-features"),
            Work("predictions"), Work("forecast"), Work("forecast-sales"), Work("evaluation"), Work("reports"),
            $"s3://{artifactBucket}/{prefix}models/", $"s3://{artifactBucket}/{prefix}checkpoints/",
            Work("champion-predictions"));
    }
}
