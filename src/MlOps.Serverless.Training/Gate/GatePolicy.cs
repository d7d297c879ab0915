using System.Globalization;
using System.Text.Json;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.SageMaker;

namespace MlOps.Serverless.Training.Gate;

/// <summary>The policy's verdict before it is turned into the stage output.</summary>
public sealed record GateVerdict(GateDecision Decision, IReadOnlyList<string> Reasons, MetricSet Challenger, MetricSet Baseline, ChampionSummary? Champion);

/// <summary>
/// Promote a challenger only if (a) its WMAE is at most <see cref="GateSettings.MaxWmaeRatioToNaive"/> × the
/// naive baseline's WMAE on the same rows, and (b) it BEATS the champion's WMAE on those same rows by at least
/// <see cref="GateSettings.MinImprovementOverChampion"/> (relative; a tie never promotes). Without a comparable
/// champion, (a) alone decides. Any missing or non-finite metric rejects.
/// The champion is compared only on this run's test rows (the evaluation query scores challenger, champion and
/// naive together): a champion trained on another feature set, without model data, whose scoring failed, or that
/// did not predict every test row is "not comparable", with the reason, and the thresholds decide. The WMAE its
/// package recorded on its own, older test weeks is shown as history and never decides.
/// </summary>
public sealed class GatePolicy(GateSettings settings)
{
    public GateVerdict Decide(IReadOnlyDictionary<string, string?> evaluation, ChampionReference champion, string? featureSetVersion = null)
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
        var championSummary = Champion(champion, evaluation, challenger.Rows, featureSetVersion);

        if (reasons.Count > 0)
        {
            reasons.Insert(0, "cannot judge the challenger: the evaluation is incomplete");
            return new GateVerdict(GateDecision.Reject, reasons, challenger, baseline, championSummary);
        }

        var wmae = challenger.Wmae!.Value;
        var passesThreshold = PassesThreshold(wmae, baseline.Wmae!.Value, reasons);
        var beatsChampion = BeatsChampion(wmae, champion, championSummary, reasons);
        if (championSummary?.StoredWmae is { } stored)
            reasons.Add($"history only: the champion's package recorded WMAE {F(stored)} on the test weeks of the run that registered it");

