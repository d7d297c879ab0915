using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MlOps.Serverless.Core.StateMachines;

/// <summary>
/// Why a run failed, in plain words: the state that failed, the error name and the message a person reads, taken out of
/// whatever the cause is (a Lambda error's JSON, Athena's or SageMaker's description of the failed job, or plain text).
/// <see cref="Cause"/> keeps the original for tools. Built from an execution history in the shape Step Functions'
/// <c>GetExecutionHistory</c> answers an <c>aws-sdk</c> integration (PascalCase members): the deployed failure notifier
/// and local mode read the same shape, so both say the same line.
/// </summary>
/// <param name="Status">The execution's status: FAILED, TIMED_OUT or ABORTED.</param>
/// <param name="State">The state that failed (FAILED), or the one running when the execution timed out or was stopped.</param>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Maintainability", "CA1507",
    Justification = "\"Error\", \"Cause\", \"Status\" and \"Message\" here are keys of AWS's history and error JSON, not this record's properties")]
public sealed partial record RunFailure(string Status, string State, string Error, string Message, string? Cause)
{
    /// <summary>Where nothing names a state (an execution that ended before entering one).</summary>
    public const string NoState = "the start of the run";

    /// <summary>The one line the console, the report and the notification show.</summary>
    public string Line => Status switch
    {
        "TIMED_OUT" => $"Timed out at {State}: no state failed; {Message}",
        "ABORTED" => $"Stopped at {State}: no state failed; {Message}",
        _ => $"Failed at {State}: {Error}: {Message}",
    };

    /// <summary>
    /// The failure of an execution that ended <paramref name="status"/>, from its history events (any order; a
    /// <c>ReverseOrder</c> page that reaches the failed state's entered event is enough). <paramref name="error"/> and
    /// <paramref name="cause"/> are the execution's (e.g. from the status-change event); the terminal event's are used
    /// when they are missing. Null for a status that is not a failure.
    /// </summary>
    public static RunFailure? FromHistory(string status, string? error, string? cause, IEnumerable<JsonNode?> events)
    {
        if (status is not ("FAILED" or "TIMED_OUT" or "ABORTED")) return null;
        var history = events.OfType<JsonObject>().Where(e => Id(e) > 0).OrderBy(Id).ToList();
        var byId = history.GroupBy(Id).ToDictionary(g => g.Key, g => g.Last());
        var terminal = history.LastOrDefault(e => Type(e) is "ExecutionFailed" or "ExecutionTimedOut" or "ExecutionAborted");
        var details = terminal is null ? null : Details(terminal);
        error ??= Text(details?["Error"]);
        cause ??= Text(details?["Cause"]);

        var entered = terminal is null ? history.LastOrDefault(IsStateEntered) : EnteredBefore(terminal, byId, history);
        // A Parallel or Map state fails after the state in its branch did, with the same error: name the inner state.
        if (status == "FAILED" && entered is not null && Type(entered) is "ParallelStateEntered" or "MapStateEntered"
            && history.LastOrDefault(e => Id(e) > Id(entered) && Id(e) < Id(terminal!) && IsTaskFailure(e) && Text(Details(e)?["Error"]) == error) is { } inner)
            entered = EnteredBefore(inner, byId, history);

        var state = Text(entered?["StateEnteredEventDetails"]?["Name"]) ?? NoState;
        var message = status switch
        {
            "TIMED_OUT" => "the execution ran longer than its TimeoutSeconds" + (string.IsNullOrWhiteSpace(cause) ? "" : $" ({PlainMessage(cause)})"),
            "ABORTED" => string.IsNullOrWhiteSpace(cause) ? "the execution was stopped" : $"the execution was stopped: {PlainMessage(cause)}",
            _ when error == "States.Timeout" && string.IsNullOrWhiteSpace(cause) => StateTimeout(entered, byId, history),
            _ => PlainMessage(cause),
        };
        return new RunFailure(status, state, error ?? status, message, cause);
    }

