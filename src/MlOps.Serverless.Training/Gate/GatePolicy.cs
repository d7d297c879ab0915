using System.Globalization;
using MlOps.Serverless.Core.Configuration;

namespace MlOps.Serverless.Training.Gate;

/// <summary>The policy's verdict before it is turned into the stage output.</summary>
public sealed record GateVerdict(GateDecision Decision, IReadOnlyList<string> Reasons, MetricSet Challenger, MetricSet Baseline, ChampionSummary? Champion);

/// <summary>
/// Promote a challenger only if (a) its WMAE is at most <see cref="GateSettings.MaxWmaeRatioToNaive"/> × the
/// naive baseline's WMAE on the same rows, and (b) it BEATS the champion's WMAE by at least
/// <see cref="GateSettings.MinImprovementOverChampion"/> (relative; a tie never promotes). Without a
/// comparable champion, (a) alone decides. Any missing or non-finite metric rejects.
/// Champions are compared on WMAE only — the business metric; a champion whose metadata has no
/// recognisable WMAE (older package, only <c>validation:rmse</c>, ...) is "not comparable" and the
/// thresholds decide, with a reason saying so.
/// </summary>
public sealed class GatePolicy(GateSettings settings)
{
    public static readonly string[] RequiredMetrics = ["wmae", "rmse", "mae", "naive_wmae", "naive_rmse", "naive_mae", "rows"];

    // Prefixes under which a champion's WMAE may have been stored by this or earlier pipeline versions.
    private static readonly string[] ChampionKeyPrefixes = ["", "test:", "test_", "test.", "metrics.", "metric.", "evaluation."];

    public GateVerdict Decide(IReadOnlyDictionary<string, string?> evaluation, ChampionReference champion)
    {
        var reasons = new List<string>();
        double? Metric(string name)
        {
            if (!evaluation.TryGetValue(name, out var text) || string.IsNullOrWhiteSpace(text))
            {
                reasons.Add($"metric '{name}' is missing from the evaluation result");
                return null;
            }
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
            {
                reasons.Add($"metric '{name}' is not a finite number ('{text}')");
                return null;
            }
            return value;
        }

        var challenger = new MetricSet(Metric("wmae"), Metric("rmse"), Metric("mae"), Rows(Metric("rows")));
        var baseline = new MetricSet(Metric("naive_wmae"), Metric("naive_rmse"), Metric("naive_mae"));
        if (challenger.Rows is <= 0) reasons.Add($"the evaluation covered {challenger.Rows} rows; at least one test row is needed");
        var championSummary = Champion(champion);

        if (reasons.Count > 0)
        {
            reasons.Insert(0, "cannot judge the challenger: the evaluation is incomplete");
            return new GateVerdict(GateDecision.Reject, reasons, challenger, baseline, championSummary);
        }

        var wmae = challenger.Wmae!.Value;
        var naive = baseline.Wmae!.Value;
        var limit = settings.MaxWmaeRatioToNaive * naive;
        var ratio = naive > 0 ? wmae / naive : double.PositiveInfinity;
        var passesThreshold = wmae <= limit;
        reasons.Add(passesThreshold
            ? $"threshold met: WMAE {F(wmae)} <= {F(settings.MaxWmaeRatioToNaive)} x naive WMAE {F(naive)} = {F(limit)} (ratio {ratio.ToString("0.000", CultureInfo.InvariantCulture)})"
            : $"threshold not met: WMAE {F(wmae)} > {F(settings.MaxWmaeRatioToNaive)} x naive WMAE {F(naive)} = {F(limit)} (ratio {ratio.ToString("0.000", CultureInfo.InvariantCulture)})");

        var beatsChampion = true;
        if (!champion.Found)
        {
            reasons.Add("no champion yet: the thresholds alone decide");
        }
        else if (championSummary is not { Comparable: true, Wmae: { } championWmae })
        {
            reasons.Add($"champion {champion.ModelPackageArn} has no comparable WMAE in its metadata " +
                        $"(keys: {string.Join(", ", champion.CustomerMetadataProperties?.Keys.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>())}); the thresholds alone decide");
        }
        else
        {
            var needed = championWmae * (1 - settings.MinImprovementOverChampion);
            beatsChampion = wmae < needed;
            var margin = settings.MinImprovementOverChampion.ToString("0.###%", CultureInfo.InvariantCulture);
            reasons.Add(beatsChampion
                ? $"beats the champion: WMAE {F(wmae)} < {F(needed)} (champion WMAE {F(championWmae)} improved by {margin})"
                : $"does not beat the champion: WMAE {F(wmae)} is not below {F(needed)} (champion WMAE {F(championWmae)} improved by {margin})");
        }

        var decision = passesThreshold && beatsChampion ? GateDecision.Promote : GateDecision.Reject;
        return new GateVerdict(decision, reasons, challenger, baseline, championSummary);
    }

    /// <summary>Finds the champion's WMAE under this pipeline's key (<c>wmae</c>) or a known variant, case-insensitively.</summary>
    public static ChampionSummary? Champion(ChampionReference champion)
    {
        if (!champion.Found) return null;
        foreach (var prefix in ChampionKeyPrefixes)
        {
            foreach (var (key, value) in champion.CustomerMetadataProperties ?? new Dictionary<string, string>())
            {
                if (!key.Equals(prefix + "wmae", StringComparison.OrdinalIgnoreCase)) continue;
                var ok = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var wmae) && double.IsFinite(wmae) && wmae >= 0;
                return new ChampionSummary(champion.ModelPackageArn, ok ? wmae : null, ok, key);
            }
        }
        return new ChampionSummary(champion.ModelPackageArn, null, false, null);
    }

    private static long? Rows(double? rows) => rows is { } r ? (long)r : null;

    internal static string F(double value) => value.ToString("#,0.###", CultureInfo.InvariantCulture);
}
