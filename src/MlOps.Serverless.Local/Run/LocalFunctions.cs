using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Functions;
using MlOps.Serverless.Mlflow.Client;

namespace MlOps.Serverless.Local.Run;

/// <summary>The stage Lambdas, constructed for local mode: same classes and entry points, local storage.</summary>
public static class LocalFunctions
{
    /// <param name="logs">Where the stages' structured log lines go (CloudWatch Logs in the cloud).</param>
    public static IReadOnlyDictionary<string, Func<Stream, Task<Stream>>> Create(IObjectStore store, MlflowClient? mlflow, TextWriter logs)
    {
        // Local mode plays an account with the endpoint deployed (LocalDefinition's EndpointName).
        var settings = new RunPreparationSettings(LocalLayout.RawBucket, "incoming/", "current", LocalLayout.WorkBucket, LocalLayout.ArtifactBucket,
            EndpointDeployed: true);
        return new Dictionary<string, Func<Stream, Task<Stream>>>
        {
            [StageSpec.PrepareRun.Id] = new PrepareRunFunction(settings, store, new StructuredLog(nameof(PrepareRunFunction), logs)).Handle,
            [StageSpec.DataQualityVerdict.Id] = new DataQualityVerdictFunction(store, new StructuredLog(nameof(DataQualityVerdictFunction), logs)).Handle,
            [StageSpec.MlflowLogger.Id] = new MlflowLoggerFunction(mlflow, store, new StructuredLog(nameof(MlflowLoggerFunction), logs)).Handle,
            [StageSpec.EvaluationGate.Id] = new EvaluationGateFunction(store, new StructuredLog(nameof(EvaluationGateFunction), logs)).Handle,
            [StageSpec.FailureNotifier.Id] = new FailureNotifierFunction(new StructuredLog(nameof(FailureNotifierFunction), logs)).Handle,
        };
    }
}
