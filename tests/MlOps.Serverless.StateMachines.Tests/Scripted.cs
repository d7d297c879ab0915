using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Json;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.S3;

namespace MlOps.Serverless.StateMachines.Tests;

/// <summary>
/// Answers each Task state from a script: a result per state name, or failures (by AWS error name)
/// before a result. Records every invocation so tests can assert what the definition sent.
/// </summary>
public sealed class ScriptedTasks : ITaskHandler
{
    private readonly ConcurrentDictionary<string, Func<JsonNode?, JsonNode?>> _results = new();
    private readonly ConcurrentDictionary<string, Queue<(string Error, string Cause)>> _failures = new();
    public ConcurrentQueue<TaskInvocation> Calls { get; } = new();

    public ScriptedTasks Returns(string state, Func<JsonNode?, JsonNode?> result) { _results[state] = result; return this; }
    public ScriptedTasks Returns(string state, string json) => Returns(state, _ => JsonNode.Parse(json));
    public ScriptedTasks Fails(string state, string error, string cause, int times = int.MaxValue)
    {
        var queue = new Queue<(string, string)>();
        for (var i = 0; i < Math.Min(times, 100); i++) queue.Enqueue((error, cause));
        _failures[state] = queue;
        return this;
    }

    public int CallsTo(string state) => Calls.Count(c => c.StateName == state);
    public JsonNode? InputOf(string state) => Calls.Last(c => c.StateName == state).Input;

    public Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        Calls.Enqueue(invocation);
        if (_failures.TryGetValue(invocation.StateName, out var queue) && queue.Count > 0)
        {
            var (error, cause) = queue.Dequeue();
            throw new TaskFailure(error, cause);
        }
        if (!_results.TryGetValue(invocation.StateName, out var result))
            throw new InvalidOperationException($"The test script has no answer for state {invocation.StateName}");
        return Task.FromResult(result(invocation.Input));
    }

    /// <summary>Lambda invoke's response envelope around a function's output.</summary>
    public static JsonNode LambdaResponse(JsonNode? payload) =>
        new JsonObject { ["ExecutedVersion"] = "$LATEST", ["StatusCode"] = 200, ["Payload"] = payload?.DeepClone() };

    /// <summary>A Lambda function error as the lambda:invoke integration reports it.</summary>
    public static string LambdaErrorCause(string type, string message) =>
        new JsonObject { ["errorMessage"] = message, ["errorType"] = type, ["stackTrace"] = new JsonArray() }.ToJsonString();
}

/// <summary>A real run request, produced by the real run preparation over a local raw-data folder.</summary>
public static class TestRuns
{
    public static async Task<JsonNode> RunRequestAsync(string executionName = "test-run", JsonObject? overrides = null)
    {
        using var folder = new TempFolder("mlops-sm-");
        var store = new LocalFolderObjectStore(folder.Path);
        foreach (var key in new[] { "incoming/current/sales/sales.csv", "incoming/current/features/features.csv", "incoming/current/stores/stores.csv" })
            await store.PutAsync(new S3Uri("raw", key), new MemoryStream("a,b\r\n1,2"u8.ToArray()), "text/csv");
        var preparation = new RunPreparation(new RunPreparationSettings("raw", "incoming/", "current", "work", "artifacts", EndpointDeployed: true), store);
        var evt = overrides is null ? "{}" : new JsonObject { ["overrides"] = overrides.DeepClone() }.ToJsonString();
        var run = await preparation.PrepareAsync(new PrepareRunInput(JsonDocument.Parse(evt).RootElement, executionName,
            $"arn:aws:states:us-east-1:123456789012:execution:mlops-retraining:{executionName}", DateTimeOffset.UtcNow));
        return JsonSerializer.SerializeToNode(run, CoreJsonContext.Default.RunRequest)!;
    }
}
