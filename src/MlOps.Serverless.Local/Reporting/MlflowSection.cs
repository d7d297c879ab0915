using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Run;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>
/// What a run's MLflow logging did, for the CLI and report.md: per action, the parent run and its URL when
/// logged, or the deferral reason; when anything was deferred, the exact command that replays it.
/// </summary>
public static class MlflowSection
{
    private static readonly string[] Actions = ["training", "evaluation", "promotion"];
    private static readonly string[] LoggingStates = ["LogTraining", "LogEvaluation", "LogPromotion"];

    /// <summary>One line per logging action, and the replay command when anything was deferred.</summary>
    public static (IReadOnlyList<string> Lines, string? ReplayCommand) Describe(LocalRunResult result, LocalLayout layout)
    {
        var mlflow = result.Execution.History.LastOrDefault(e => e.Type == "StateExited" && LoggingStates.Contains(e.StateName))?.Output?["mlflow"];
        if (mlflow is null) return ([], null);
        var lines = new List<string>();
        string? outbox = null;
        foreach (var action in Actions)
        {
            if (mlflow[action]?["result"] is not JsonObject r) continue;
            if ((string?)r["status"] == "logged")
            {
                var line = $"MLflow {action}: logged, parent run {r["parentRunId"]}";
                if (r["modelVersion"] is { } version) line += $", model version {version}";
                if (r["championVersion"] is { } champion && champion.ToString() != r["modelVersion"]?.ToString())
                    line += $" (the champion alias stays on version {champion}, promoted later)";
                if (r["runUrl"] is { } url) line += $": {url}";
                lines.Add(line);
            }
            else
            {
                lines.Add($"MLflow {action}: deferred: {r["reason"]}");
                if ((string?)r["outboxUri"] is { } uri) outbox ??= Path.GetDirectoryName(RunReport.LocalPath(layout, uri));
            }
        }
        var command = outbox is null ? null : $"./mlops mlflow replay {outbox} --tracking-uri {result.MlflowTrackingUri ?? "http://127.0.0.1:5000"}";
        return (lines, command);
    }

    /// <summary>The note after the replay command when the run had no tracking server.</summary>
    public static string? ReplayNote(LocalRunResult result) =>
        result.MlflowTrackingUri is null ? "after starting a server, e.g. `mlflow server --port 5000` (docs/mlflow.md)" : null;

    public static string Markdown(LocalRunResult result, LocalLayout layout)
    {
        var (lines, command) = Describe(result, layout);
        if (lines.Count == 0) return "";
        var md = new StringBuilder("## MLflow\n\n");
        foreach (var line in lines) md.Append("- ").Append(line).Append('\n');
        if (command is not null)
            md.Append("- Replay the deferred logging with `").Append(command).Append('`').Append(ReplayNote(result) is { } note ? $" ({note})" : "").Append('\n');
        return md.Append('\n').ToString();
    }
}
