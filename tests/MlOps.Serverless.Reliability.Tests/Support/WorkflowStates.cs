using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Reliability.Tests.Support;

/// <summary>The Task states of statemachines/retraining.asl.json (Parallel branches included) and their Retry clauses.</summary>
public static class WorkflowStates
{
    public sealed record TaskState(string Name, string Resource, IReadOnlyList<string> RetriedErrors, int MaxAttempts, bool HasCatch);

    private static readonly Lazy<IReadOnlyList<TaskState>> All = new(() =>
    {
        var definition = JsonNode.Parse(DefinitionFile.LoadTemplate())!.AsObject();
        var states = new List<TaskState>();
        Walk(definition["States"]!.AsObject(), states);
        return states;
    });

    public static IReadOnlyList<TaskState> TaskStates() => All.Value;

    public static TaskState Get(string name) => All.Value.Single(s => s.Name == name);

    private static void Walk(JsonObject states, List<TaskState> into)
    {
        foreach (var (name, node) in states)
        {
            var state = node!.AsObject();
            switch ((string?)state["Type"])
            {
                case "Task":
                    var retry = state["Retry"]?.AsArray() ?? [];
                    into.Add(new TaskState(name, (string)state["Resource"]!,
                        retry.SelectMany(r => r!["ErrorEquals"]!.AsArray().Select(e => (string)e!)).ToList(),
                        retry.Select(r => (int?)r!["MaxAttempts"] ?? 3).DefaultIfEmpty(0).Max(),
                        state["Catch"] is JsonArray { Count: > 0 }));
                    break;
                case "Parallel":
                    foreach (var branch in state["Branches"]!.AsArray()) Walk(branch!["States"]!.AsObject(), into);
                    break;
            }
        }
    }
}
