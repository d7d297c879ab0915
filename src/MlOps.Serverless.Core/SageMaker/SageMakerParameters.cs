using System.Globalization;
using System.Text.Json.Serialization;
using MlOps.Serverless.Core.Configuration;

namespace MlOps.Serverless.Core.SageMaker;

/// <summary>
/// SageMaker-ready values derived from the configuration (at <c>$.run.sageMaker</c>), so the state
/// machine can pass them straight into CreateHyperParameterTuningJob / CreateTrainingJob. SageMaker
/// wants hyperparameters and range bounds as strings; the nested API shapes are PascalCase.
/// </summary>
public sealed record SageMakerParameters(
    string Image,
    JobNames JobNames,
    IReadOnlyDictionary<string, string> StaticHyperParameters,
    IReadOnlyDictionary<string, string> HyperParameters,
    ParameterRanges ParameterRanges,
    StoppingCondition StoppingCondition,
    string DataDistribution = SageMakerParameters.FullyReplicated)
{
    public const string FullyReplicated = "FullyReplicated";
    /// <summary>Each instance gets its own share of the channel's files: what the built-in XGBoost's distributed training needs.</summary>
    public const string ShardedByS3Key = "ShardedByS3Key";

    /// <param name="uniqueBy">What makes the job names unique (default <paramref name="runId"/>); the run preparation
    /// passes the execution ARN, so two deployments' executions of the same name get different jobs.</param>
    /// <param name="namePrefix">The deployment's prefix, leading every name (the IAM policies are scoped to it).</param>
    public static SageMakerParameters From(PipelineConfiguration config, string region, string runId, string? uniqueBy = null, string? namePrefix = null)
    {
        var t = config.Training;
        var h = t.HyperParameters;
        var tuned = new HashSet<string> { "num_round", "max_depth", "eta", "colsample_bytree", "alpha" };
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["objective"] = t.Objective,
            ["eval_metric"] = EvalMetrics(config.Tuning.ObjectiveMetric),
            ["tree_method"] = "hist",
            // The train/validation splits carry the instance weight (WMAE: holiday 5 / 1) in the second column.
            ["csv_weights"] = "1",
            ["num_round"] = Text(h.NumRound),
            ["max_depth"] = Text(h.MaxDepth),
            ["eta"] = Text(h.Eta),
            ["subsample"] = Text(h.Subsample),
            ["colsample_bytree"] = Text(h.ColsampleBytree),
            ["alpha"] = Text(h.Alpha),
            ["min_child_weight"] = Text(h.MinChildWeight),
            ["max_bin"] = Text(h.MaxBin),
        };
        if (t.EarlyStoppingRounds > 0) all["early_stopping_rounds"] = Text(t.EarlyStoppingRounds);
        var statics = all.Where(p => !tuned.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

        var u = config.Tuning;
        var ranges = new ParameterRanges(
            [Integer("num_round", u.NumRound), Integer("max_depth", u.MaxDepth)],
            [Continuous("eta", u.Eta), Continuous("colsample_bytree", u.ColsampleBytree), Continuous("alpha", u.Alpha)]);

        var stopping = new StoppingCondition(t.MaxRuntimeSeconds, t.UseSpotInstances ? t.MaxWaitSeconds : null);
        return new SageMakerParameters(XgboostImageUris.For(region, t.XgboostVersion), JobNames.For(runId, uniqueBy, namePrefix),
            statics, new Dictionary<string, string>(all, StringComparer.Ordinal), ranges, stopping,
            t.InstanceCount > 1 ? ShardedByS3Key : FullyReplicated);
    }

    /// <summary>
    /// rmse and mae, the tuning objective's metric last: the container early-stops a single training job on the
    /// last validation metric, and a tuning job's trials need the objective among the evaluated metrics.
    /// </summary>
    private static readonly string[] EvalMetricNames = ["rmse", "mae"];

    private static string EvalMetrics(string objectiveMetric)
    {
        var objective = objectiveMetric[(objectiveMetric.IndexOf(':') + 1)..];
        return string.Join(',', EvalMetricNames.Where(m => m != objective).Append(objective));
    }

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);
    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static IntegerParameterRange Integer(string name, IntegerRange range) =>
        new(name, Text(range.Min), Text(range.Max), range.Scaling);

    private static ContinuousParameterRange Continuous(string name, ContinuousRange range) =>
        new(name, Text(range.Min), Text(range.Max), range.Scaling);
}

