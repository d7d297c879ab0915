using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Functions;
using MlOps.Serverless.MlFlow.Client;

namespace MlOps.Serverless.Local.Workflow;

/// <summary>The stage Lambdas, constructed for local mode: same classes and entry points, local storage.</summary>
public static class LocalFunctions
{
    /// <summary>Function names as the definition's <c>${NameFunctionArn}</c> placeholders spell them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["PrepareRun", "DataQualityVerdict", "MlflowLogger", "EvaluationGate"];

    /// <param name="logs">Where the stages' structured log lines go (CloudWatch Logs in the cloud).</param>
    public static IReadOnlyDictionary<string, Func<Stream, Task<Stream>>> Create(IObjectStore store, MlflowClient? mlflow, TextWriter logs)
    {
        var settings = new RunPreparationSettings(LocalLayout.RawBucket, "incoming/", "current", LocalLayout.WorkBucket, LocalLayout.ArtifactBucket);
        return new Dictionary<string, Func<Stream, Task<Stream>>>
        {
            ["PrepareRun"] = new PrepareRunFunction(settings, store, new StructuredLog(nameof(PrepareRunFunction), logs)).Handle,
            ["DataQualityVerdict"] = new DataQualityVerdictFunction(store, new StructuredLog(nameof(DataQualityVerdictFunction), logs)).Handle,
            ["MlflowLogger"] = new MlflowLoggingFunction(mlflow, store, new StructuredLog(nameof(MlflowLoggingFunction), logs)).Handle,
            ["EvaluationGate"] = new EvaluationGateFunction(store, new StructuredLog(nameof(EvaluationGateFunction), logs)).Handle,
        };
    }
}