        var decision = passesThreshold && beatsChampion ? GateDecision.Promote : GateDecision.Reject;
        return new GateVerdict(decision, reasons, challenger, baseline, championSummary);
    }

    /// <summary>(a): the challenger's WMAE is at most the configured multiple of the naive forecast's.</summary>
    private bool PassesThreshold(double wmae, double naive, List<string> reasons)
    {
        var limit = settings.MaxWmaeRatioToNaive * naive;
        var ratio = naive > 0 ? wmae / naive : double.PositiveInfinity;
        var passesThreshold = wmae <= limit;
        reasons.Add(passesThreshold
            ? $"threshold met: WMAE {F(wmae)} <= {F(settings.MaxWmaeRatioToNaive)} x naive WMAE {F(naive)} = {F(limit)} (ratio {ratio.ToString("0.000", CultureInfo.InvariantCulture)})"
            : $"threshold not met: WMAE {F(wmae)} > {F(settings.MaxWmaeRatioToNaive)} x naive WMAE {F(naive)} = {F(limit)} (ratio {ratio.ToString("0.000", CultureInfo.InvariantCulture)})");
        return passesThreshold;
    }

    /// <summary>(b): true without a comparable champion; otherwise the challenger must beat its WMAE by the configured margin.</summary>
    private bool BeatsChampion(double wmae, ChampionReference champion, ChampionSummary? championSummary, List<string> reasons)
    {
        var beatsChampion = true;
        if (championSummary is null)
        {
            reasons.Add("no champion yet: the thresholds alone decide");
        }
        else if (championSummary is not { Comparable: true, Wmae: { } championWmae })
        {
            reasons.Add($"champion {champion.ModelPackageArn} is not comparable: {championSummary.Reason}; the thresholds alone decide");
        }
        else
        {
            var needed = championWmae * (1 - settings.MinImprovementOverChampion);
            beatsChampion = wmae < needed;
            var margin = settings.MinImprovementOverChampion.ToString("0.###%", CultureInfo.InvariantCulture);
            var rows = $"on the same {championSummary.Rows?.ToString("#,0", CultureInfo.InvariantCulture)} test rows";
            reasons.Add(beatsChampion
                ? $"beats the champion {rows}: WMAE {F(wmae)} < {F(needed)} (champion WMAE {F(championWmae)} improved by {margin})"
                : $"does not beat the champion {rows}: WMAE {F(wmae)} is not below {F(needed)} (champion WMAE {F(championWmae)} improved by {margin})");
        }
        return beatsChampion;
    }

    /// <summary>
    /// The champion on this run's test rows: comparable only when it was trained on this run's feature set, has model
    /// data, was scored without error and predicted every one of the <paramref name="rows"/> the challenger did.
    /// The checks run in the order the state machine decides whether to score it.
    /// </summary>
    public static ChampionSummary? Champion(ChampionReference champion, IReadOnlyDictionary<string, string?> evaluation, long? rows, string? featureSetVersion)
    {
        if (!champion.Found) return null;
        var metadata = champion.Metadata;
        var stored = StoredWmae(metadata);
        var championFeatureSet = metadata.TryGetValue(ModelPackageMetadata.FeatureSetVersion, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;
        ChampionSummary NotComparable(string reason) =>
            new(champion.ModelPackageArn, false, reason, null, null, null, null, stored, championFeatureSet);

        if (championFeatureSet is null)
            return NotComparable($"its package records no feature set ('{ModelPackageMetadata.FeatureSetVersion}'), so it cannot be shown to read this run's features");
        if (featureSetVersion is null)
            return NotComparable("this run's feature set version is unknown");
        if (!string.Equals(championFeatureSet, featureSetVersion, StringComparison.Ordinal))
            return NotComparable($"it was trained on feature set {championFeatureSet}, this run's features are {featureSetVersion}; it cannot score them");
        if (champion.ModelDataUrl is null)
            return NotComparable("its package has no model data (InferenceSpecification.Containers[0].ModelDataUrl)");
        if (champion.Scoring is not { } scoring)
            return NotComparable("it was not scored on this run's test weeks");
        if (scoring.Status != ChampionScoring.Scored)
            return NotComparable($"its model could not be scored on this run's test weeks ({scoring.Error}: {FailureText(scoring.Cause)})");

        var championRows = Number(evaluation, "champion_rows") is { } r ? (long)r : 0;
        if (championRows != rows)
            return NotComparable($"its batch transform predicted {championRows.ToString("#,0", CultureInfo.InvariantCulture)} of the {rows?.ToString("#,0", CultureInfo.InvariantCulture) ?? "?"} test rows");
        var wmae = Number(evaluation, "champion_wmae");
        if (wmae is null)
            return NotComparable("the evaluation has no finite champion WMAE");
        return new ChampionSummary(champion.ModelPackageArn, true, null, wmae, Number(evaluation, "champion_rmse"), Number(evaluation, "champion_mae"),
            championRows, stored, championFeatureSet);
    }

    /// <summary>The WMAE a package recorded at its registration (the gate's <c>wmae</c> key), case-insensitively.</summary>
    private static double? StoredWmae(IReadOnlyDictionary<string, string> metadata)
    {
        foreach (var (key, value) in metadata)
            if (key.Equals("wmae", StringComparison.OrdinalIgnoreCase))
                return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var wmae) && double.IsFinite(wmae) && wmae >= 0 ? wmae : null;
        return null;
    }

    /// <summary>A caught error's cause in plain words: a failed job's FailureReason when the cause is its Describe* JSON, cut to 300 characters.</summary>
    private static string FailureText(string? cause)
    {
        var text = cause ?? "no cause given";
        if (text.TrimStart().StartsWith('{'))
        {
            try
            {
                using var json = JsonDocument.Parse(text);
                if (json.RootElement.TryGetProperty("FailureReason", out var reason) && reason.ValueKind == JsonValueKind.String) text = reason.GetString()!;
                else if (json.RootElement.TryGetProperty("errorMessage", out var message) && message.ValueKind == JsonValueKind.String) text = message.GetString()!;
            }
            catch (JsonException)
            {
                // Not JSON after all: keep the text as it came.
            }
        }
        return text.Length > 300 ? text[..300] + "…" : text;
    }

    private static double? Number(IReadOnlyDictionary<string, string?> evaluation, string name) =>
        evaluation.TryGetValue(name, out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : null;

    private static long? Rows(double? rows) => rows is { } r ? (long)r : null;

    internal static string F(double value) => value.ToString("#,0.###", CultureInfo.InvariantCulture);
}
