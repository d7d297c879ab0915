using System.Text.Json.Nodes;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Local.Runner;

/// <summary>
/// A local execution's recorded events in the shape Step Functions' <c>GetExecutionHistory</c> answers an <c>aws-sdk</c>
/// integration: numbered events, each linked to the one before it in its state (<c>PreviousEventId</c>), with
/// AWS's event types and details (PascalCase members). As in AWS, a retried Task state is entered once and fails
/// once per attempt, and a state's failure links to that state's earlier events.
/// </summary>
public static class ExecutionHistory
{
    /// <param name="resources">Each Task state's Resource (for <c>TaskFailedEventDetails</c>); unknown ones are named "unknown".</param>
    /// <param name="includeData">False leaves out state and execution input and output, as <c>IncludeExecutionData: false</c> does.</param>
    // Long on purpose: one flat table from interpreter events to AWS history events, sharing the id chain and per-state links.
    public static JsonArray ToSdkEvents(ExecutionResult execution, IReadOnlyDictionary<string, string>? resources = null, bool includeData = true)
    {
        var events = new JsonArray();
        var lastOfState = new Dictionary<string, long>(StringComparer.Ordinal);
        var retrying = new HashSet<string>(StringComparer.Ordinal);
        long id = 0;
        var terminated = false;

        void Add(string type, DateTimeOffset timestamp, long previous, string? detailsName = null, JsonObject? details = null)
        {
            var e = new JsonObject { ["Timestamp"] = timestamp.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"), ["Type"] = type, ["Id"] = ++id, ["PreviousEventId"] = previous };
            if (detailsName is not null) e[detailsName] = details;
            events.Add(e);
        }
        string? Data(JsonNode? node) => includeData && node is not null ? node.ToJsonString() : null;

        foreach (var e in execution.History)
        {
            var state = e.StateName;
            switch (e.Type)
            {
                case "ExecutionStarted":
                    Add("ExecutionStarted", e.Timestamp, 0, "ExecutionStartedEventDetails", Details(("Input", Data(e.Raw?["input"]))));
                    break;
                case "StateEntered" when state is not null:
                    if (retrying.Remove(state)) break; // a retry is a new attempt of the same state, not a new entry
                    Add($"{e.StateType}StateEntered", e.Timestamp, id, "StateEnteredEventDetails", Details(("Name", state), ("Input", Data(e.Input))));
                    lastOfState[state] = id;
                    break;
                case "StateFailed" when state is not null && e.StateType is "Task":
                    var (resourceType, resource) = Split(resources?.GetValueOrDefault(state));
                    Add("TaskFailed", e.Timestamp, lastOfState.GetValueOrDefault(state), "TaskFailedEventDetails",
                        Details(("ResourceType", resourceType), ("Resource", resource), ("Error", e.Error), ("Cause", e.Cause)));
                    lastOfState[state] = id;
                    break;
                case "StateFailed" when state is not null && e.StateType is "Parallel" or "Map":
                    Add($"{e.StateType}StateFailed", e.Timestamp, lastOfState.GetValueOrDefault(state));
                    lastOfState[state] = id;
                    break;
                case "StateRetried" when state is not null:
                    retrying.Add(state);
                    break;
                case "StateExited" when state is not null && e.StateType is not "Fail":
                    Add($"{e.StateType}StateExited", e.Timestamp, lastOfState.GetValueOrDefault(state, id), "StateExitedEventDetails",
                        Details(("Name", state), ("Output", Data(e.Output))));
                    lastOfState[state] = id;
                    break;
                case "ExecutionSucceeded":
                    Add("ExecutionSucceeded", e.Timestamp, id, "ExecutionSucceededEventDetails", Details(("Output", Data(e.Output))));
                    terminated = true;
                    break;
                case "ExecutionFailed":
                    Add("ExecutionFailed", e.Timestamp, id, "ExecutionFailedEventDetails", Details(("Error", e.Error), ("Cause", e.Cause)));
                    terminated = true;
                    break;
                case "ExecutionAborted":
                    Add("ExecutionAborted", e.Timestamp, id, "ExecutionAbortedEventDetails", new JsonObject());
                    terminated = true;
                    break;
                case "ExecutionTimeout":
                    Add("ExecutionTimedOut", e.Timestamp, id, "ExecutionTimedOutEventDetails", new JsonObject());
                    terminated = true;
                    break;
            }
        }
        // The interpreter reports some ends only in its result (a stop, a failure before any state ran).
        if (!terminated && execution.Status is "FAILED" or "TIMED_OUT" or "ABORTED" or "SUCCEEDED")
        {
            var at = execution.History.Count > 0 ? execution.History[^1].Timestamp : DateTimeOffset.UtcNow;
            switch (execution.Status)
            {
                case "FAILED":
                    Add("ExecutionFailed", at, id, "ExecutionFailedEventDetails", Details(("Error", execution.Error), ("Cause", execution.Cause)));
                    break;
                case "TIMED_OUT":
                    Add("ExecutionTimedOut", at, id, "ExecutionTimedOutEventDetails", new JsonObject());
                    break;
                case "ABORTED":
                    Add("ExecutionAborted", at, id, "ExecutionAbortedEventDetails", new JsonObject());
                    break;
                default:
                    Add("ExecutionSucceeded", at, id, "ExecutionSucceededEventDetails", Details(("Output", Data(execution.Output))));
                    break;
            }
        }
        return events;
    }

    /// <summary>Every Task state's Resource, by state name (Parallel branches and Map processors included).</summary>
    public static IReadOnlyDictionary<string, string> TaskResources(string definition) =>
        AslStates.TaskResources(definition).GroupBy(t => t.State).ToDictionary(g => g.Key, g => g.Last().Resource, StringComparer.Ordinal);

    /// <summary><c>arn:aws:states:::athena:startQueryExecution.sync</c> is resource type "athena", resource "startQueryExecution.sync".</summary>
    private static (string Type, string Resource) Split(string? resource)
    {
        const string prefix = "arn:aws:states:::";
        if (resource is null || !resource.StartsWith(prefix, StringComparison.Ordinal)) return ("unknown", "unknown");
        var rest = resource[prefix.Length..];
        var colon = rest.LastIndexOf(':');
        return colon < 0 ? ("unknown", rest) : (rest[..colon], rest[(colon + 1)..]);
    }

    private static JsonObject Details(params (string Name, string? Value)[] members)
    {
        var details = new JsonObject();
        foreach (var (name, value) in members)
            if (value is not null) details[name] = value;
        return details;
    }
}

/// <summary>Local mode's failures, read by the same formatter as the deployed notifier's.</summary>
public static class RunFailureOfExecution
{
    extension(RunFailure)
    {
        /// <summary>The failure of a local execution, or null for one that did not fail.</summary>
        /// <remarks>A local stop carries the interpreter's placeholder error and cause, not a caller's: left out.</remarks>
        public static RunFailure? From(ExecutionResult execution) =>
            execution.Status == "ABORTED"
                ? RunFailure.FromHistory(execution.Status, null, null, ExecutionHistory.ToSdkEvents(execution, includeData: false))
                : RunFailure.FromHistory(execution.Status, execution.Error, execution.Cause, ExecutionHistory.ToSdkEvents(execution, includeData: false));
    }
}
