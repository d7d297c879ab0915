using System.Text.Json.Nodes;

namespace MlOps.Serverless.Local.Adapters;

/// <summary>
/// A local stand-in for one AWS service integration. The runner hands it each Task state whose
/// <c>Resource</c> it claims, with the state's effective input (after InputPath/Parameters) — the same
/// request Step Functions would send to the service — and expects the service's response shape back
/// (for <c>.sync</c> integrations, the Describe* output of the finished job).
/// </summary>
public interface ILocalServiceAdapter
{
    /// <summary>True for resources such as <c>arn:aws:states:::athena:startQueryExecution.sync</c>.</summary>
    bool CanHandle(string resource);

    /// <summary>Runs the call; throws <see cref="TaskFailure"/> with AWS's error name on failure.</summary>
    Task<JsonNode?> InvokeAsync(string resource, JsonNode? input, CancellationToken cancellationToken);
}

/// <summary>
/// A Task failure as Step Functions reports it: <see cref="Error"/> is what Retry/Catch match
/// (<c>States.TaskFailed</c>, <c>SageMaker.AmazonSageMakerException</c>, a Lambda error type, ...),
/// <see cref="Cause"/> is the text Step Functions puts in the execution history.
/// </summary>
public sealed class TaskFailure(string error, string cause) : Exception($"{error}: {cause}")
{
    public string Error { get; } = error;
    public string Cause { get; } = cause;
}
