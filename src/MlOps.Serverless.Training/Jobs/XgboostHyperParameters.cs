using System.Globalization;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Training.Jobs;

/// <summary>A hyperparameter map that SageMaker's XGBoost container would reject.</summary>
public sealed class InvalidHyperParameters(string message) : WorkflowError(message);

/// <summary>
/// SageMaker XGBoost hyperparameters (all strings, XGBoost's names), split the way the 1.7-1 container
/// splits them: <c>num_round</c> and <c>early_stopping_rounds</c> drive the training loop, the
/// container-only keys are dropped, everything else goes to XGBoost as a booster parameter.
/// </summary>
/// <param name="EarlyStoppingMetric">
/// <c>_tuning_objective_metric</c> (e.g. <c>validation:rmse</c>), which SageMaker adds to a tuning job's training
/// jobs; the container then stops early on that metric instead of the last one evaluated.
/// </param>
public sealed record XgboostHyperParameters(int NumRound, int? EarlyStoppingRounds, IReadOnlyDictionary<string, string> BoosterParameters,
    string? EarlyStoppingMetric = null)
{
    /// <summary>The hyperparameter SageMaker's tuner sets on each training job it launches.</summary>
    public const string TuningObjectiveMetric = "_tuning_objective_metric";

    /// <summary>The container's <c>csv_weights=1</c>: the CSV column after the label is the instance weight.</summary>
    public bool CsvWeights { get; init; }

    /// <summary>The evaluation metrics, in order: <c>eval_metric</c> may list several, comma-separated, as the container accepts.</summary>
    public IReadOnlyList<string> EvalMetrics =>
        BoosterParameters.TryGetValue("eval_metric", out var list)
            ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : [];

    // Keys the container consumes itself rather than handing to XGBoost.
    private static readonly HashSet<string> ContainerOnly = new(StringComparer.Ordinal)
    {
        "num_round", "early_stopping_rounds", "csv_weights", "save_model_on_termination",
        "_kfold", "_num_cv_round", "_tuning_objective_metric", "checkpoint_frequency",
    };

    /// <summary>Defaults this trainer adds when the request leaves them out (the container's tree method is also hist here).</summary>
    private static readonly Dictionary<string, string> Defaults = new(StringComparer.Ordinal)
    {
        ["tree_method"] = "hist",
        ["objective"] = "reg:squarederror",
        ["eval_metric"] = "rmse",
        ["verbosity"] = "0",
    };

    public static XgboostHyperParameters Parse(IReadOnlyDictionary<string, string> hyperParameters, string where = "HyperParameters")
    {
        if (!hyperParameters.TryGetValue("num_round", out var numRoundText))
            throw new InvalidHyperParameters($"{where}.num_round is required by SageMaker's XGBoost algorithm.");
        var numRound = PositiveInt(numRoundText, $"{where}.num_round");
        int? early = hyperParameters.TryGetValue("early_stopping_rounds", out var e) ? PositiveInt(e, $"{where}.early_stopping_rounds") : null;

        var booster = new SortedDictionary<string, string>(Defaults, StringComparer.Ordinal);
        foreach (var (key, value) in hyperParameters)
        {
            if (ContainerOnly.Contains(key)) continue;
            if (key is "nthread" or "n_jobs") continue; // threads are the host's decision, see XgboostTrainer
            booster[key] = value;
        }
        var metric = hyperParameters.TryGetValue(TuningObjectiveMetric, out var m) && m.Length > 0 ? m : null;
        var weights = hyperParameters.TryGetValue("csv_weights", out var w) ? w.Trim() : "0";
        if (weights is not ("0" or "1")) throw new InvalidHyperParameters($"{where}.csv_weights must be 0 or 1, got '{weights}'.");
        return new XgboostHyperParameters(numRound, early, booster, metric) { CsvWeights = weights == "1" };
    }

    private static int PositiveInt(string text, string field)
    {
        // SageMaker tuning renders integer hyperparameters as plain integers; accept "50.0" too, as the container does.
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value >= 1 && value == Math.Floor(value) && value <= int.MaxValue)
            return (int)value;
        throw new InvalidHyperParameters($"{field} must be a positive integer, got '{text}'.");
    }
}
