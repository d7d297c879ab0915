using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Reliability.Tests.Support;

/// <summary>
/// Records each Task state's raw service answer; a later run of the same execution can be answered from the
/// recording for the states a redrive would not re-execute, while the rest run for real.
/// </summary>
public sealed class Recorder(ITaskHandler inner, IReadOnlyDictionary<string, JsonNode?>? replay = null, ISet<string>? live = null) : ITaskHandler
{
    public ConcurrentDictionary<string, JsonNode?> Answers { get; } = new();

    public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        if (replay is not null && live is not null && !live.Contains(invocation.StateName) && replay.TryGetValue(invocation.StateName, out var recorded))
            return recorded?.DeepClone();
        var answer = await inner.HandleAsync(invocation, cancellationToken);
        Answers[invocation.StateName] = answer?.DeepClone();
        return answer;
    }
}
