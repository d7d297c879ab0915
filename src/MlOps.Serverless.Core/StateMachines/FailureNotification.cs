using System.Text.Json.Nodes;

namespace MlOps.Serverless.Core.StateMachines;

/// <summary>
/// The notification of a run that ended FAILED, TIMED_OUT or ABORTED. It comes from an EventBridge rule on the
/// execution's status, not from a state of the definition: a failed state stays the execution's last state, so
/// RedriveExecution continues from it (a Catch into a Fail state would make the Fail state the one redriven). The rule
/// starts the failure notifier (<c>statemachines/failure-notifier.asl.json</c>), which reads the execution's history,
/// composes the message here and publishes it.
/// </summary>
public static class FailureNotification
{
    public const string Subject = "Retraining run failed";

    /// <summary>The notifier definition, beside the retraining definition.</summary>
    public const string DefinitionFileName = "failure-notifier.asl.json";

    /// <summary>The message: the run, its status and <see cref="RunFailure.Line"/>.</summary>
    public static FailureNotice Compose(FailureNotifierInput input)
    {
        var execution = input.Execution;
        var failure = RunFailure.FromHistory(execution.Status, execution.Error, execution.Cause, input.Events);
        return new FailureNotice(Subject, $"Run {execution.Name} ended {execution.Status}" + (failure is null ? "" : $": {failure.Line}"));
    }
}

/// <summary>The members the notifier reads from a Step Functions Execution Status Change event's <c>detail</c>.</summary>
public sealed record ExecutionStatusChange(string ExecutionArn, string Name, string Status, string? Error = null, string? Cause = null);

/// <summary>The notifier stage's input: the status change and the execution's history events (GetExecutionHistory's <c>Events</c>).</summary>
public sealed record FailureNotifierInput(ExecutionStatusChange Execution, JsonArray Events);

/// <summary>What the notifier publishes.</summary>
public sealed record FailureNotice(string Subject, string Message);
