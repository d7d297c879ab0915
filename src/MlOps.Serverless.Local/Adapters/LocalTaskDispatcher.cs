using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.ServiceModels;

namespace MlOps.Serverless.Local.Adapters;

/// <summary>
/// Answers each Task state with the adapter that claims its Resource, as Step Functions would route it to
/// the service. Each request is first checked against AWS's API model of the operation (botocore's service models),
/// so a request AWS would refuse fails the state here too, and each answer is shaped by the operation's output model
/// (members it does not have are left out; wrong types or enums fail the state).
/// Calls run one at a time: the embedded engines (DuckDB, XGBoost) use the machine's cores
/// themselves, and a serial order makes local runs reproducible.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "A SemaphoreSlim needs disposing only once its AvailableWaitHandle is used; this one's never is")]
public sealed class LocalTaskDispatcher(IEnumerable<ILocalServiceAdapter> adapters) : ITaskHandler
{
    private readonly IReadOnlyList<ILocalServiceAdapter> _adapters = adapters.ToList();
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        var adapter = _adapters.FirstOrDefault(a => a.CanHandle(invocation.Resource))
            ?? throw new TaskFailure("States.Runtime", $"State {invocation.StateName}: no local adapter for resource {invocation.Resource}");
        var integration = ServiceIntegration.Resolve(invocation.Resource);
        integration?.CheckRequest(invocation.StateName, invocation.Input);
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            var answer = await adapter.InvokeAsync(invocation.Resource, invocation.Input, cancellationToken);
            if (integration is null) return answer;
            answer = integration.ShapeAnswer(answer);
            if (integration.CheckAnswer(answer) is { Count: > 0 } strays)
                throw new TaskFailure("States.Runtime", $"State {invocation.StateName}: the local {integration.Service} stand-in answered outside " +
                                                        $"AWS's {integration.AnswerOperation} output shape: {string.Join("; ", strays)}.");
            return answer;
        }
        finally
        {
            _oneAtATime.Release();
        }
    }
}
