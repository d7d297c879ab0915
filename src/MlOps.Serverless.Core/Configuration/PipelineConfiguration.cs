using System.Text.Json.Serialization;

namespace MlOps.Serverless.Core.Configuration;

/// <summary>
/// Everything a run can be configured with. Effective values are
/// defaults (<see cref="Defaults"/>) ← deployment settings ← per-run overrides, validated in
/// <see cref="ConfigurationValidator"/>. Property names are the override keys (camelCase, dotted).
/// </summary>
public sealed record PipelineConfiguration
{
    public TrainingSettings Training { get; init; } = new();
    public TuningSettings Tuning { get; init; } = new();
    public SplitSettings Split { get; init; } = new();
    public DataQualitySettings DataQuality { get; init; } = new();
    public GateSettings Gate { get; init; } = new();
    public MlflowSettings Mlflow { get; init; } = new();
    public PredictionSettings Predictions { get; init; } = new();

    public static PipelineConfiguration Defaults { get; } = new();

    /// <summary>The same configuration with its derived defaults written out (what a run request carries).</summary>
    public PipelineConfiguration Resolved() => this with { Tuning = Tuning with { GivenMaxParallelJobs = Tuning.MaxParallelJobs } };
}

/// <summary>SageMaker built-in XGBoost settings, and the hyperparameters of a single (untuned) training job.</summary>
public sealed record TrainingSettings
{
    /// <summary>Built-in XGBoost framework version; its container pins XGBoost 1.7.4.</summary>
    public string XgboostVersion { get; init; } = "1.7-1";
    /// <summary>
    /// Squared error on the scaled label, weighted by the splits' WMAE weights. reg:absoluteerror would match WMAE's
    /// form, but XGBoost 1.7's adaptive leaves ignore eta (each tree jumps to the leaf median): measured worse.
    /// </summary>
    public string Objective { get; init; } = "reg:squarederror";
    public string InstanceType { get; init; } = "ml.m5.xlarge";
    public int InstanceCount { get; init; } = 1;
    public int VolumeSizeGb { get; init; } = 10;
    public bool UseSpotInstances { get; init; } = true;
    public int MaxRuntimeSeconds { get; init; } = 3600;
    /// <summary>Spot: total time including waiting for capacity; must be ≥ MaxRuntimeSeconds.</summary>
    public int MaxWaitSeconds { get; init; } = 7200;
    public int EarlyStoppingRounds { get; init; } = 10;
    public HyperParameters HyperParameters { get; init; } = new();
}

/// <summary>XGBoost hyperparameters, under XGBoost's own names when serialised for SageMaker.</summary>
public sealed record HyperParameters
{
    public int NumRound { get; init; } = 100;
    public int MaxDepth { get; init; } = 8;
    public double Eta { get; init; } = 0.1;
    public double Subsample { get; init; } = 0.8;
    public double ColsampleBytree { get; init; } = 0.8;
    public double Alpha { get; init; } = 1;
    /// <summary>In WMAE weight units (a holiday row weighs 5): 30 keeps leaves from fitting a few noisy weeks (real data: 0.827 → 0.812 × naive).</summary>
    public double MinChildWeight { get; init; } = 30;
    /// <summary>Histogram bins per feature (hist). 64 keeps deep trees' histogram memory a quarter of the
    /// default 256's with no measurable loss here (docs/training.md).</summary>
    public int MaxBin { get; init; } = 64;
}

/// <summary>A tuning range; <see cref="Scaling"/> is SageMaker's ScalingType (Auto, Linear, Logarithmic, ReverseLogarithmic).</summary>
public sealed record IntegerRange(int Min, int Max, string Scaling = "Auto");

/// <inheritdoc cref="IntegerRange"/>
public sealed record ContinuousRange(double Min, double Max, string Scaling = "Auto");

