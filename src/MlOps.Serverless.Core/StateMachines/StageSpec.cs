namespace MlOps.Serverless.Core.StateMachines;

/// <summary>
/// One Lambda stage: its id (the CDK id, and the stem of the definition's <c>${IdFunctionArn}</c> placeholder),
/// its handler class and its size. The CDK app deploys from this list; local mode builds its functions and the
/// cost estimate from it, so both always agree on what runs and how big it is. It lives here, not beside the
/// handlers, so the CDK app needs no reference to the functions (it deploys them from their published folder).
/// </summary>
public sealed record StageSpec(string Id, string ClassName, int MemoryMb, int TimeoutSeconds, string Placeholder)
{
    public const string Assembly = "MlOps.Serverless.Functions";
    public string Handler => $"{Assembly}::{Assembly}.{ClassName}::Handle";

    public static StageSpec PrepareRun { get; } = new("PrepareRun", "PrepareRunFunction", 512, 60, "PrepareRunFunctionArn");
    public static StageSpec DataQualityVerdict { get; } = new("DataQualityVerdict", "DataQualityVerdictFunction", 512, 120, "DataQualityVerdictFunctionArn");
    public static StageSpec MlflowLogger { get; } = new("MlflowLogger", "MlflowLoggerFunction", 512, 300, "MlflowLoggerFunctionArn");
    public static StageSpec EvaluationGate { get; } = new("EvaluationGate", "EvaluationGateFunction", 512, 120, "EvaluationGateFunctionArn");
    public static StageSpec FailureNotifier { get; } = new("FailureNotifier", "FailureNotifierFunction", 256, 30, "FailureNotifierFunctionArn");

    /// <summary>The stages the retraining state machine invokes.</summary>
    public static IReadOnlyList<StageSpec> Retraining { get; } = [PrepareRun, DataQualityVerdict, MlflowLogger, EvaluationGate];

    /// <summary>Every stage: the retraining ones and the failure notifier's (its own state machine invokes it).</summary>
    public static IReadOnlyList<StageSpec> All { get; } = [.. Retraining, FailureNotifier];
}
