using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>The report's tuning and data-quality facts, read from the training and quality states' outputs.</summary>
public static class TuningSummary
{
    /// <summary>
    /// The objective, the trials and how they ended, the best job's objective value and its hyperparameters.
    /// <paramref name="training"/> is CollectTuningResult's or CollectSingleJobResult's <c>$.training</c>; <paramref name="config"/> the run's configuration.
    /// </summary>
    public static string Markdown(JsonNode? training, JsonNode? config)
    {
        var md = new StringBuilder("## Tuning\n\n");
        if (training?["bestTrainingJob"] is not JsonObject best) return md.AppendLine("No training result: the run stopped before training.").AppendLine().ToString();
        var tuning = training["tuningJob"];
        if (tuning is null)
        {
            md.AppendLine($"One training job (tuning off): `{best["TrainingJobName"]}`.");
        }
        else
        {
            var counters = tuning["TrainingJobStatusCounters"] as JsonObject;
            var trials = counters?.Sum(c => c.Value is JsonValue v && v.TryGetValue(out int n) ? n : 0) ?? 0;
            var ended = counters is null ? "" : " (" + string.Join(", ", counters.Where(c => (int?)c.Value > 0).Select(c => $"{c.Key.ToLowerInvariant()} {c.Value}")) + ")";
            var objective = tuning["BestTrainingJob"]?["FinalHyperParameterTuningJobObjectiveMetric"];
            md.AppendLine($"- Objective: {config?["tuning"]?["objectiveType"]?.ToString().ToLowerInvariant()} `{objective?["MetricName"] ?? config?["tuning"]?["objectiveMetric"]}` " +
                          $"on the validation weeks ({config?["tuning"]?["strategy"]} search).");
            md.AppendLine($"- Trials: {trials}{ended}, of at most {config?["tuning"]?["maxJobs"]} ({config?["tuning"]?["maxParallelJobs"]} in parallel).");
            md.AppendLine($"- Best: `{best["TrainingJobName"]}`, objective {Number(objective?["Value"])}.");
        }
        if (best["FinalMetricDataList"] is JsonArray metrics && metrics.Count > 0)
            md.AppendLine("- Final metrics of the best job: " + string.Join(", ", metrics.Select(m => $"`{m?["MetricName"]}` {Number(m?["Value"])}")) + ".");
        if (best["HyperParameters"] is JsonObject hyper)
        {
            md.AppendLine().AppendLine("| hyperparameter | value |").AppendLine("| --- | --- |");
            foreach (var (name, value) in hyper.Where(h => !h.Key.StartsWith('_')).OrderBy(h => h.Key, StringComparer.Ordinal))
                md.AppendLine($"| `{name}` | {value} |");
        }
        return md.AppendLine().ToString();
    }

    /// <summary>Every hard failure and warning of the quality verdict, each with its message in full.</summary>
    public static string QualityMarkdown(JsonNode? quality)
    {
        var md = new StringBuilder("## Data quality\n\n");
        if (quality is null) return md.AppendLine("No verdict: the run stopped before the quality stage.").AppendLine().ToString();
        md.AppendLine($"{quality["summary"]}").AppendLine();
        foreach (var (kind, key) in new[] { ("Hard failure", "hardFailures"), ("Warning", "warnings") })
            foreach (var finding in quality[key]?.AsArray() ?? [])
                md.AppendLine($"- {kind} `{finding?["rule"]}` (measured {finding?["measured"]}, threshold {finding?["threshold"]}): {finding?["message"]}");
        return md.AppendLine().ToString();
    }

    private static string Number(JsonNode? node) => RunReport.Number(node, "0.#####");
}
