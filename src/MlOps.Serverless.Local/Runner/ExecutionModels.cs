using System.Text.Json.Nodes;

namespace MlOps.Serverless.Local.Runner;

/// <summary>One execution to run: the (substituted) definition, its input and its context object.</summary>
/// <param name="RetryIntervalOverridesMs">Per state name, the pause before a retry (tests use 0; null keeps the definition's backoff).</param>
/// <param name="RedriveCount">The context object's <c>$$.Execution.RedriveCount</c>: 0 for a new execution, n for its n-th redrive.</param>
/// <param name="StartAt">For a redrive, the top-level state to continue from (with <see cref="Input"/> as that state's input).</param>
public sealed record ExecutionRequest(
    string Definition,
    JsonNode? Input,
    string ExecutionName,
    string StateMachineName = "mlops-retraining",
    string Region = "local",
    string Account = "000000000000",
    IReadOnlyDictionary<string, int>? RetryIntervalOverridesMs = null,
    int RedriveCount = 0,
    string? StartAt = null)
{
    public string StateMachineArn => $"arn:aws:states:{Region}:{Account}:stateMachine:{StateMachineName}";
    public string ExecutionArn => $"arn:aws:states:{Region}:{Account}:execution:{StateMachineName}:{ExecutionName}";
}

/// <summary>A Task state handed to .NET: the effective input Step Functions would send to <see cref="Resource"/>.</summary>
public sealed record TaskInvocation(string StateName, string Resource, JsonNode? Input);

/// <summary>Answers Task states; throws <see cref="Adapters.TaskFailure"/> to fail one with an AWS error name.</summary>
public interface ITaskHandler
{
    Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken);
}

/// <summary>An execution-history event, as aws-local-stepfunctions reports it.</summary>
public sealed record ExecutionEvent(string Type, DateTimeOffset Timestamp, string? StateName, string? StateType,
    JsonNode? Input, JsonNode? Output, string? Error, string? Cause, JsonNode? Raw);

/// <param name="InterpreterPeakBytes">The node process's peak resident memory (Linux), for benchmarks.</param>
/// <param name="InterpreterCpu">The node process's CPU time (Linux), for benchmarks.</param>
public sealed record ExecutionResult(string Status, JsonNode? Output, string? Error, string? Cause, IReadOnlyList<ExecutionEvent> History,
    long? InterpreterPeakBytes = null, TimeSpan? InterpreterCpu = null)
{
    public bool Succeeded => Status == "SUCCEEDED";

    /// <summary>The states entered, in order (Parallel branches interleave as they ran).</summary>
    public IReadOnlyList<string> StatesEntered =>
        History.Where(e => e.Type == "StateEntered" && e.StateName is not null).Select(e => e.StateName!).ToList();

    /// <summary>Each state's last run: when it was entered, how long it took, and whether it failed.</summary>
    public IReadOnlyList<(string State, DateTimeOffset Entered, TimeSpan Duration, bool Failed)> StateDurations()
    {
        var entered = new Dictionary<string, DateTimeOffset>();
        var result = new List<(string, DateTimeOffset, TimeSpan, bool)>();
        foreach (var e in History.Where(e => e.StateName is not null))
        {
            if (e.Type == "StateEntered") entered[e.StateName!] = e.Timestamp;
            else if (e.Type is "StateExited" or "StateFailed" && entered.TryGetValue(e.StateName!, out var start))
                result.Add((e.StateName!, start, e.Timestamp - start, e.Type == "StateFailed"));
        }
        return result;
    }
}
