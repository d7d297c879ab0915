using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Training.Jobs;
using MlOps.Serverless.Training.Json;
using static MlOps.Serverless.Local.SageMaker.SageMakerRequest;

namespace MlOps.Serverless.Local.SageMaker;

/// <summary>
/// CreateTrainingJob / DescribeTrainingJob on local XGBoost 1.7.4: reads the channels from the local S3
/// folder, trains like SageMaker's XGBoost container, writes <c>{S3OutputPath}{name}/output/model.tar.gz</c>
/// (with <c>xgboost-model</c>) and <c>metric-curves.json</c>, and answers with the DescribeTrainingJob shape.
/// </summary>
public sealed class LocalTrainingJobs(IObjectStore s3, LocalJobStore jobs, LocalAwsIdentity identity, StructuredLog? log = null)
{
    public const string Kind = "training-jobs";
    public const string CurvesKind = "training-curves";
    public const string CurvesFileName = "metric-curves.json";
    private readonly StructuredLog _log = log ?? new StructuredLog("LocalSageMaker");

    /// <summary>CreateTrainingJob, run to completion (the <c>.sync</c> integration): returns DescribeTrainingJob.</summary>
    public async Task<JsonObject> CreateAsync(JsonNode? request, CancellationToken cancellationToken)
    {
        var name = Name(request, "TrainingJobName");
        var hyperParameters = StringMap(request, "HyperParameters");
        var definition = TrainingDefinition.Parse(request!, "");
        if (jobs.Get(Kind, name) is not null) throw new TaskFailure(InUseError, $"Training job names must be unique within an AWS account and region, and a training job with this name already exists ({identity.Arn("training-job", name)})");

        var created = DateTimeOffset.UtcNow;
        ChannelData? data = null;
        try
        {
            data = await ChannelData.LoadAsync(s3, definition, threads: Environment.ProcessorCount, ChannelData.Weighted(hyperParameters), cancellationToken);
        }
        catch (WorkflowError e)
        {
            var failed = Describe(name, hyperParameters, definition, created, created, DateTimeOffset.UtcNow, null, e, null);
            jobs.Put(Kind, name, failed);
            throw new TaskFailure("States.TaskFailed", failed.ToJsonString());
        }
        using (data)
        {
            var result = await RunAsync(name, hyperParameters, definition, data, Environment.ProcessorCount, created, null, cancellationToken);
            if (result["TrainingJobStatus"]!.GetValue<string>() != "Completed")
                throw new TaskFailure("States.TaskFailed", result.ToJsonString());
            return result;
        }
    }

    public JsonObject DescribeExisting(JsonNode? request)
    {
        var name = RequiredString(request, "TrainingJobName");
        return jobs.Get(Kind, name) ?? throw NotFound($"Requested resource not found: training job {name} does not exist ({identity.Arn("training-job", name)})");
    }

    /// <summary>The per-round curves of a finished job (local only; the MLflow stage logs them as histories).</summary>
    public MetricCurves? Curves(string trainingJobName) =>
        jobs.Get(CurvesKind, trainingJobName)?.Deserialize(TrainingJsonContext.Default.MetricCurves);

