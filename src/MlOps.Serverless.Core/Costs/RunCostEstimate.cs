using System.Globalization;
using MlOps.Serverless.Core.Configuration;

namespace MlOps.Serverless.Core.Costs;

/// <summary>us-east-1 on-demand list prices (USD) the estimate uses; other regions differ by a few per cent.</summary>
public static class ListPrices
{
    /// <summary>SageMaker training, per instance-hour.</summary>
    public static IReadOnlyDictionary<string, double> TrainingPerInstanceHour { get; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["ml.m5.large"] = 0.115, ["ml.m5.xlarge"] = 0.23, ["ml.m5.2xlarge"] = 0.461, ["ml.m5.4xlarge"] = 0.922,
        ["ml.c5.xlarge"] = 0.204, ["ml.c5.2xlarge"] = 0.408, ["ml.c5.4xlarge"] = 0.816,
    };
    /// <summary>Managed spot training bills the spot price; AWS quotes savings of up to 90 % against on-demand.</summary>
    public const double MaxSpotDiscount = 0.9;
    public const double AthenaPerTerabyteScanned = 5.0;
    /// <summary>Athena bills every query for at least 10 MB.</summary>
    public const long AthenaMinimumBytesPerQuery = 10_000_000;
    public const double StepFunctionsPerThousandTransitions = 0.025;
    public const double LambdaPerMillionRequests = 0.20;
    /// <summary>Lambda compute on arm64 (Graviton), per GB-second.</summary>
    public const double LambdaPerGbSecondArm = 0.0000133334;
}

/// <summary>
/// What a run may cost at list price, computed by the prepare-run stage before any data stage or training starts.
/// SageMaker training is the ceiling of the configured jobs (every job running to <c>training.maxRuntimeSeconds</c>
/// on-demand); the spot discount is shown beside it, not subtracted, because the spot price varies. Athena counts
/// the data-stage queries, each billed for the batch size or the 10 MB minimum. Orchestration counts the state
/// transitions and Lambda requests of the longest path. Batch transform and storage are not included.
/// </summary>
public sealed record RunCostEstimate(
    string InstanceType,
    int TrainingJobs,
    int InstancesPerJob,
    double MaxInstanceHours,
    double? PricePerInstanceHour,
    double TrainingOnDemandUsd,
    bool Spot,
    double SpotDiscountUpToUsd,
    int AthenaQueries,
    long AthenaBytesScanned,
    double AthenaUsd,
    int StateTransitions,
    int LambdaRequests,
    double OrchestrationUsd,
    double TotalUsd,
    string Summary)
{
    /// <summary>Queries of the data stages: quality, features, five splits, evaluation.</summary>
    public const int DataStageQueries = 8;
    /// <summary>At most this many states are entered on the longest path (tuning, promotion, forecast, endpoint).</summary>
    public const int MaxStateTransitions = 50;
    /// <summary>Prepare run, quality verdict, three MLflow logging calls, the gate.</summary>
    public const int LambdaRequestsPerRun = 6;

    public static RunCostEstimate For(PipelineConfiguration config, long batchBytes)
    {
        var t = config.Training;
        var jobs = config.Tuning.Enabled ? config.Tuning.MaxJobs : 1;
        var hours = jobs * t.InstanceCount * t.MaxRuntimeSeconds / 3600.0;
        double? price = ListPrices.TrainingPerInstanceHour.TryGetValue(t.InstanceType, out var p) ? p : null;
        var training = hours * (price ?? 0);
        var spotDiscount = t.UseSpotInstances ? training * ListPrices.MaxSpotDiscount : 0;
        var athenaBytes = DataStageQueries * Math.Max(ListPrices.AthenaMinimumBytesPerQuery, batchBytes);
        var athena = athenaBytes / 1e12 * ListPrices.AthenaPerTerabyteScanned;
        var orchestration = MaxStateTransitions / 1000.0 * ListPrices.StepFunctionsPerThousandTransitions
                            + LambdaRequestsPerRun / 1e6 * ListPrices.LambdaPerMillionRequests;
        var total = training + athena + orchestration;

        var priceText = price is { } known ? $"${Money(known)}/h" : "no list price known to this estimate";
        var summary =
            $"Estimated cost at most ${Money(total)} (us-east-1 list prices): SageMaker training {jobs} job(s) × {t.InstanceCount} × {t.InstanceType} " +
            $"× up to {Number(t.MaxRuntimeSeconds / 3600.0)} h = {Number(hours)} instance-hours at {priceText} = ${Money(training)} on-demand" +
            (t.UseSpotInstances ? $", up to ${Money(spotDiscount)} less with managed spot" : "") +
            $"; Athena {DataStageQueries} queries, about {Number(athenaBytes / 1e6)} MB scanned = ${Money(athena)}" +
            $"; orchestration up to {MaxStateTransitions} state transitions and {LambdaRequestsPerRun} Lambda requests = ${Money(orchestration)}.";
        return new RunCostEstimate(t.InstanceType, jobs, t.InstanceCount, hours, price, training, t.UseSpotInstances, spotDiscount,
            DataStageQueries, athenaBytes, athena, MaxStateTransitions, LambdaRequestsPerRun, orchestration, total, summary);
    }

    private static string Money(double usd) => usd.ToString(usd < 1 ? "0.0000" : "#,0.00", CultureInfo.InvariantCulture);
    private static string Number(double value) => value.ToString("#,0.##", CultureInfo.InvariantCulture);
}
