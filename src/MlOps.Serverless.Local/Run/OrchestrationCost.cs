using System.Globalization;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Costs;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Run;

/// <summary>
/// What orchestrating the same run would cost in the cloud: Step Functions Standard state transitions and
/// the stage Lambdas (requests and GB-seconds at the memory the CDK app gives them, on arm64). Compute in
/// SageMaker and Athena's scan charges are not orchestration and are left out. Prices: us-east-1, list price.
/// </summary>
public sealed record OrchestrationCost(int StateTransitions, int LambdaInvocations, double LambdaGbSeconds, double StepFunctionsUsd, double LambdaUsd)
{
    public const double PricePerThousandTransitions = ListPrices.StepFunctionsPerThousandTransitions;
    public const double PricePerMillionLambdaRequests = ListPrices.LambdaPerMillionRequests;
    public const double PricePerLambdaGbSecondArm = ListPrices.LambdaPerGbSecondArm;

    /// <summary>The prices above, for a reader: <c>$0.025 per 1,000 transitions, …</c>.</summary>
    public static string PriceNote { get; } =
        $"${Price(PricePerThousandTransitions)} per 1,000 transitions, ${Price(PricePerLambdaGbSecondArm)} per GB-s arm64, " +
        $"${Price(PricePerMillionLambdaRequests)} per 1M requests (us-east-1)";

    /// <summary>Memory (MB) per stage function, as the CDK app deploys it.</summary>
    public static IReadOnlyDictionary<string, int> FunctionMemoryMb { get; } = StageSpec.All.ToDictionary(s => s.Id, s => s.MemoryMb);

    public double TotalUsd => StepFunctionsUsd + LambdaUsd;

    /// <summary>SageMaker batch transform jobs the run started (the challenger's and, with a champion, the champion's on the
    /// test weeks, and the forecast): their compute is SageMaker's, counted here so the extra champion transform shows.</summary>
    public int TransformJobs { get; init; }

    // The definition's states that start a batch transform job.
    private static readonly Lazy<HashSet<string>> TransformStates = new(() =>
    {
        var states = new HashSet<string>(StringComparer.Ordinal);
        void Walk(JsonObject? level)
        {
            foreach (var (name, state) in level ?? [])
            {
                if (((string?)state?["Resource"])?.Contains(":createTransformJob", StringComparison.Ordinal) == true) states.Add(name);
                foreach (var branch in state?["Branches"]?.AsArray() ?? []) Walk(branch?["States"]?.AsObject());
            }
        }
        Walk(JsonNode.Parse(DefinitionFile.LoadTemplate())?["States"]?.AsObject());
        return states;
    });

    /// <summary>Dollars as written on a price list: cents at least, no exponent (0.20, 0.025, 0.0000133334).</summary>
    private static string Price(double usd) => usd.ToString("0.00##########", CultureInfo.InvariantCulture);

    public static OrchestrationCost From(ExecutionResult execution, IEnumerable<(string Function, TimeSpan Duration)> invocations)
    {
        // Step Functions bills each state entered, retries included, plus the start of the execution.
        var transitions = execution.History.Count(e => e.Type is "StateEntered" or "StateRetried") + 1;
        var calls = invocations.ToList();
        var gbSeconds = calls.Sum(c => Math.Ceiling(c.Duration.TotalMilliseconds) / 1000.0 * FunctionMemoryMb.GetValueOrDefault(c.Function, 512) / 1024.0);
        return new OrchestrationCost(transitions, calls.Count, gbSeconds,
            transitions / 1000.0 * PricePerThousandTransitions,
            calls.Count / 1_000_000.0 * PricePerMillionLambdaRequests + gbSeconds * PricePerLambdaGbSecondArm)
        {
            TransformJobs = execution.History.Count(e => e.Type == "StateEntered" && e.StateName is { } name && TransformStates.Value.Contains(name)),
        };
    }
}
