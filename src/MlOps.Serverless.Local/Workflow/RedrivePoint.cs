using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Local.Workflow;

/// <summary>Where a failed local run continues on redrive: read from its <c>history.jsonl</c>.</summary>
/// <param name="State">The top-level state that failed last (a Parallel counts as one state).</param>
/// <param name="Input">The input that state received.</param>
/// <param name="RedriveCount">The redrive about to run (1 for the first).</param>
public sealed record RedrivePoint(string State, JsonNode? Input, int RedriveCount)
{
    public static RedrivePoint Read(string runFolder, string runId, string definition)
    {
        var topLevel = (JsonNode.Parse(definition)!["States"] as JsonObject ?? []).Select(p => p.Key).ToHashSet();
        var path = Path.Combine(runFolder, "history.jsonl");
        if (!File.Exists(path)) throw new ExecutionNotRedrivable($"Run {runId} has no history ({path}): nothing to redrive.");
        var events = File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l) as JsonObject).OfType<JsonObject>().ToList();
        var last = events.LastOrDefault(e => (string?)e["type"] is "ExecutionSucceeded" or "ExecutionFailed" or "ExecutionRedriven");
        if ((string?)last?["type"] != "ExecutionFailed")
            throw new ExecutionNotRedrivable($"Run {runId} did not fail (its last execution event is {(string?)last?["type"] ?? "none"}); only a failed run can be redriven.");
        // A Parallel branch's states report their failures before the Parallel's own.
        var failed = events.LastOrDefault(e => (string?)e["type"] == "StateFailed" && topLevel.Contains((string?)e["state"]?["name"] ?? ""));
        if (failed is null) throw new ExecutionNotRedrivable($"Run {runId} failed before any state ran: start a new run instead.");
        var count = events.Count(e => (string?)e["type"] == "ExecutionRedriven") + 1;
        return new RedrivePoint((string)failed["state"]!["name"]!, failed["state"]!["input"]?.DeepClone(), count);
    }
}
