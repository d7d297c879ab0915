using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Core.Configuration;

/// <summary>The one place a configuration is checked. Every message names the key and what was expected.</summary>
public static class ConfigurationValidator
{
    public static IReadOnlyList<string> Problems(PipelineConfiguration c)
    {
        var check = new Checks();
        CheckTraining(check, c.Training);
        CheckTuning(check, c.Tuning);
        CheckSplitAndDataQuality(check, c);
        CheckGateMlflowAndPredictions(check, c);
        return check.Problems;
    }

    private static void CheckTraining(Checks check, TrainingSettings t)
    {
        check.Require(SageMaker.XgboostImageUris.Versions.Contains(t.XgboostVersion), "training.xgboostVersion",
            $"a built-in XGBoost version ({string.Join(", ", SageMaker.XgboostImageUris.Versions)})", t.XgboostVersion);
        check.Require(t.Objective is "reg:squarederror" or "reg:absoluteerror" or "reg:pseudohubererror" or "reg:tweedie", "training.objective", "a regression objective (reg:squarederror, reg:absoluteerror, reg:pseudohubererror, reg:tweedie)", t.Objective);
        check.Require(t.InstanceType.StartsWith("ml.", StringComparison.Ordinal), "training.instanceType", "an ml.* instance type", t.InstanceType);
        check.Require(t.InstanceCount is >= 1 and <= 20, "training.instanceCount", "an integer in [1, 20]", t.InstanceCount);
        check.Require(t.VolumeSizeGb is >= 1 and <= 512, "training.volumeSizeGb", "an integer in [1, 512]", t.VolumeSizeGb);
        check.Require(t.MaxRuntimeSeconds is >= 60 and <= 432000, "training.maxRuntimeSeconds", "an integer in [60, 432000]", t.MaxRuntimeSeconds);
        check.Require(!t.UseSpotInstances || t.MaxWaitSeconds >= t.MaxRuntimeSeconds, "training.maxWaitSeconds", "at least training.maxRuntimeSeconds when spot training is on", t.MaxWaitSeconds);
        check.Require(t.EarlyStoppingRounds is >= 0 and <= 1000, "training.earlyStoppingRounds", "an integer in [0, 1000]", t.EarlyStoppingRounds);
        var h = t.HyperParameters;
        check.Require(h.NumRound is >= 1 and <= 10000, "training.hyperParameters.numRound", "an integer in [1, 10000]", h.NumRound);
        check.Require(h.MaxDepth is >= 1 and <= 30, "training.hyperParameters.maxDepth", "an integer in [1, 30]", h.MaxDepth);
        check.Require(h.Eta > 0 && h.Eta <= 1, "training.hyperParameters.eta", "a number in (0, 1]", h.Eta);
        check.Require(h.Subsample > 0 && h.Subsample <= 1, "training.hyperParameters.subsample", "a number in (0, 1]", h.Subsample);
        check.Require(h.ColsampleBytree > 0 && h.ColsampleBytree <= 1, "training.hyperParameters.colsampleBytree", "a number in (0, 1]", h.ColsampleBytree);
        check.Require(h.Alpha >= 0 && double.IsFinite(h.Alpha), "training.hyperParameters.alpha", "a number >= 0", h.Alpha);
        check.Require(h.MaxBin is >= 2 and <= 1024, "training.hyperParameters.maxBin", "an integer in [2, 1024]", h.MaxBin);
        check.Require(h.MinChildWeight >= 0 && double.IsFinite(h.MinChildWeight), "training.hyperParameters.minChildWeight", "a number >= 0", h.MinChildWeight);
    }

