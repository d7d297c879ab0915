using MlOps.Serverless.Functions.Hosting;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Workflow;

/// <summary>
/// What orchestrating the same run would cost in the cloud: Step Functions Standard state transitions and
/// the stage Lambdas (requests and GB-seconds at the memory the CDK app gives them, on arm64). Compute in
/// SageMaker and Athena's scan charges are not orchestration and are left out. Prices: us-east-1, list price.
/// </summary>
public sealed record CostEstimate(int StateTransitions, int LambdaInvocations, double LambdaGbSeconds, double StepFunctionsUsd, double LambdaUsd)
{
    public const double PricePerThousandTransitions = 0.025;
    public const double PricePerMillionLambdaRequests = 0.20;
    public const double PricePerLambdaGbSecondArm = 0.0000133334;

    /// <summary>Memory (MB) per stage function, as the CDK app deploys it.</summary>
    public static IReadOnlyDictionary<string, int> FunctionMemoryMb { get; } = StageSpec.All.ToDictionary(s => s.Id, s => s.MemoryMb);

    public double TotalUsd => StepFunctionsUsd + LambdaUsd;

    public static CostEstimate From(ExecutionResult execution, IEnumerable<(string Function, TimeSpan Duration)> invocations)
    {
        // Step Functions bills each state entered, retries included, plus the start of the execution.
        var transitions = execution.History.Count(e => e.Type is "StateEntered" or "StateRetried") + 1;
        var calls = invocations.ToList();
        var gbSeconds = calls.Sum(c => Math.Ceiling(c.Duration.TotalMilliseconds) / 1000.0 * FunctionMemoryMb.GetValueOrDefault(c.Function, 512) / 1024.0);
        return new CostEstimate(transitions, calls.Count, gbSeconds,
            transitions / 1000.0 * PricePerThousandTransitions,
            calls.Count / 1_000_000.0 * PricePerMillionLambdaRequests + gbSeconds * PricePerLambdaGbSecondArm);
    }
}
