using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Training.Gate;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>
/// The report's champion/challenger part: challenger, champion and naive on the same test rows (from the gate's
/// output), how the champion was scored (from the run's history), and the champion's stored WMAE as history.
/// </summary>
public static class ChampionSection
{
    /// <param name="gate">The gate's output (<c>decision.gate</c>).</param>
    /// <param name="scoring">The champion's scoring as the gate received it (<c>$.champion.scoring</c>), null if not tried.</param>
    /// <param name="testFeaturesUri">This run's test features, which both models scored.</param>
    public static string Markdown(GateOutput? gate, JsonNode? scoring, string? testFeaturesUri)
    {
        if (gate is null) return "";
        var md = new StringBuilder();
        md.AppendLine("## Champion and challenger on the same test rows").AppendLine();
        var champion = gate.Champion;
        if (champion is null)
        {
            md.AppendLine("No champion yet in the model package group: the thresholds alone decided.").AppendLine();
            return md.ToString();
        }
        var comparable = champion.Comparable;
        var rows = Count(gate.Challenger.Rows);
        md.AppendLine("| model | WMAE | RMSE | MAE | test rows |").AppendLine("| --- | ---: | ---: | ---: | ---: |");
        md.AppendLine(Row("challenger (this run)", gate.Challenger, rows));
        md.AppendLine(comparable
            ? Row($"champion `{champion.ModelPackageArn}`", new MetricSet(champion.Wmae, champion.Rmse, champion.Mae), Count(champion.Rows))
            : $"| champion `{champion.ModelPackageArn}` | not comparable | | | |");
        md.AppendLine(Row("naive (same week last year)", gate.Baseline, rows));
        md.AppendLine();
        if (comparable)
            md.AppendLine($"- The champion was scored on this run's test features `{testFeaturesUri}` by transform job `{scoring?["transformJobName"]}`: " +
                          "the three figures cover exactly the same rows.");
        else
            md.AppendLine($"- The champion is not comparable: {champion.Reason}. The thresholds decided.");
        md.AppendLine($"- The champion's stored WMAE, measured on its own test weeks when it was registered (history, never decides): {RunReport.Number(champion.StoredWmae)}");
        md.AppendLine($"- Feature set: champion `{champion.FeatureSetVersion ?? "not recorded"}`, this run `{gate.ModelPackageProperties?.GetValueOrDefault("featureSetVersion")}`");
        md.AppendLine();
        return md.ToString();
    }

    private static string Row(string model, MetricSet metrics, string rows) =>
        $"| {model} | {RunReport.Number(metrics.Wmae)} | {RunReport.Number(metrics.Rmse)} | {RunReport.Number(metrics.Mae)} | {rows} |";

    private static string Count(long? rows) => rows?.ToString("#,0", CultureInfo.InvariantCulture) ?? "—";
}
