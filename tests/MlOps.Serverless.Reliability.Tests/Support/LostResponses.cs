using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Reliability.Tests.Support;

/// <summary>
/// The call reaches the service and succeeds, but its answer is lost: the state sees a retryable error once
/// and retries a call whose effect already happened. The case idempotency keys exist for.
/// </summary>
public sealed class LostResponses(ITaskHandler inner, IReadOnlyDictionary<string, string> errorByState) : ITaskHandler
{
    private readonly ConcurrentDictionary<string, bool> _lost = new();

    public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        var answer = await inner.HandleAsync(invocation, cancellationToken);
        if (errorByState.TryGetValue(invocation.StateName, out var error) && _lost.TryAdd(invocation.StateName, true))
            throw new TaskFailure(error, "the response was lost after the call succeeded (injected)");
        return answer;
    }
}
