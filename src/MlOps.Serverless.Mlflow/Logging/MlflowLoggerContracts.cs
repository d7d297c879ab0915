using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MlOps.Serverless.Core.Runs;

namespace MlOps.Serverless.Mlflow.Logging;

/// <summary>What the MlflowLogger stage is asked to record.</summary>
public enum MlflowLoggerAction
{
    [JsonStringEnumMemberName("training")] Training,
    [JsonStringEnumMemberName("evaluation")] Evaluation,
    [JsonStringEnumMemberName("promotion")] Promotion,
}

/// <summary>
/// The stage input (camelCase, our contract). The SageMaker parts keep SageMaker's PascalCase shapes
/// exactly as the state machine's integrations return them. Unknown properties are kept
/// (<see cref="Extra"/>) so that an outbox copy of the input loses nothing.
/// </summary>
/// <param name="TuningJobConfig">The HyperParameterTuningJobConfig the tuning job was created with (the Describe result the
/// state machine keeps does not hold it); logged as <c>tuning.*</c> params when a tuning job ran.</param>
public sealed record MlflowLoggerInput(
    MlflowLoggerAction Action,
    RunRequest Run,
    TrainingResult? Training = null,
    EvaluationResult? Evaluation = null,
    PromotionRequest? Promotion = null,
    TuningJobConfig? TuningJobConfig = null)
{
    // Settable, not init: source generation cannot bind extension data through the constructor path.
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>The tuning (or single training) result: SageMaker's Describe*/List* shapes.</summary>
/// <param name="TuningJob">DescribeHyperParameterTuningJob; null when a single training job ran.</param>
/// <param name="TrainingJobs">ListTrainingJobsForHyperParameterTuningJob's TrainingJobSummaries.</param>
/// <param name="BestTrainingJob">DescribeTrainingJob of the best (or only) job.</param>
/// <param name="CurvesUri">Optional prefix holding <c>{TrainingJobName}.json</c> per-round curves (see docs/mlflow.md).</param>
public sealed record TrainingResult(
    TuningJobDescription? TuningJob = null,
    IReadOnlyList<TrainingJobSummary>? TrainingJobs = null,
    TrainingJobDescription? BestTrainingJob = null,
    string? CurvesUri = null);

/// <summary>The subset of DescribeHyperParameterTuningJob that is logged.</summary>
public sealed record TuningJobDescription(
    [property: JsonPropertyName("HyperParameterTuningJobName")] string HyperParameterTuningJobName,
    [property: JsonPropertyName("HyperParameterTuningJobArn")] string? HyperParameterTuningJobArn = null,
    [property: JsonPropertyName("HyperParameterTuningJobStatus")] string? HyperParameterTuningJobStatus = null,
    [property: JsonPropertyName("HyperParameterTuningJobConfig")] TuningJobConfig? HyperParameterTuningJobConfig = null,
    [property: JsonPropertyName("BestTrainingJob")] TrainingJobSummary? BestTrainingJob = null,
    [property: JsonPropertyName("CreationTime"), JsonConverter(typeof(AwsTimestampConverter))] DateTimeOffset? CreationTime = null,
    [property: JsonPropertyName("HyperParameterTuningEndTime"), JsonConverter(typeof(AwsTimestampConverter))] DateTimeOffset? HyperParameterTuningEndTime = null);

public sealed record TuningJobConfig(
    [property: JsonPropertyName("Strategy")] string? Strategy = null,
    [property: JsonPropertyName("HyperParameterTuningJobObjective")] TuningObjective? HyperParameterTuningJobObjective = null,
    [property: JsonPropertyName("ResourceLimits")] TuningResourceLimits? ResourceLimits = null,
    [property: JsonPropertyName("TrainingJobEarlyStoppingType")] string? TrainingJobEarlyStoppingType = null,
    [property: JsonPropertyName("ParameterRanges")] TuningParameterRanges? ParameterRanges = null);

public sealed record TuningParameterRanges(
    [property: JsonPropertyName("IntegerParameterRanges")] IReadOnlyList<TuningParameterRange>? IntegerParameterRanges = null,
    [property: JsonPropertyName("ContinuousParameterRanges")] IReadOnlyList<TuningParameterRange>? ContinuousParameterRanges = null,
    [property: JsonPropertyName("CategoricalParameterRanges")] IReadOnlyList<TuningParameterRange>? CategoricalParameterRanges = null);

/// <summary>One range of ParameterRanges (integer and continuous: min/max/scaling; categorical: values).</summary>
public sealed record TuningParameterRange(
    [property: JsonPropertyName("Name")] string Name,
    [property: JsonPropertyName("MinValue")] string? MinValue = null,
    [property: JsonPropertyName("MaxValue")] string? MaxValue = null,
    [property: JsonPropertyName("ScalingType")] string? ScalingType = null,
    [property: JsonPropertyName("Values")] IReadOnlyList<string>? Values = null);

public sealed record TuningObjective(
    [property: JsonPropertyName("Type")] string? Type = null,
    [property: JsonPropertyName("MetricName")] string? MetricName = null);

public sealed record TuningResourceLimits(
    [property: JsonPropertyName("MaxNumberOfTrainingJobs")] int? MaxNumberOfTrainingJobs = null,
    [property: JsonPropertyName("MaxParallelTrainingJobs")] int? MaxParallelTrainingJobs = null);

/// <summary>One item of TrainingJobSummaries (also the tuning job's BestTrainingJob).</summary>
public sealed record TrainingJobSummary(
    [property: JsonPropertyName("TrainingJobName")] string TrainingJobName,
    [property: JsonPropertyName("TrainingJobArn")] string? TrainingJobArn = null,
    [property: JsonPropertyName("TrainingJobStatus")] string? TrainingJobStatus = null,
    [property: JsonPropertyName("TunedHyperParameters")] IReadOnlyDictionary<string, string>? TunedHyperParameters = null,
    [property: JsonPropertyName("FinalHyperParameterTuningJobObjectiveMetric")] ObjectiveMetricValue? FinalHyperParameterTuningJobObjectiveMetric = null,
    [property: JsonPropertyName("TrainingStartTime"), JsonConverter(typeof(AwsTimestampConverter))] DateTimeOffset? TrainingStartTime = null,
    [property: JsonPropertyName("TrainingEndTime"), JsonConverter(typeof(AwsTimestampConverter))] DateTimeOffset? TrainingEndTime = null,
    [property: JsonPropertyName("CreationTime"), JsonConverter(typeof(AwsTimestampConverter))] DateTimeOffset? CreationTime = null);

public sealed record ObjectiveMetricValue(
    [property: JsonPropertyName("MetricName")] string MetricName,
    [property: JsonPropertyName("Value")] double Value,
    [property: JsonPropertyName("Type")] string? Type = null);

/// <summary>The subset of DescribeTrainingJob that is logged.</summary>
public sealed record TrainingJobDescription(
    [property: JsonPropertyName("TrainingJobName")] string TrainingJobName,
    [property: JsonPropertyName("TrainingJobArn")] string? TrainingJobArn = null,
    [property: JsonPropertyName("TrainingJobStatus")] string? TrainingJobStatus = null,
    [property: JsonPropertyName("HyperParameters")] IReadOnlyDictionary<string, string>? HyperParameters = null,
    [property: JsonPropertyName("FinalMetricDataList")] IReadOnlyList<FinalMetric>? FinalMetricDataList = null,
    [property: JsonPropertyName("ModelArtifacts")] ModelArtifacts? ModelArtifacts = null,
    [property: JsonPropertyName("TrainingStartTime"), JsonConverter(typeof(AwsTimestampConverter))] DateTimeOffset? TrainingStartTime = null,
    [property: JsonPropertyName("TrainingEndTime"), JsonConverter(typeof(AwsTimestampConverter))] DateTimeOffset? TrainingEndTime = null);

public sealed record FinalMetric(
    [property: JsonPropertyName("MetricName")] string MetricName,
    [property: JsonPropertyName("Value")] double Value);

public sealed record ModelArtifacts([property: JsonPropertyName("S3ModelArtifacts")] string S3ModelArtifacts);

/// <summary>The evaluation gate's output: decision, reasons and metric sets (numbers are logged, others ignored).</summary>
public sealed record EvaluationResult(
    string Decision,
    IReadOnlyList<string>? Reasons = null,
    IReadOnlyDictionary<string, JsonElement>? Challenger = null,
    IReadOnlyDictionary<string, JsonElement>? Baseline = null,
    IReadOnlyDictionary<string, JsonElement>? Champion = null)
{
    [JsonExtensionData] public Dictionary<string, JsonElement>? Extra { get; set; }
}

/// <summary>What was promoted: the SageMaker model package and its <c>model.tar.gz</c>.</summary>
/// <param name="PromotedAt">When it was promoted; the MlflowLogger stage stamps it on first sight (so the outbox keeps it).
/// The champion alias only moves to a version promoted later than the one it points at.</param>
public sealed record PromotionRequest(string ModelArtifactUri, string? ModelPackageArn = null, DateTimeOffset? PromotedAt = null);

public enum MlflowLoggerStatus
{
    [JsonStringEnumMemberName("logged")] Logged,
    [JsonStringEnumMemberName("deferred")] Deferred,
}

/// <summary>The stage output. <c>deferred</c> means the input is in the outbox at <see cref="OutboxUri"/> for <c>mlops mlflow replay</c>.</summary>
/// <param name="RunUrl">The parent run in the tracking server's UI.</param>
/// <param name="ChampionVersion">After a promotion: the version the champion alias points at (an older promotion leaves it on a newer one).</param>
public sealed record MlflowLoggerOutput(
    MlflowLoggerStatus Status,
    string? ExperimentId = null,
    string? ParentRunId = null,
    IReadOnlyList<string>? ChildRunIds = null,
    string? ModelVersion = null,
    string? OutboxUri = null,
    string? Reason = null,
    string? RunUrl = null,
    string? ChampionVersion = null);

/// <summary>One deferred stage input, as written to <c>{runUri}mlflow-outbox/{action}.json</c>.</summary>
public sealed record OutboxEntry(int FormatVersion, DateTimeOffset DeferredAt, string Reason, MlflowLoggerInput Input);

/// <summary>
/// SageMaker timestamps as Step Functions hands them over: epoch seconds or milliseconds (numbers) or
/// ISO-8601 strings. Written back as ISO-8601.
/// </summary>
public sealed class AwsTimestampConverter : JsonConverter<DateTimeOffset?>
{
    public override bool HandleNull => true;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null: return null;
            case JsonTokenType.Number:
                var n = reader.GetDouble();
                // Anything above 10^11 cannot be seconds (year 5138), so it is milliseconds.
                return n > 1e11 ? DateTimeOffset.FromUnixTimeMilliseconds((long)n) : DateTimeOffset.FromUnixTimeMilliseconds((long)(n * 1000));
            case JsonTokenType.String:
                var s = reader.GetString()!;
                if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) return parsed;
                if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var num))
                    return num > 1e11 ? DateTimeOffset.FromUnixTimeMilliseconds((long)num) : DateTimeOffset.FromUnixTimeMilliseconds((long)(num * 1000));
                throw new JsonException($"'{s}' is not a timestamp (expected ISO-8601 or epoch seconds/milliseconds)");
            default:
                throw new JsonException($"Expected a timestamp, got {reader.TokenType}");
        }
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is { } v) writer.WriteStringValue(v.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        else writer.WriteNullValue();
    }
}