    /// <summary>
    /// Trains one job on already-loaded channels and records it. A failure inside the job (bad
    /// hyperparameter, XGBoost error) gives a Failed job with FailureReason, as SageMaker reports it.
    /// </summary>
    internal async Task<JsonObject> RunAsync(string name, IReadOnlyDictionary<string, string> hyperParameters, TrainingDefinition definition,
        ChannelData data, int threads, DateTimeOffset created, string? tuningJobArn, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        try
        {
            var parsed = XgboostHyperParameters.Parse(hyperParameters);
            using var outcome = XgboostTrainer.Train(parsed, data.Train, data.Validation, threads, cancellationToken: cancellationToken);
            var folder = definition.OutputFolder(name);
            var modelLocation = folder.Child("model.tar.gz");
            using (var buffer = new MemoryStream())
            {
                ModelArtifact.Write(outcome.Model, buffer);
                buffer.Position = 0;
                await s3.PutAsync(modelLocation, buffer, "application/x-gzip", cancellationToken);
            }
            var curves = MetricCurves.From(name, outcome);
            var curvesJson = JsonSerializer.SerializeToNode(curves, TrainingJsonContext.Default.MetricCurves)!;
            await s3.PutAsync(folder.Child(CurvesFileName), new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(curves, TrainingJsonContext.Default.MetricCurves)), "application/json", cancellationToken);
            jobs.Put(CurvesKind, name, curvesJson);

            var ended = DateTimeOffset.UtcNow;
            var result = Describe(name, hyperParameters, definition, created, started, ended, modelLocation.ToString(), null, tuningJobArn, outcome.FinalMetrics);
            jobs.Put(Kind, name, result);
            _log.Info("training job completed", ("trainingJobName", name), ("rounds", outcome.RoundsTrained), ("bestIteration", outcome.BestIteration),
                ("validationRmse", outcome.FinalMetrics.GetValueOrDefault("validation:rmse", double.NaN)), ("durationMs", clock.ElapsedMilliseconds));
            return result;
        }
        catch (WorkflowError e)
        {
            var failed = Describe(name, hyperParameters, definition, created, started, DateTimeOffset.UtcNow, null, e, tuningJobArn);
            jobs.Put(Kind, name, failed);
            _log.Warn("training job failed", ("trainingJobName", name), ("errorType", e.GetType().Name), ("errorMessage", e.Message));
            return failed;
        }
        catch (OperationCanceledException)
        {
            // StopTrainingJob (Step Functions stops a .sync job whose state timed out or whose execution stopped).
            jobs.Put(Kind, name, Describe(name, hyperParameters, definition, created, started, DateTimeOffset.UtcNow, null, null, tuningJobArn, stopped: true));
            _log.Warn("training job stopped", ("trainingJobName", name), ("durationMs", clock.ElapsedMilliseconds));
            throw;
        }
    }

    private JsonObject Describe(string name, IReadOnlyDictionary<string, string> hyperParameters, TrainingDefinition definition,
        DateTimeOffset created, DateTimeOffset started, DateTimeOffset ended, string? modelUri, WorkflowError? failure, string? tuningJobArn,
        IReadOnlyDictionary<string, double>? finalMetrics = null, bool stopped = false)
    {
        var status = stopped ? "Stopped" : failure is null ? "Completed" : "Failed";
        var seconds = Math.Max(1, (int)Math.Ceiling((ended - started).TotalSeconds));
        var hp = new JsonObject();
        foreach (var (k, v) in hyperParameters.OrderBy(p => p.Key, StringComparer.Ordinal)) hp[k] = v;
        var job = new JsonObject
        {
            ["TrainingJobName"] = name,
            ["TrainingJobArn"] = identity.Arn("training-job", name),
            ["TrainingJobStatus"] = status,
            ["SecondaryStatus"] = status,
            ["HyperParameters"] = hp,
            ["AlgorithmSpecification"] = definition.AlgorithmSpecification.DeepClone(),
            ["InputDataConfig"] = definition.InputDataConfig.DeepClone(),
            ["OutputDataConfig"] = definition.OutputDataConfig.DeepClone(),
            ["CreationTime"] = Timestamp(created),
            ["TrainingStartTime"] = Timestamp(started),
            ["TrainingEndTime"] = Timestamp(ended),
            ["LastModifiedTime"] = Timestamp(ended),
            ["TrainingTimeInSeconds"] = seconds,
            ["BillableTimeInSeconds"] = seconds,
            ["EnableManagedSpotTraining"] = definition.EnableManagedSpotTraining,
            ["SecondaryStatusTransitions"] = new JsonArray(
                new JsonObject { ["Status"] = "Training", ["StartTime"] = Timestamp(started), ["EndTime"] = Timestamp(ended), ["StatusMessage"] = "Training on local XGBoost " + LibraryVersion() },
                new JsonObject { ["Status"] = status, ["StartTime"] = Timestamp(ended), ["EndTime"] = Timestamp(ended), ["StatusMessage"] = $"Training job {status.ToLowerInvariant()}" }),
        };
        if (tuningJobArn is not null) job["TuningJobArn"] = tuningJobArn;
        if (definition.RoleArn is not null) job["RoleArn"] = definition.RoleArn;
        if (definition.ResourceConfig is not null) job["ResourceConfig"] = definition.ResourceConfig.DeepClone();
        if (definition.StoppingCondition is not null) job["StoppingCondition"] = definition.StoppingCondition.DeepClone();
        if (definition.CheckpointConfig is not null) job["CheckpointConfig"] = definition.CheckpointConfig.DeepClone();
        if (modelUri is not null) job["ModelArtifacts"] = new JsonObject { ["S3ModelArtifacts"] = modelUri };
        if (failure is not null) job["FailureReason"] = $"ClientError: {failure.Message}";
        if (finalMetrics is not null)
        {
            var list = new JsonArray();
            foreach (var (metric, value) in finalMetrics.OrderBy(p => p.Key, StringComparer.Ordinal))
                list.Add(new JsonObject { ["MetricName"] = metric, ["Value"] = value, ["Timestamp"] = Timestamp(ended) });
            job["FinalMetricDataList"] = list;
        }
        return job;
    }

    private static string LibraryVersion()
    {
        try
        {
            return Training.XGBoost.Booster.Version;
        }
        catch (WorkflowError)
        {
            return "(not loaded)";
        }
    }

    internal static double? FinalMetric(JsonObject job, string metricName) =>
        (job["FinalMetricDataList"] as JsonArray)?
            .Where(m => m?["MetricName"]?.GetValue<string>() == metricName)
            .Select(m => (double?)m!["Value"]!.GetValue<double>())
            .FirstOrDefault();

    internal static string Invariant(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
