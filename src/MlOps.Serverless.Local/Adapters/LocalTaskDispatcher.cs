using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Adapters;

/// <summary>
/// Answers each Task state with the adapter that claims its Resource, as Step Functions would route it to
/// the service. Calls run one at a time: the embedded engines (DuckDB, XGBoost) use the machine's cores
/// themselves, and a serial order makes local runs reproducible.
/// </summary>
public sealed class LocalTaskDispatcher(IEnumerable<ILocalServiceAdapter> adapters) : ITaskHandler
{
    private readonly IReadOnlyList<ILocalServiceAdapter> _adapters = adapters.ToList();
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);

    public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
    {
        var adapter = _adapters.FirstOrDefault(a => a.CanHandle(invocation.Resource))
            ?? throw new TaskFailure("States.Runtime", $"State {invocation.StateName}: no local adapter for resource {invocation.Resource}");
        await _oneAtATime.WaitAsync(cancellationToken);
        try
        {
            return await adapter.InvokeAsync(invocation.Resource, invocation.Input, cancellationToken);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }
}
