using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Reliability.Tests.Support;

/// <summary>
/// Wraps the real local dispatcher (through <c>LocalWorkflow.DecorateTasks</c>) and fails chosen Task states
/// with an AWS error name before (or instead of) letting the real adapter answer. Counts every call per state.
/// </summary>
public sealed class Faults(ITaskHandler inner) : ITaskHandler
{
    private sealed class Step(string error, string cause, int times)
    {
        public string Error { get; } = error;
        public string Cause { get; } = cause;
        public int Remaining = times;
    }

    private readonly ConcurrentDictionary<string, List<Step>> _plan = new();
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ConcurrentDictionary<string, Func<TaskInvocation, ITaskHandler, CancellationToken, Task>> _before = new();

    /// <summary>The state's next <paramref name="times"/> calls fail; steps for one state apply in the order added.</summary>
    public Faults Fail(string state, string error, string cause, int times = int.MaxValue)
    {
        _plan.GetOrAdd(state, _ => []).Add(new Step(error, cause, times));
        return this;
    }

    /// <summary>Runs something against the real adapters just before a state's first call (e.g. to seed an endpoint).</summary>
    public Faults Before(string state, Func<TaskInvocation, ITaskHandler, CancellationToken, Task> action)
    {
        _before[state] = action;
        return this;
    }

    public int CallsTo(string state) => _calls.GetValueOrDefault(state);

    public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        var calls = _calls.AddOrUpdate(invocation.StateName, 1, (_, n) => n + 1);
        if (calls == 1 && _before.TryGetValue(invocation.StateName, out var before)) await before(invocation, inner, cancellationToken);
        if (_plan.TryGetValue(invocation.StateName, out var steps))
        {
            Step? step;
            lock (steps)
            {
                step = steps.FirstOrDefault(s => s.Remaining > 0);
                if (step is not null && step.Remaining != int.MaxValue) step.Remaining--;
            }
            if (step is not null) throw new TaskFailure(step.Error, step.Cause);
        }
        return await inner.HandleAsync(invocation, cancellationToken);
    }

    /// <summary>The retryable error the definition names for a state's service (the first of its Retry clause).</summary>
    public static string TransientErrorFor(WorkflowStates.TaskState state) => state.RetriedErrors.Count > 0
        ? state.RetriedErrors.First(e => e.Contains('.'))
        : throw new InvalidOperationException($"{state.Name} has no Retry clause");

    public static string TransientErrorPreferred(WorkflowStates.TaskState state) =>
        state.RetriedErrors.FirstOrDefault(e => e.EndsWith("TooManyRequestsException", StringComparison.Ordinal))
        ?? state.RetriedErrors.FirstOrDefault(e => e == "SageMaker.ThrottlingException")
        ?? TransientErrorFor(state);
}
