using MlOps.Serverless.Core.Configuration;

namespace MlOps.Serverless.Core.Runs;

/// <summary>
/// Each Task state's time limit. A Task state without one gets no limit on AWS (the execution's 24 hours) and the
/// ASL specification's 60 s in the local interpreter, so the definition sets one on every Task state:
/// <list type="bullet">
/// <item>the SageMaker <c>.sync</c> states read theirs from <c>$.run.timeouts</c> (<c>TimeoutSecondsPath</c>),
/// derived here from the run's effective configuration, because a run's overrides may change the runtime limits
/// and the number of tuning jobs;</item>
/// <item>Athena, Lambda, SNS and SageMaker API calls do the same work whatever the configuration, so their
/// <c>TimeoutSeconds</c> are literals in the definition, equal to the constants here (a test keeps them equal).</item>
/// </list>
/// Every limit is a ceiling a healthy call stays far below; it exists so that a stuck call fails the run (and
/// notifies) instead of holding it until the execution times out.
/// </summary>
/// <param name="Tuning">CreateHyperParameterTuningJob.sync: waves of parallel jobs, each job its whole stopping condition.</param>
/// <param name="Training">CreateTrainingJob.sync: the job's stopping condition plus start-up.</param>
/// <param name="Transform">CreateTransformJob.sync: one training job's runtime plus start-up (it predicts fewer rows than training fits).</param>
public sealed record TaskTimeouts(int Tuning, int Training, int Transform)
{
    /// <summary>Instance provisioning, image pull and data download before a SageMaker job's runtime clock starts,
    /// and, for a tuning job, its own set-up and final analysis.</summary>
    public const int SageMakerStartupSeconds = 600;

    /// <summary>Athena's default DML query timeout (service quota, 30 minutes) plus 5 minutes in the queue.</summary>
    public const int AthenaQuerySeconds = 2100;

    /// <summary>A single API call (GetQueryResults, Describe/List/Create on SageMaker, SNS Publish), retries apart.</summary>
    public const int ApiCallSeconds = 60;

    /// <summary>Added to a Lambda function's own timeout: the invocation's queueing and cold start. The function's
    /// timeout fires first in the normal case, with Lambda's own error.</summary>
    public const int LambdaInvokeMarginSeconds = 30;

    /// <summary>Step Functions' largest TimeoutSeconds.</summary>
    public const int MaxSeconds = 99_999_999;

    public static TaskTimeouts From(PipelineConfiguration config)
    {
        var training = config.Training;
        // A spot job may take MaxWaitTimeInSeconds in all (waiting for capacity included); on demand, its runtime.
        long perJob = (training.UseSpotInstances ? Math.Max(training.MaxWaitSeconds, training.MaxRuntimeSeconds) : training.MaxRuntimeSeconds)
            + SageMakerStartupSeconds;
        var tuning = config.Tuning;
        var parallel = Math.Max(1, Math.Min(tuning.MaxParallelJobs, tuning.MaxJobs));
        long waves = (Math.Max(1, tuning.MaxJobs) + parallel - 1) / parallel;
        return new TaskTimeouts(
            Cap(waves * perJob + SageMakerStartupSeconds),
            Cap(perJob),
            Cap((long)training.MaxRuntimeSeconds + SageMakerStartupSeconds));
    }

    /// <summary>The limit of a Lambda Task state whose function times out after <paramref name="functionTimeoutSeconds"/>.</summary>
    public static int ForLambda(int functionTimeoutSeconds) => functionTimeoutSeconds + LambdaInvokeMarginSeconds;

    private static int Cap(long seconds) => (int)Math.Clamp(seconds, 1, MaxSeconds);
}
