using System.Globalization;
using MlOps.Serverless.Training.XGBoost;

namespace MlOps.Serverless.Training.Jobs;

/// <summary>Metrics of one boosting round, keyed the way SageMaker names them (<c>train:rmse</c>, <c>validation:rmse</c>).</summary>
public sealed record RoundMetrics(int Round, IReadOnlyDictionary<string, double> Values);

/// <summary>
/// A finished training run. <see cref="Model"/> holds rounds [0, <see cref="BestIteration"/>] only, so
/// whoever loads <c>xgboost-model</c> predicts with the early-stopped best model whatever their defaults.
/// </summary>
public sealed record TrainingOutcome(
    Booster Model,
    IReadOnlyList<RoundMetrics> Curve,
    int RoundsTrained,
    int BestIteration,
    bool StoppedEarly,
    IReadOnlyDictionary<string, double> FinalMetrics) : IDisposable
{
    public void Dispose() => Model.Dispose();
}

/// <summary>
/// The training loop of SageMaker's XGBoost container on the local C library: one
/// <c>XGBoosterUpdateOneIter</c> per round, <c>train-*</c> and <c>validation-*</c> metrics every round,
/// early stopping on the tuning objective when SageMaker's tuner set one, else on the last metric of the
/// validation set (as xgboost.train does).
/// </summary>
public static class XgboostTrainer
{
    private static readonly string[] MaximizedMetrics = ["auc", "aucpr", "map", "ndcg", "pre"];

    /// <param name="threads">XGBoost's nthread for this job; the caller divides the cores between parallel jobs.</param>
    /// <param name="cancellationToken">Checked before every round: a stopped job ends within one round.</param>
    public static TrainingOutcome Train(XgboostHyperParameters hyperParameters, DMatrix train, DMatrix? validation, int threads, Action<string>? log = null,
        CancellationToken cancellationToken = default)
    {
        using var booster = validation is null ? Booster.Create(train) : Booster.Create(train, validation);
        foreach (var (name, value) in hyperParameters.BoosterParameters)
            if (name != "eval_metric") booster.SetParam(name, value);
        // XGBoost takes one metric per call; repeated calls accumulate.
        foreach (var metric in hyperParameters.EvalMetrics) booster.SetParam("eval_metric", metric);
        booster.SetParam("nthread", threads.ToString(CultureInfo.InvariantCulture));

        var sets = validation is null ? new[] { ("train", train) } : new[] { ("train", train), ("validation", validation) };
        var early = validation is null ? null : hyperParameters.EarlyStoppingRounds;
        var curve = new List<RoundMetrics>(hyperParameters.NumRound);
        string? stoppingMetric = null;
        var maximize = false;
        var best = double.NaN;
        var bestRound = 0;
        var stoppedEarly = false;

        for (var round = 0; round < hyperParameters.NumRound; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            booster.UpdateOneIteration(round, train);
            var line = booster.EvaluateOneIteration(round, sets);
            log?.Invoke(line.Replace("\t", "#011", StringComparison.Ordinal)); // the container's log line
            var metrics = ParseEvaluation(line);
            curve.Add(new RoundMetrics(round, metrics));

            stoppingMetric ??= hyperParameters.EarlyStoppingMetric is { } objective && metrics.ContainsKey(objective)
                ? objective
                : metrics.Keys.LastOrDefault(k => k.StartsWith(validation is null ? "train:" : "validation:", StringComparison.Ordinal));
            if (stoppingMetric is null) continue;
            maximize = MaximizedMetrics.Any(m => stoppingMetric[(stoppingMetric.IndexOf(':') + 1)..].StartsWith(m, StringComparison.Ordinal));
            var score = metrics[stoppingMetric];
            if (double.IsNaN(best) || (maximize ? score > best : score < best))
            {
                best = score;
                bestRound = round;
            }
            else if (early is { } patience && round - bestRound >= patience)
            {
                stoppedEarly = true;
                break;
            }
        }

        // Without a validation set there is nothing to select on: keep every round, as the container does.
        var keep = early is null ? curve.Count - 1 : bestRound;
        var model = booster.Slice(keep + 1);
        model.SetAttribute("best_iteration", keep.ToString(CultureInfo.InvariantCulture));
        if (!double.IsNaN(best)) model.SetAttribute("best_score", best.ToString("R", CultureInfo.InvariantCulture));
        return new TrainingOutcome(model, curve, curve.Count, keep, stoppedEarly, curve[keep].Values);
    }

    /// <summary>
    /// Builds the hist quantisation of a shared <paramref name="train"/> matrix once (one boosting round,
    /// thrown away). XGBoost 1.7 creates it lazily on first use without a lock, so trials that share the
    /// matrix may only run concurrently after this.
    /// </summary>
    public static void PrepareSharedMatrix(XgboostHyperParameters hyperParameters, DMatrix train, int threads)
    {
        using var booster = Booster.Create(train);
        foreach (var (name, value) in hyperParameters.BoosterParameters)
            if (name != "eval_metric") booster.SetParam(name, value);
        booster.SetParam("nthread", threads.ToString(CultureInfo.InvariantCulture));
        booster.UpdateOneIteration(0, train);
    }

    /// <summary>Parses <c>[3]\ttrain-rmse:1.25\tvalidation-rmse:1.5</c> into <c>train:rmse</c> = 1.25, ...</summary>
    public static IReadOnlyDictionary<string, double> ParseEvaluation(string line)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in line.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.StartsWith('[')) continue;
            var colon = part.LastIndexOf(':');
            var dash = part.IndexOf('-');
            if (colon < 0 || dash < 0 || dash > colon) continue;
            if (double.TryParse(part.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                metrics[$"{part[..dash]}:{part[(dash + 1)..colon]}"] = value;
        }
        return metrics;
    }
}