/// <summary>
/// Deterministic SageMaker resource names for a run: readable, within SageMaker's limits (tuning
/// jobs 32 characters, others 63, <c>[a-zA-Z0-9-]</c>), and unique per run through a hash suffix. SageMaker names
/// are unique per account and region, not per state machine: hashing the execution ARN (which names the state
/// machine) keeps two deployments' same-named executions apart, while a retried state still gets the same names
/// (a redriven one a new attempt suffix, see <see cref="AttemptSuffixLength"/>).
/// The champion's model and transform, which score the current champion on this run's test features, share the
/// <c>model-</c> and <c>eval-</c> prefixes.
/// </summary>
public sealed record JobNames(string Tuning, string Training, string Model, string Transform, string Forecast, string EndpointConfig,
    string ChampionModel, string ChampionTransform)
{
    /// <summary>
    /// Room left for the attempt suffix the definition appends (<c>-r{$$.Execution.RedriveCount}</c>, at most
    /// <c>-r1000</c>: Step Functions redrives an execution up to 1000 times), so a redriven create never meets
    /// the name its failed attempt took.
    /// </summary>
    public const int AttemptSuffixLength = 6;

    /// <summary>The name kinds by SageMaker resource type (a tuning job names the training jobs it starts after itself).</summary>
    public static IReadOnlyDictionary<string, string[]> KindsByResourceType { get; } = new Dictionary<string, string[]>
    {
        ["hyper-parameter-tuning-job"] = ["tune"],
        ["training-job"] = ["train", "tune"],
        ["model"] = ["model"],
        ["transform-job"] = ["eval", "forecast"],
        ["endpoint-config"] = ["epc"],
    };

    /// <summary>The longest deployment prefix a tuning job name (32 characters) leaves room for: prefix, "-tune-", 8-digit hash, attempt suffix.</summary>
    public const int MaxPrefixLength = 32 - 6 - 8 - AttemptSuffixLength;

    /// <summary>The name start of one kind: <c>{namePrefix}-{kind}-</c>, or <c>{kind}-</c> without a prefix.</summary>
    public static string Start(string kind, string? namePrefix) => namePrefix is { Length: > 0 } p ? $"{p}-{kind}-" : $"{kind}-";

    public static JobNames For(string runId, string? uniqueBy = null, string? namePrefix = null)
    {
        var hash = SageMakerNames.Hash(uniqueBy ?? runId);
        var slug = SageMakerNames.Slug(runId);
        string Name(string kind, int limit) => SageMakerNames.Compose(Start(kind, namePrefix)[..^1], slug, hash, limit - AttemptSuffixLength);
        return new JobNames(Name("tune", 32), Name("train", 63), Name("model", 63), Name("eval", 63), Name("forecast", 63), Name("epc", 63),
            Name("model-champion", 63), Name("eval-champion", 63));
    }
}

public sealed record ParameterRanges(
    [property: JsonPropertyName("IntegerParameterRanges")] IReadOnlyList<IntegerParameterRange> IntegerParameterRanges,
    [property: JsonPropertyName("ContinuousParameterRanges")] IReadOnlyList<ContinuousParameterRange> ContinuousParameterRanges);

public sealed record IntegerParameterRange(
    [property: JsonPropertyName("Name")] string Name,
    [property: JsonPropertyName("MinValue")] string MinValue,
    [property: JsonPropertyName("MaxValue")] string MaxValue,
    [property: JsonPropertyName("ScalingType")] string ScalingType = "Auto");

public sealed record ContinuousParameterRange(
    [property: JsonPropertyName("Name")] string Name,
    [property: JsonPropertyName("MinValue")] string MinValue,
    [property: JsonPropertyName("MaxValue")] string MaxValue,
    [property: JsonPropertyName("ScalingType")] string ScalingType = "Auto");

public sealed record StoppingCondition(
    [property: JsonPropertyName("MaxRuntimeInSeconds")] int MaxRuntimeInSeconds,
    [property: JsonPropertyName("MaxWaitTimeInSeconds")] int? MaxWaitTimeInSeconds);
