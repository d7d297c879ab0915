using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Run;

/// <summary>
/// Why a run failed, in plain words: the state that failed, the error name and the message a person reads, taken out of
/// whatever the cause is (a Lambda error's JSON, Athena's or SageMaker's description of the failed job, or plain text).
/// <see cref="Cause"/> keeps the original for tools.
/// </summary>
public sealed partial record RunFailure(string State, string Error, string Message, string? Cause)
{
    /// <summary>The one line the console, the report and the notification show.</summary>
    public string Line => $"Failed at {State}: {Error}: {Message}";

    /// <summary>The failure of a failed execution, or null for one that did not fail.</summary>
    public static RunFailure? From(ExecutionResult execution)
    {
        if (execution.Succeeded || execution.Error is null && execution.Status is not ("FAILED" or "TIMED_OUT" or "ABORTED")) return null;
        var error = execution.Error ?? execution.Status;
        return new RunFailure(FailedState(execution, error), error, PlainMessage(execution.Cause), execution.Cause);
    }

    /// <summary>
    /// The state where the error arose: the first state that failed with the execution's error (a Parallel state fails
    /// after its branch state, with the same error).
    /// </summary>
    private static string FailedState(ExecutionResult execution, string error)
    {
        var failed = execution.History
            .Where(e => e.Type == "StateFailed" && e.StateName is not null)
            .ToList();
        return (failed.FirstOrDefault(e => e.Error == error) ?? failed.LastOrDefault())?.StateName ?? "the run";
    }

    /// <summary>The readable message inside a cause, on one line, without JSON escapes.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Maintainability", "CA1507", Justification = "\"Message\" is a key of AWS's error JSON, not this record's property")]
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
