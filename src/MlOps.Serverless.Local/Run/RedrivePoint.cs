using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Local.Run;

/// <summary>Where a failed local run continues on redrive: read from its <c>history.jsonl</c>.</summary>
/// <param name="State">The top-level state that failed last (a Parallel counts as one state).</param>
/// <param name="Input">The input that state received.</param>
/// <param name="RedriveCount">The redrive about to run (1 for the first).</param>
/// <param name="Definition">The definition to run: the deployed one, where a failed Parallel's branches that
/// succeeded answer their recorded output instead of running again (RedriveExecution redrives only the failed branches).</param>
public sealed record RedrivePoint(string State, JsonNode? Input, int RedriveCount, string Definition)
{
    public static RedrivePoint Read(string runFolder, string runId, string definition)
    {
        var root = JsonNode.Parse(definition)!.AsObject();
        var topLevel = (root["States"] as JsonObject ?? []).Select(p => p.Key).ToHashSet();
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
        var state = (string)failed["state"]!["name"]!;
        var attempt = events.Skip(events.FindLastIndex(e => (string?)e["type"] == "ExecutionRedriven") + 1).ToList();
        KeepSucceededBranches(root["States"]![state]!.AsObject(), attempt);
        return new RedrivePoint(state, failed["state"]!["input"]?.DeepClone(), count, root.ToJsonString());
    }

    /// <summary>A branch whose last state exited in the failed attempt becomes a Pass state with that output.</summary>
    private static void KeepSucceededBranches(JsonObject state, IReadOnlyList<JsonObject> attempt)
    {
        if ((string?)state["Type"] != "Parallel") return;
        foreach (var branch in state["Branches"]!.AsArray().OfType<JsonObject>())
        {
            var states = branch["States"]!.AsObject();
            var ends = states.Where(p => (bool?)p.Value?["End"] == true).Select(p => p.Key).ToHashSet();
            var exited = attempt.LastOrDefault(e => (string?)e["type"] == "StateExited" && ends.Contains((string?)e["state"]?["name"] ?? ""));
            if (exited is null) continue;
            var name = (string)exited["state"]!["name"]!;
            branch["StartAt"] = name;
            branch["States"] = new JsonObject
            {
                [name] = new JsonObject
                {
                    ["Type"] = "Pass",
                    ["Comment"] = "Succeeded before the redrive: its recorded output, not run again.",
                    ["Result"] = exited["state"]!["output"]?.DeepClone(),
                    ["End"] = true,
                },
            };
        }
    }
}
