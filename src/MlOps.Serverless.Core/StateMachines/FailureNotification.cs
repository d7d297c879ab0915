namespace MlOps.Serverless.Core.StateMachines;

/// <summary>
/// The notification of a run that ended FAILED, TIMED_OUT or ABORTED. It comes from an EventBridge rule on the
/// execution's status, not from a state of the definition: a failed state stays the execution's last state, so
/// RedriveExecution continues from it (a Catch into a Fail state would make the Fail state the one redriven).
/// </summary>
public static class FailureNotification
{
    public const string Subject = "Retraining run failed";

    /// <summary>The input transformer's template over the Step Functions Execution Status Change event's detail.</summary>
    public const string Template = "Run <name> ended <status> with <error>: <cause>";
}