/// <summary>Hyperparameter tuning (the seed's ranges). When disabled, one training job runs instead.</summary>
public sealed record TuningSettings
{
    public bool Enabled { get; init; } = true;
    public string Strategy { get; init; } = "Bayesian";
    public int MaxJobs { get; init; } = 20;

    /// <summary>The value given in settings or overrides; null means the default, min(4, MaxJobs).</summary>
    [JsonPropertyName("maxParallelJobs")]
    public int? GivenMaxParallelJobs { get; init; }

    /// <summary>Trials at once: as given, else min(4, MaxJobs), so <c>tuning.maxJobs=2</c> alone is a valid request.</summary>
    [JsonIgnore]
    public int MaxParallelJobs => GivenMaxParallelJobs ?? Math.Min(4, MaxJobs);
    /// <summary>validation:mae is weighted by the validation split's WMAE weights (holiday 5 / 1), the test metric's form.</summary>
    public string ObjectiveMetric { get; init; } = "validation:mae";
    public string ObjectiveType { get; init; } = "Minimize";
    /// <summary>SageMaker's TrainingJobEarlyStoppingType: Off or Auto.</summary>
    public string EarlyStopping { get; init; } = "Auto";
    public IntegerRange NumRound { get; init; } = new(50, 150);
    public IntegerRange MaxDepth { get; init; } = new(5, 15);
    /// <summary>Searched on a log scale: eta below 0.1, where the good models are, gets 59 % of the draws instead of 18 % (docs/training.md).</summary>
    public ContinuousRange Eta { get; init; } = new(0.01, 0.5, "Logarithmic");
    public ContinuousRange ColsampleBytree { get; init; } = new(0.01, 0.5);
    public ContinuousRange Alpha { get; init; } = new(1, 20);
}

/// <summary>Time-based split: the last <see cref="TestWeeks"/> sales weeks are test, the
/// <see cref="ValidationWeeks"/> before them validation, everything earlier train.</summary>
public sealed record SplitSettings
{
    public int TestWeeks { get; init; } = 26;
    public int ValidationWeeks { get; init; } = 26;
}

/// <summary>Thresholds of the data-quality verdict. Hard rules end the run; warnings are reported.</summary>
public sealed record DataQualitySettings
{
    public long MinSalesRows { get; init; } = 1000;
    public long MaxDuplicateSalesKeys { get; init; } = 0;
    public long MaxUnparsableValues { get; init; } = 0;
    public double MaxSalesWithoutFeaturesRate { get; init; } = 0.0;
    public long MaxStoresWithoutAttributes { get; init; } = 0;
    public double WarnNegativeSalesRate { get; init; } = 0.01;
    public double WarnNullRate { get; init; } = 0.7;
    public int MinSalesWeeks { get; init; } = 60;
}

/// <summary>The business-goal gate: absolute thresholds against the naive baseline, then champion/challenger.</summary>
public sealed record GateSettings
{
    /// <summary>Promote only if challenger WMAE ≤ this × naive (same week last year) WMAE.</summary>
    public double MaxWmaeRatioToNaive { get; init; } = 0.9;
    /// <summary>Relative improvement the challenger needs over the champion's WMAE (0.01 = 1 % better).</summary>
    public double MinImprovementOverChampion { get; init; } = 0.0;
}

public sealed record MlflowSettings
{
    public string ExperimentName { get; init; } = "retail-weekly-sales";
    public string RegisteredModelName { get; init; } = "retail-weekly-sales";
    public string ChampionAlias { get; init; } = "champion";
}

public sealed record PredictionSettings
{
    public bool BatchPredictions { get; init; } = true;
    public bool UpdateEndpoint { get; init; } = false;
    public string TransformInstanceType { get; init; } = "ml.m5.large";
    /// <summary>Used when <see cref="UpdateEndpoint"/> is on; the endpoint itself is deployed by the CDK app.</summary>
    public string EndpointInstanceType { get; init; } = "ml.m5.large";
}