    /// <summary>The state <paramref name="from"/> belongs to: its chain of previous events back to a state's entered event.</summary>
    private static JsonObject? EnteredBefore(JsonObject from, Dictionary<long, JsonObject> byId, List<JsonObject> history)
    {
        var seen = new HashSet<long>();
        for (var e = from; seen.Add(Id(e));)
        {
            if (e != from && IsStateEntered(e)) return e;
            if (PreviousId(e) is not { } previous || !byId.TryGetValue(previous, out var before))
                // The chain leaves this page of history: the nearest state entered before it.
                return history.LastOrDefault(h => Id(h) < Id(e) && IsStateEntered(h));
            e = before;
        }
        return null;
    }

    /// <summary>A Task state's own TimeoutSeconds: Step Functions gives no cause, the scheduled task says the limit.</summary>
    private static string StateTimeout(JsonObject? entered, Dictionary<long, JsonObject> byId, List<JsonObject> history)
    {
        var seconds = entered is null ? null
            : history.Where(e => Id(e) > Id(entered) && Type(e) == "TaskScheduled"
                                 && EnteredBefore(e, byId, history) is { } owner && Id(owner) == Id(entered))
                .Select(e => e["TaskScheduledEventDetails"]?["TimeoutInSeconds"])
                .LastOrDefault(t => t is not null);
        return seconds is null
            ? "the state ran longer than its TimeoutSeconds"
            : $"the state ran longer than its TimeoutSeconds ({seconds.ToJsonString()} s)";
    }

    private static readonly string[] TaskFailures =
    [
        "TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed", "LambdaFunctionFailed", "LambdaFunctionTimedOut",
        "LambdaFunctionStartFailed", "LambdaFunctionScheduleFailed", "ActivityFailed", "ActivityTimedOut", "ActivityScheduleFailed",
    ];

    private static bool IsTaskFailure(JsonObject e) => TaskFailures.Contains(Type(e));

    private static bool IsStateEntered(JsonObject e) => Type(e).EndsWith("StateEntered", StringComparison.Ordinal);

    private static string Type(JsonObject e) => Text(e["Type"]) ?? "";

    private static long Id(JsonObject e) => e["Id"] is JsonValue v && v.TryGetValue(out long id) ? id : 0;

    private static long? PreviousId(JsonObject e) => e["PreviousEventId"] is JsonValue v && v.TryGetValue(out long id) && id > 0 ? id : null;

    /// <summary>The event's <c>...EventDetails</c> member (each event has at most one).</summary>
    private static JsonObject? Details(JsonObject e) =>
        e.Where(p => p.Key.EndsWith("EventDetails", StringComparison.Ordinal)).Select(p => p.Value).OfType<JsonObject>().FirstOrDefault();

    /// <summary>The readable message inside a cause, on one line, without JSON escapes.</summary>
    public static string PlainMessage(string? cause)
    {
        if (string.IsNullOrWhiteSpace(cause)) return "no cause given";
        var text = cause.Trim();
        if (text.StartsWith('{'))
        {
            try
            {
                var json = JsonNode.Parse(text);
                text = Text(json?["errorMessage"])                                    // Lambda
                    ?? Text(json?["QueryExecution"]?["Status"]?["StateChangeReason"])  // athena:startQueryExecution.sync
                    ?? Text(json?["Status"]?["StateChangeReason"])
                    ?? Text(json?["FailureReason"])                                   // SageMaker Describe*Job
                    ?? Text(json?["message"]) ?? Text(json?["Message"])
                    ?? text;
            }
            catch (JsonException)
            {
                // Not JSON after all: shown as it is.
            }
        }
        return Whitespace().Replace(text, " ").Trim();
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue(out string? s) && !string.IsNullOrWhiteSpace(s) ? s : null;

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>The structured fields summary.json carries.</summary>
    /// <remarks>A JSON cause is kept as JSON, not as an escaped string.</remarks>
    public JsonObject ToJson() => new() { ["state"] = State, ["error"] = Error, ["message"] = Message, ["cause"] = CauseNode() };

    private JsonNode? CauseNode()
    {
        if (Cause is null) return null;
        try
        {
            return Cause.TrimStart().StartsWith('{') ? JsonNode.Parse(Cause) : JsonValue.Create(Cause);
        }
        catch (JsonException)
        {
            return JsonValue.Create(Cause);
        }
    }
}