    private static void CheckTuning(Checks check, TuningSettings u)
    {
        // SageMaker's Grid strategy takes categorical ranges only; the ranges here are integer and continuous.
        check.Require(u.Strategy is "Bayesian" or "Random" or "Hyperband", "tuning.strategy", "Bayesian, Random or Hyperband (Grid searches categorical ranges only, and these ranges are numeric)", u.Strategy);
        // SageMaker allows 500, but the definition reads the tuning job's training jobs in one
        // ListTrainingJobsForHyperParameterTuningJob page (at most 100), and 500 summaries would pass the 256 KB state limit.
        check.Require(u.MaxJobs is >= 1 and <= 100, "tuning.maxJobs", "an integer in [1, 100] (the training jobs are read in one page of 100)", u.MaxJobs);
        check.Require(u.MaxParallelJobs is >= 1 and <= 100, "tuning.maxParallelJobs", "an integer in [1, 100]", u.MaxParallelJobs);
        check.Require(u.MaxParallelJobs <= u.MaxJobs, "tuning.maxParallelJobs", $"at most tuning.maxJobs ({u.MaxJobs})", u.MaxParallelJobs);
        check.Require(u.ObjectiveMetric is "validation:rmse" or "validation:mae", "tuning.objectiveMetric", "validation:rmse or validation:mae", u.ObjectiveMetric);
        check.Require(u.ObjectiveType is "Minimize", "tuning.objectiveType", "Minimize (both objective metrics are errors)", u.ObjectiveType);
        check.Require(u.EarlyStopping is "Off" or "Auto", "tuning.earlyStopping", "Off or Auto", u.EarlyStopping);
        check.Range(u.NumRound, "tuning.numRound", 1, 10000);
        check.Range(u.MaxDepth, "tuning.maxDepth", 1, 30);
        check.Continuous(u.Eta, "tuning.eta", 0, 1, floorExclusive: true);
        check.Continuous(u.ColsampleBytree, "tuning.colsampleBytree", 0, 1, floorExclusive: true);
        check.Continuous(u.Alpha, "tuning.alpha", 0, 1000, floorExclusive: false);
    }

    private static void CheckSplitAndDataQuality(Checks check, PipelineConfiguration c)
    {
        check.Require(c.Split.TestWeeks is >= 1 and <= 104, "split.testWeeks", "an integer in [1, 104]", c.Split.TestWeeks);
        check.Require(c.Split.ValidationWeeks is >= 1 and <= 104, "split.validationWeeks", "an integer in [1, 104]", c.Split.ValidationWeeks);

        var q = c.DataQuality;
        check.Require(q.MinSalesRows >= 1, "dataQuality.minSalesRows", "an integer >= 1", q.MinSalesRows);
        check.Require(q.MaxDuplicateSalesKeys >= 0, "dataQuality.maxDuplicateSalesKeys", "an integer >= 0", q.MaxDuplicateSalesKeys);
        check.Require(q.MaxUnparsableValues >= 0, "dataQuality.maxUnparsableValues", "an integer >= 0", q.MaxUnparsableValues);
        check.Require(q.MaxSalesWithoutFeaturesRate is >= 0 and <= 1, "dataQuality.maxSalesWithoutFeaturesRate", "a rate in [0, 1]", q.MaxSalesWithoutFeaturesRate);
        check.Require(q.MaxStoresWithoutAttributes >= 0, "dataQuality.maxStoresWithoutAttributes", "an integer >= 0", q.MaxStoresWithoutAttributes);
        check.Require(q.WarnNegativeSalesRate is >= 0 and <= 1, "dataQuality.warnNegativeSalesRate", "a rate in [0, 1]", q.WarnNegativeSalesRate);
        check.Require(q.WarnNullRate is >= 0 and <= 1, "dataQuality.warnNullRate", "a rate in [0, 1]", q.WarnNullRate);
        check.Require(q.MinSalesWeeks >= c.Split.TestWeeks + c.Split.ValidationWeeks + 1, "dataQuality.minSalesWeeks",
            $"more than split.testWeeks + split.validationWeeks ({c.Split.TestWeeks + c.Split.ValidationWeeks}) so that train data remains", q.MinSalesWeeks);
    }

    private static void CheckGateMlflowAndPredictions(Checks check, PipelineConfiguration c)
    {
        check.Require(c.Gate.MaxWmaeRatioToNaive > 0 && c.Gate.MaxWmaeRatioToNaive <= 10, "gate.maxWmaeRatioToNaive", "a number in (0, 10]", c.Gate.MaxWmaeRatioToNaive);
        check.Require(c.Gate.MinImprovementOverChampion is >= 0 and < 1, "gate.minImprovementOverChampion", "a relative margin in [0, 1)", c.Gate.MinImprovementOverChampion);

        check.Require(IsMlflowName(c.Mlflow.ExperimentName), "mlflow.experimentName", "1-250 characters, no leading or trailing space", c.Mlflow.ExperimentName);
        check.Require(IsMlflowName(c.Mlflow.RegisteredModelName), "mlflow.registeredModelName", "1-250 characters, no leading or trailing space", c.Mlflow.RegisteredModelName);
        // MLflow reserves aliases of the form v<number> and "latest".
        check.Require(System.Text.RegularExpressions.Regex.IsMatch(c.Mlflow.ChampionAlias, "^[A-Za-z_][A-Za-z0-9_-]{0,254}$")
                && !System.Text.RegularExpressions.Regex.IsMatch(c.Mlflow.ChampionAlias, "^(v[0-9]+|latest)$"),
            "mlflow.championAlias", "an alias name (letters, digits, _ and -, not v<number>)", c.Mlflow.ChampionAlias);
        check.Require(c.Predictions.TransformInstanceType.StartsWith("ml.", StringComparison.Ordinal), "predictions.transformInstanceType", "an ml.* instance type", c.Predictions.TransformInstanceType);
        check.Require(c.Predictions.EndpointInstanceType.StartsWith("ml.", StringComparison.Ordinal), "predictions.endpointInstanceType", "an ml.* instance type", c.Predictions.EndpointInstanceType);
    }

    /// <summary>Collects one message per failed rule: the key, what was expected, and the value found.</summary>
    private sealed class Checks
    {
        public List<string> Problems { get; } = [];

        public void Require(bool ok, string key, string expected, object actual)
        {
            if (!ok) Problems.Add($"{key}: expected {expected}, got {Convert.ToString(actual, System.Globalization.CultureInfo.InvariantCulture)}");
        }

        // SageMaker's CreateHyperParameterTuningJob rules: a log scale needs positive values (reverse log: fractions, below).
        private void LogScaleNeedsPositiveMin(string scaling, double min, string key) =>
            Require(scaling != "Logarithmic" || min > 0, key + ".min", "a value > 0 with Logarithmic scaling", min);

        public void Range(IntegerRange r, string key, int floor, int ceiling)
        {
            Require(r.Min >= floor && r.Min <= ceiling, key + ".min", $"an integer in [{floor}, {ceiling}]", r.Min);
            Require(r.Max >= floor && r.Max <= ceiling, key + ".max", $"an integer in [{floor}, {ceiling}]", r.Max);
            Require(r.Min <= r.Max, key, "min <= max", $"min {r.Min} > max {r.Max}");
            Require(r.Scaling is "Auto" or "Linear" or "Logarithmic", key + ".scaling", "Auto, Linear or Logarithmic (ReverseLogarithmic is for continuous ranges)", r.Scaling);
            LogScaleNeedsPositiveMin(r.Scaling, r.Min, key);
        }

        public void Continuous(ContinuousRange r, string key, double floor, double ceiling, bool floorExclusive)
        {
            var interval = (floorExclusive ? "(" : "[") + $"{floor}, {ceiling}]";
            bool InRange(double v) => double.IsFinite(v) && (floorExclusive ? v > floor : v >= floor) && v <= ceiling;
            Require(InRange(r.Min), key + ".min", "a number in " + interval, r.Min);
            Require(InRange(r.Max), key + ".max", "a number in " + interval, r.Max);
            Require(r.Min <= r.Max, key, "min <= max", $"min {r.Min} > max {r.Max}");
            Require(r.Scaling is "Auto" or "Linear" or "Logarithmic" or "ReverseLogarithmic", key + ".scaling", "Auto, Linear, Logarithmic or ReverseLogarithmic", r.Scaling);
            LogScaleNeedsPositiveMin(r.Scaling, r.Min, key);
            Require(r.Scaling != "ReverseLogarithmic" || (r.Min >= 0 && r.Max < 1), key, "0 <= min and max < 1 with ReverseLogarithmic scaling", $"min {r.Min}, max {r.Max}");
        }
    }

    /// <summary>Throws <typeparamref name="TError"/> listing every problem, so one failed run reports all of them.</summary>
    public static PipelineConfiguration Validate(PipelineConfiguration configuration, Func<string, Exception> error)
    {
        var problems = Problems(configuration);
        if (problems.Count > 0)
            throw error("Invalid configuration: " + string.Join("; ", problems));
        return configuration;
    }

    private static bool IsMlflowName(string name) => name.Length is > 0 and <= 250 && name.Trim() == name;
}
