using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Json;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Mlflow.Client;
using MlOps.Serverless.Mlflow.Json;

namespace MlOps.Serverless.Mlflow.Logging;

/// <summary>
/// Records a run in MLflow: one parent run per execution (its tuning job or single training job), one child
/// run per training job, evaluation results on the parent, and on promotion an MLflow model logged on the
/// parent, a registered-model version of it and the champion alias. Idempotent: every run is found by its
/// <see cref="RunKeyTag"/> (the execution ARN and start time) before one is created, all timestamps come from
/// the input, params are derived deterministically, so logging the same input again creates nothing and
/// changes no param. <paramref name="store"/> reads curves and the promoted model (and writes the model where
/// the run's artifacts live in S3).
/// </summary>
public sealed class MlflowRunWriter(MlflowClient client, IObjectStore? store = null, TimeProvider? clock = null)
{
    public const string RunKeyTag = "mlops.run_key";
    public const string ParentRunIdTag = "mlflow.parentRunId";
    public const string RunNameTag = "mlflow.runName";
    public const string RunIdTag = "mlops.run_id";
    public const string PromotedAtTag = "mlops.promoted_at";
    public const string ModelArtifactsTag = "sagemaker.model_artifacts";
    public const string DescriptionTag = "mlflow.note.content";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public async Task<MlflowLoggerOutput> LogAsync(MlflowLoggerInput input, CancellationToken ct = default)
    {
        Validate(input);
        return input.Action switch
        {
            MlflowLoggerAction.Training => await LogTrainingAsync(input.Run, input.Training!, input.TuningJobConfig, ct),
            MlflowLoggerAction.Evaluation => await LogEvaluationAsync(input.Run, input.Evaluation!, ct),
            MlflowLoggerAction.Promotion => await LogPromotionAsync(input.Run, input.Promotion!, ct),
            _ => throw new InvalidStageInput($"action '{input.Action}' is not one of training, evaluation, promotion"),
        };
    }

    /// <summary>Input problems are wiring bugs, not MLflow outages: they fail the stage instead of deferring.</summary>
    public static void Validate(MlflowLoggerInput input)
    {
        switch (input.Action)
        {
            case MlflowLoggerAction.Training when input.Training is null:
                throw new InvalidStageInput("MlflowLoggerInput.training is required when action is 'training'.");
            case MlflowLoggerAction.Training when input.Training.BestTrainingJob is null && (input.Training.TrainingJobs is null || input.Training.TrainingJobs.Count == 0):
                throw new InvalidStageInput("MlflowLoggerInput.training has neither bestTrainingJob nor trainingJobs; there is nothing to log.");
            case MlflowLoggerAction.Evaluation when input.Evaluation is null:
                throw new InvalidStageInput("MlflowLoggerInput.evaluation is required when action is 'evaluation'.");
            case MlflowLoggerAction.Promotion when input.Promotion is null || string.IsNullOrWhiteSpace(input.Promotion.ModelArtifactUri):
                throw new InvalidStageInput("MlflowLoggerInput.promotion.modelArtifactUri is required when action is 'promotion'.");
        }
    }

    // ---------------- training ----------------

    private async Task<MlflowLoggerOutput> LogTrainingAsync(RunRequest run, TrainingResult training, TuningJobConfig? tuningConfig, CancellationToken ct)
    {
        var experimentId = await client.GetOrCreateExperimentAsync(run.Config.Mlflow.ExperimentName, ct);
        await client.SetExperimentTagAsync(experimentId, DescriptionTag, ExperimentDescription, ct);
        var jobs = TrainingJobsOf(training);
        var bestName = training.BestTrainingJob?.TrainingJobName ?? training.TuningJob?.BestTrainingJob?.TrainingJobName;
        var (start, end) = TrainingSpan(run, training, jobs);

        var known = await KnownRunsAsync(experimentId, run, ct);
        var parent = await EnsureRunAsync(known, experimentId, run, ParentKey(run), ParentRunName(run), start, [], ct);
        var parentId = parent.Info.RunId;
        await client.LogBatchAsync(parentId, ParentMetrics(training, jobs, bestName, end), ParentParams(training, tuningConfig),
            ParentTags(run, training, bestName), ct);
        await LogDatasetAsync(parentId, run, ct);

        var childIds = new List<string>();
        foreach (var job in jobs)
            childIds.Add(await LogChildRunAsync(known, experimentId, run, training, job, job.TrainingJobName == bestName, parentId, start, end, ct));

        await client.UpdateRunAsync(parentId, training.TuningJob?.HyperParameterTuningJobStatus is "Failed" ? "FAILED" : "FINISHED", end, ct);
        return new MlflowLoggerOutput(MlflowLoggerStatus.Logged, experimentId, parentId, childIds);
    }

    /// <summary>The listed training jobs, or the best job alone when none are listed.</summary>
    private static IReadOnlyList<TrainingJobSummary> TrainingJobsOf(TrainingResult training)
    {
        var best = training.BestTrainingJob;
        return training.TrainingJobs is { Count: > 0 } listed
            ? listed
            : [new TrainingJobSummary(best!.TrainingJobName, best.TrainingJobArn, best.TrainingJobStatus, best.HyperParameters,
                null, best.TrainingStartTime, best.TrainingEndTime)];
    }

    private static (DateTimeOffset Start, DateTimeOffset End) TrainingSpan(RunRequest run, TrainingResult training, IReadOnlyList<TrainingJobSummary> jobs)
    {
        var tuning = training.TuningJob;
        var start = tuning?.CreationTime ?? jobs.Select(j => j.TrainingStartTime ?? j.CreationTime).Where(t => t is not null).Min() ?? run.RequestedAt;
        var end = tuning?.HyperParameterTuningEndTime ?? jobs.Select(j => j.TrainingEndTime).Where(t => t is not null).Max()
            ?? training.BestTrainingJob?.TrainingEndTime ?? start;
        return (start, end);
    }

    /// <summary>One search finds every run this execution already has (all carry mlops.run_id from creation on).</summary>
    private async Task<Dictionary<string, MlflowRun>> KnownRunsAsync(string experimentId, RunRequest run, CancellationToken ct) =>
        (await client.FindRunsByTagAsync(experimentId, RunIdTag, run.RunId, ct))
            .Where(r => r.Tag(RunKeyTag) is not null)
            .GroupBy(r => r.Tag(RunKeyTag)!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Oldest(g), StringComparer.Ordinal);

    private static List<MlflowParam> ParentParams(TrainingResult training, TuningJobConfig? tuningConfig)
    {
        var tuning = training.TuningJob;
        var parentParams = new List<MlflowParam>();
        if (training.BestTrainingJob?.HyperParameters is { } hp) parentParams.AddRange(Params(hp));
        if (tuning is not null && (tuningConfig ?? tuning.HyperParameterTuningJobConfig) is { } cfg)
            parentParams.AddRange(TuningParams(cfg));
        return parentParams;
    }

    private static List<MlflowMetric> ParentMetrics(TrainingResult training, IReadOnlyList<TrainingJobSummary> jobs, string? bestName, DateTimeOffset end)
    {
        var stamp = end.ToUnixTimeMilliseconds();
        var parentMetrics = new List<MlflowMetric>();
        if (training.BestTrainingJob?.FinalMetricDataList is { } finals)
            parentMetrics.AddRange(finals.Select(m => new MlflowMetric(MlflowBatching.SanitizeKey(m.MetricName), m.Value, stamp)));
        var objective = training.TuningJob?.BestTrainingJob?.FinalHyperParameterTuningJobObjectiveMetric
            ?? jobs.FirstOrDefault(j => j.TrainingJobName == bestName)?.FinalHyperParameterTuningJobObjectiveMetric;
        if (objective is not null) parentMetrics.Add(new("best_objective", objective.Value, stamp));
        parentMetrics.Add(new("training_jobs", jobs.Count, stamp));
        parentMetrics.Add(new("completed_training_jobs", jobs.Count(j => j.TrainingJobStatus is null or "Completed"), stamp));
        return parentMetrics;
    }

    private static List<MlflowTag> ParentTags(RunRequest run, TrainingResult training, string? bestName)
    {
        var tuning = training.TuningJob;
        var best = training.BestTrainingJob;
        var parentTags = new List<MlflowTag>(RunTags(run).Where(t => t.Value.Length > 0)) // a file logged by hand has no data location
        {
            new("mlops.run_role", "parent"),
            new(DescriptionTag, ParentDescription(run, tuning?.HyperParameterTuningJobName ?? bestName)),
        };
        parentTags.AddRange(SystemTags(run));
        if (tuning is not null)
        {
            parentTags.Add(new("sagemaker.tuning_job_name", tuning.HyperParameterTuningJobName));
            if (tuning.HyperParameterTuningJobArn is { } arn) parentTags.Add(new("sagemaker.tuning_job_arn", arn));
            if (tuning.HyperParameterTuningJobStatus is { } st) parentTags.Add(new("sagemaker.tuning_job_status", st));
        }
        if (bestName is not null) parentTags.Add(new("sagemaker.best_training_job_name", bestName));
        if (best?.TrainingJobArn is { } bestArn) parentTags.Add(new("sagemaker.best_training_job_arn", bestArn));
        if (best?.ModelArtifacts?.S3ModelArtifacts is { } artifact) parentTags.Add(new(ModelArtifactsTag, artifact));
        return parentTags;
    }

    /// <summary>Ensures, fills and closes the child run of one training job; returns its run id.</summary>
    private async Task<string> LogChildRunAsync(Dictionary<string, MlflowRun> known, string experimentId, RunRequest run, TrainingResult training,
        TrainingJobSummary job, bool isBest, string parentId, DateTimeOffset start, DateTimeOffset end, CancellationToken ct)
    {
        var jobStart = job.TrainingStartTime ?? job.CreationTime ?? start;
        var child = await EnsureRunAsync(known, experimentId, run, ChildKey(run, job.TrainingJobName), job.TrainingJobName, jobStart,
            [new(ParentRunIdTag, parentId)], ct);
        var childId = child.Info.RunId;

        // Params: the tuned values; the best job also has its full DescribeTrainingJob set (same values for tuned keys).
        var hyper = new Dictionary<string, string>(job.TunedHyperParameters ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        if (isBest && training.BestTrainingJob?.HyperParameters is { } all)
            foreach (var (k, v) in all) hyper[k] = v;

        var metrics = await ChildMetricsAsync(training, job, isBest, jobStart, job.TrainingEndTime ?? end, ct);
        await client.LogBatchAsync(childId, metrics, Params(hyper), ChildTags(run, training, job, isBest), ct);
        await LogDatasetAsync(childId, run, ct);
        await client.UpdateRunAsync(childId, RunStatus(job.TrainingJobStatus), job.TrainingEndTime ?? end, ct);
        return childId;
    }

    /// <summary>
    /// The curves hold every round under the metric's own key; the tuner's objective has a key of its own, and a
    /// final metric is logged only where no curve holds it, so no key has two points at step 0.
    /// </summary>
    private async Task<List<MlflowMetric>> ChildMetricsAsync(TrainingResult training, TrainingJobSummary job, bool isBest,
        DateTimeOffset jobStart, DateTimeOffset jobEnd, CancellationToken ct)
    {
        var jobStamp = jobEnd.ToUnixTimeMilliseconds();
        var curvePoints = await CurvesAsync(training.CurvesUri, job.TrainingJobName, jobStart, jobEnd, ct);
        var curveKeys = curvePoints.Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
        var metrics = new List<MlflowMetric>();
        if (job.FinalHyperParameterTuningJobObjectiveMetric is { } fm)
            metrics.Add(new(ObjectiveKey, fm.Value, jobStamp));
        if (isBest && training.BestTrainingJob?.FinalMetricDataList is { } bestFinals)
            foreach (var m in bestFinals.Where(m => !curveKeys.Contains(MlflowBatching.SanitizeKey(m.MetricName))))
                metrics.Add(new(MlflowBatching.SanitizeKey(m.MetricName), m.Value, jobStamp));
        metrics.AddRange(curvePoints);
        return metrics;
    }

    private static List<MlflowTag> ChildTags(RunRequest run, TrainingResult training, TrainingJobSummary job, bool isBest)
    {
        var tags = new List<MlflowTag>
        {
            new("mlops.run_role", "child"),
            new(RunIdTag, run.RunId),
            new("mlops.execution_arn", run.ExecutionArn),
            new("mlops.data.fingerprint", run.Data.Fingerprint),
            new("mlops.best", isBest ? "true" : "false"),
            new("sagemaker.training_job_name", job.TrainingJobName),
        };
        if (job.TrainingJobArn is { } jobArn) tags.Add(new("sagemaker.training_job_arn", jobArn));
        if (job.TrainingJobStatus is { } status) tags.Add(new("sagemaker.training_job_status", status));
        if (training.TuningJob is { } tuning) tags.Add(new("sagemaker.tuning_job_name", tuning.HyperParameterTuningJobName));
        tags.AddRange(SystemTags(run));
        return tags;
    }

    // ---------------- evaluation ----------------

    private async Task<MlflowLoggerOutput> LogEvaluationAsync(RunRequest run, EvaluationResult evaluation, CancellationToken ct)
    {
        var (experimentId, parent) = await FindParentAsync(run, ct);
        // The parent's start time is fixed when it is created, so a re-log sends identical (de-duplicated) metrics.
        var stamp = parent.Info.StartTime ?? run.RequestedAt.ToUnixTimeMilliseconds();
        var metrics = new List<MlflowMetric>();
        void Add(string prefix, IReadOnlyDictionary<string, JsonElement>? set)
        {
            if (set is null) return;
            foreach (var (name, value) in set.OrderBy(p => p.Key, StringComparer.Ordinal))
                if (value.ValueKind == JsonValueKind.Number)
                    metrics.Add(new(MlflowBatching.SanitizeKey($"{prefix}_{name}"), value.GetDouble(), stamp));
        }
        Add("test", evaluation.Challenger);
        Add("baseline", evaluation.Baseline);
        Add("champion", evaluation.Champion);

        var tags = new List<MlflowTag> { new("mlops.gate.decision", evaluation.Decision) };
        if (evaluation.Reasons is { Count: > 0 } reasons) tags.Add(new("mlops.gate.reasons", string.Join("\n", reasons)));
        await client.LogBatchAsync(parent.Info.RunId, metrics, [], tags, ct);
        await ExtendParentAsync(parent, ct);
        return new MlflowLoggerOutput(MlflowLoggerStatus.Logged, experimentId, parent.Info.RunId);
    }

    // ---------------- promotion ----------------

    private async Task<MlflowLoggerOutput> LogPromotionAsync(RunRequest run, PromotionRequest promotion, CancellationToken ct)
    {
        var (experimentId, parent) = await FindParentAsync(run, ct);
        var settings = run.Config.Mlflow;
        var model = settings.RegisteredModelName;
        var promotedAt = promotion.PromotedAt ?? run.RequestedAt;
        var source = await LogModelAsync(parent, promotion.ModelArtifactUri, promotedAt, ct);
        await client.GetOrCreateRegisteredModelAsync(model, RegisteredModelDescription(run), ct);

        // One version per (parent run, SageMaker artifact): look it up before creating so a retry does not add a version.
        var filter = $"name={MlflowClient.QuoteFilterValue(model, "model-versions/search")} AND run_id='{parent.Info.RunId}'";
        var existing = (await client.SearchModelVersionsAsync(filter, ct))
            .Where(v => v.Tag(ModelArtifactsTag) == promotion.ModelArtifactUri || v.Source == promotion.ModelArtifactUri)
            .OrderBy(v => VersionNumber(v.Version))
            .FirstOrDefault();
        List<MlflowTag> versionTags =
        [
            new(RunKeyTag, ParentKey(run)), new("mlops.execution_arn", run.ExecutionArn), new(ModelArtifactsTag, promotion.ModelArtifactUri),
            new(PromotedAtTag, Iso(promotedAt)),
        ];
        if (promotion.ModelPackageArn is { } pkg) versionTags.Add(new("sagemaker.model_package_arn", pkg));
        var version = existing ?? await client.CreateModelVersionAsync(model, source, parent.Info.RunId, versionTags, ct);

        var champion = await MoveAliasForwardAsync(model, settings.ChampionAlias, version, PromotedAt(version) ?? promotedAt, ct);
        List<MlflowTag> parentTags = [new("mlops.registered_model", model), new("mlops.model_version", version.Version)];
        if (promotion.ModelPackageArn is { } package) parentTags.Add(new("sagemaker.model_package_arn", package));
        await client.LogBatchAsync(parent.Info.RunId, [], [], parentTags, ct);
        await ExtendParentAsync(parent, ct);
        return new MlflowLoggerOutput(MlflowLoggerStatus.Logged, experimentId, parent.Info.RunId, ModelVersion: version.Version, ChampionVersion: champion);
    }

    /// <summary>
    /// Points the alias at <paramref name="version"/> only if it was promoted later than the version the alias
    /// points at now (ties: the higher version), so a late replay of an older promotion never moves the champion
    /// back. Returns the version the alias points at afterwards.
    /// </summary>
    private async Task<string> MoveAliasForwardAsync(string model, string alias, MlflowModelVersion version, DateTimeOffset promotedAt, CancellationToken ct)
    {
        var current = await client.GetModelVersionByAliasAsync(model, alias, ct);
        if (current is not null && current.Version == version.Version) return version.Version;
        if (current is not null && PromotedAt(current) is { } currentAt
            && (currentAt, VersionNumber(current.Version)).CompareTo((promotedAt, VersionNumber(version.Version))) > 0)
            return current.Version;
        await client.SetRegisteredModelAliasAsync(model, alias, version.Version, ct);
        return version.Version;
    }

    /// <summary>
    /// Logs the promoted model as an MLflow model under the parent's <c>model/</c> artifacts: through the server's
    /// artifact proxy (<c>mlflow-artifacts:</c> URIs) or straight into S3 (SageMaker's managed MLflow gives runs
    /// <c>s3://</c> artifact URIs). Returns the model's URI, the source of the registered version.
    /// </summary>
    private async Task<string> LogModelAsync(MlflowRun parent, string modelArtifactUri, DateTimeOffset createdAt, CancellationToken ct)
    {
        var artifactUri = parent.Info.ArtifactUri
            ?? throw new MlflowInvalidParameter($"Run {parent.Info.RunId} has no artifact URI; the model cannot be logged.", "runs/get", null, "INVALID_STATE");
        var proxied = MlflowArtifactPaths.IsProxied(artifactUri);
        if (!proxied && !artifactUri.StartsWith("s3://", StringComparison.Ordinal))
            throw new MlflowInvalidParameter($"Run {parent.Info.RunId} stores artifacts at '{artifactUri}', which is neither the server's artifact proxy (mlflow-artifacts:) nor S3; start the server with --serve-artifacts.", "runs/get", null, "INVALID_STATE");
        if (store is null)
            throw new InvalidStageInput($"Reading the promoted model {modelArtifactUri} needs an object store (for a local replay: --s3-root).");

        await using var tarGz = await store.OpenReadAsync(S3Uri.Parse(modelArtifactUri), ct)
            ?? throw new InvalidStageInput($"The promoted model {modelArtifactUri} does not exist.");
        var files = MlflowXgboostModel.Files(MlflowXgboostModel.ExtractModel(tarGz, modelArtifactUri), parent.Info.RunId, createdAt);
        var modelUri = artifactUri.TrimEnd('/') + "/" + MlflowXgboostModel.ArtifactPath;
        foreach (var (name, content) in files)
        {
            if (proxied)
                await client.UploadArtifactAsync(artifactUri, MlflowXgboostModel.ArtifactPath + "/" + name, content, ct);
            else
            {
                using var stream = new MemoryStream(content, writable: false);
                await store.PutAsync(S3Uri.Parse(modelUri + "/" + name), stream, "application/octet-stream", ct);
            }
        }
        return modelUri;
    }

    // ---------------- helpers ----------------

    /// <summary>
    /// A run's identity: its execution ARN and the time it was requested (the execution's start time for a manual
    /// run), so an execution name used again makes a new parent, while a retry or redrive of the same execution
    /// finds its own.
    /// </summary>
    public static string ParentKey(RunRequest run) => run.ExecutionArn + "@" + Iso(run.RequestedAt);
    public static string ChildKey(RunRequest run, string trainingJobName) => ParentKey(run) + "/" + trainingJobName;

    /// <summary>The parent's name in the runs table: the execution and when it started.</summary>
    public static string ParentRunName(RunRequest run) =>
        $"{run.RunId} {run.RequestedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}Z";

    /// <summary>The child's objective metric key, apart from the per-round curve of the same metric.</summary>
    public const string ObjectiveKey = "tuning_objective";

    public const string ExperimentDescription =
        "Weekly retail sales forecasting: one parent run per retraining execution (tuning job), one child run per training job; evaluation on the held-out test weeks and the gate decision on the parent. Logged by MlOps.Serverless.";

    private static string RegisteredModelDescription(RunRequest run) =>
        $"Weekly sales forecaster (SageMaker built-in XGBoost {run.Config.Training.XgboostVersion}), promoted by the evaluation gate; alias '{run.Config.Mlflow.ChampionAlias}' is the newest promotion. It predicts the scaled label (Weekly_Sales / scale): multiply by the row's scale for dollars. Logged by MlOps.Serverless.";

    private static string ParentDescription(RunRequest run, string? jobName) =>
        $"Retraining execution {run.RunId} ({Tag(run.Trigger)}, requested {Iso(run.RequestedAt)}) on batch '{run.Data.BatchId}'{(jobName is null ? "" : $"; SageMaker job {jobName}")}. Execution: {run.ExecutionArn}";

    /// <summary>MLflow's own system tags: who ran it (the state machine) and from where (the execution).</summary>
    private static IEnumerable<MlflowTag> SystemTags(RunRequest run)
    {
        // arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME
        var parts = run.ExecutionArn.Split(':');
        var machine = parts.Length >= 8 ? parts[6] : run.ExecutionArn;
        yield return new("mlflow.user", machine);
        yield return new("mlflow.source.type", "JOB");
        yield return new("mlflow.source.name", parts.Length >= 8 ? string.Join(':', parts[..5]) + ":stateMachine:" + machine : run.ExecutionArn);
    }

    /// <summary>The raw data batch as a dataset input: digest = the fingerprint's first 36 characters (MLflow's limit), source = where it is and its full fingerprint.</summary>
    private async Task LogDatasetAsync(string runId, RunRequest run, CancellationToken ct)
    {
        if (run.Data.Fingerprint.Length == 0) return; // a file logged by hand names no data
        var digest = run.Data.Fingerprint.Length <= client.Options.Limits.MaxDatasetDigestLength
            ? run.Data.Fingerprint : run.Data.Fingerprint[..client.Options.Limits.MaxDatasetDigestLength];
        var source = new JsonObject { ["uri"] = $"s3://{run.Data.Bucket}/{run.Data.Prefix}", ["fingerprint"] = run.Data.Fingerprint }.ToJsonString();
        var name = run.Data.BatchId.Length > 0 ? $"raw batch {run.Data.BatchId}" : "raw batch";
        await client.LogInputsAsync(runId, [new MlflowDatasetInput([new("mlflow.data.context", "training")], new MlflowDataset(name, digest, "s3", source))], ct);
    }

    /// <summary>Moves the parent's end time to now, so it ends after the evaluation and promotion logged on it.</summary>
    private async Task ExtendParentAsync(MlflowRun parent, CancellationToken ct)
    {
        var now = _clock.GetUtcNow();
        if (parent.Info.EndTime is { } end && end >= now.ToUnixTimeMilliseconds()) return;
        await client.UpdateRunAsync(parent.Info.RunId, parent.Info.Status is "FAILED" or "KILLED" ? parent.Info.Status : "FINISHED", now, ct);
    }

    private static IEnumerable<MlflowParam> TuningParams(TuningJobConfig cfg)
    {
        if (cfg.Strategy is { } s) yield return new("tuning.strategy", s);
        if (cfg.HyperParameterTuningJobObjective?.MetricName is { } om) yield return new("tuning.objective_metric", om);
        if (cfg.HyperParameterTuningJobObjective?.Type is { } ot) yield return new("tuning.objective_type", ot);
        if (cfg.ResourceLimits?.MaxNumberOfTrainingJobs is { } mj) yield return new("tuning.max_jobs", Invariant(mj));
        if (cfg.ResourceLimits?.MaxParallelTrainingJobs is { } mp) yield return new("tuning.max_parallel_jobs", Invariant(mp));
        if (cfg.TrainingJobEarlyStoppingType is { } es) yield return new("tuning.early_stopping", es);
        var ranges = cfg.ParameterRanges;
        foreach (var r in (ranges?.IntegerParameterRanges ?? []).Concat(ranges?.ContinuousParameterRanges ?? []).OrderBy(r => r.Name, StringComparer.Ordinal))
            yield return new(MlflowBatching.SanitizeKey($"tuning.range.{r.Name}"), $"{r.MinValue}..{r.MaxValue}{(r.ScalingType is { } st ? " " + st : "")}");
        foreach (var r in (ranges?.CategoricalParameterRanges ?? []).OrderBy(r => r.Name, StringComparer.Ordinal))
            yield return new(MlflowBatching.SanitizeKey($"tuning.range.{r.Name}"), string.Join(",", r.Values ?? []));
    }

    private static DateTimeOffset? PromotedAt(MlflowModelVersion version) =>
        version.Tag(PromotedAtTag) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    private static long VersionNumber(string version) => long.TryParse(version, out var n) ? n : long.MaxValue;

    private static string Iso(DateTimeOffset at) => at.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static string Tag(TriggerKind trigger) => JsonSerializer.Serialize(trigger, MlflowJsonContext.Default.TriggerKind).Trim('"');

    /// <summary>The run with this key, created (tagged with its key and run id) only when none exists.</summary>
    private async Task<MlflowRun> EnsureRunAsync(Dictionary<string, MlflowRun> known, string experimentId, RunRequest run, string key,
        string runName, DateTimeOffset start, IReadOnlyList<MlflowTag> extraTags, CancellationToken ct)
    {
        if (known.TryGetValue(key, out var existing)) return existing;
        List<MlflowTag> tags = [new(RunKeyTag, key), new(RunIdTag, run.RunId), new(RunNameTag, runName), .. extraTags];
        return await client.CreateRunAsync(experimentId, runName, start, tags, ct);
    }

    /// <summary>If a race ever created two runs for one key, the oldest is the one everybody uses.</summary>
    private static MlflowRun Oldest(IEnumerable<MlflowRun> runs) =>
        runs.OrderBy(r => r.Info.StartTime ?? long.MaxValue).ThenBy(r => r.Info.RunId, StringComparer.Ordinal).First();

    private async Task<(string ExperimentId, MlflowRun Parent)> FindParentAsync(RunRequest run, CancellationToken ct)
    {
        var name = run.Config.Mlflow.ExperimentName;
        var experiment = await client.GetExperimentByNameAsync(name, ct)
            ?? throw new MlflowResourceNotFound($"Experiment '{name}' does not exist yet; the training action of run {run.RunId} has not been logged (replay its outbox first).", "experiments/get-by-name", System.Net.HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        var found = await client.FindRunsByTagAsync(experiment.ExperimentId, RunKeyTag, ParentKey(run), ct);
        var parent = (found.Count > 0 ? Oldest(found) : null)
            ?? throw new MlflowResourceNotFound($"No parent run tagged {RunKeyTag}='{ParentKey(run)}' in experiment '{name}'; the training action of run {run.RunId} has not been logged (replay its outbox first).", "runs/search", System.Net.HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        return (experiment.ExperimentId, parent);
    }

    /// <summary>Tags that tie the parent run to the execution, its data and its configuration.</summary>
    private static IEnumerable<MlflowTag> RunTags(RunRequest run)
    {
        yield return new(RunIdTag, run.RunId);
        yield return new("mlops.execution_arn", run.ExecutionArn);
        yield return new("mlops.trigger", Tag(run.Trigger));
        yield return new("mlops.requested_at", run.RequestedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        yield return new("mlops.data.bucket", run.Data.Bucket);
        yield return new("mlops.data.prefix", run.Data.Prefix);
        yield return new("mlops.data.batch_id", run.Data.BatchId);
        yield return new("mlops.data.fingerprint", run.Data.Fingerprint);
        for (var i = 0; i < run.Data.Objects.Count; i++)
        {
            var o = run.Data.Objects[i];
            yield return new($"mlops.data.objects.{i}.key", o.Key);
            yield return new($"mlops.data.objects.{i}.etag", o.ETag);
            if (o.VersionId is { } v) yield return new($"mlops.data.objects.{i}.version_id", v);
        }
        var config = JsonSerializer.SerializeToUtf8Bytes(run.Config, CoreJsonContext.Default.PipelineConfiguration);
        yield return new("mlops.config.sha256", Convert.ToHexStringLower(SHA256.HashData(config)));
        yield return new("mlops.config.experiment_name", run.Config.Mlflow.ExperimentName);
        yield return new("mlops.config.registered_model_name", run.Config.Mlflow.RegisteredModelName);
        yield return new("mlops.config.xgboost_version", run.Config.Training.XgboostVersion);
        yield return new("mlops.config.objective_metric", run.Config.Tuning.ObjectiveMetric);
        yield return new("mlops.config.tuning_enabled", run.Config.Tuning.Enabled ? "true" : "false");
        yield return new("mlops.output.run_uri", run.Output.RunUri);
    }

    private static IEnumerable<MlflowParam> Params(IReadOnlyDictionary<string, string> values) =>
        values.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new MlflowParam(MlflowBatching.SanitizeKey(p.Key), p.Value));

    private static string RunStatus(string? trainingJobStatus) => trainingJobStatus switch
    {
        "Failed" => "FAILED",
        "Stopped" => "KILLED",
        _ => "FINISHED",
    };

    /// <summary>
    /// Per-round curves from <c>{curvesUri}{jobName}/output/metric-curves.json</c> (beside the job's model, where
    /// local training writes them; SageMaker's container writes none, so cloud runs log final metrics only):
    /// an object mapping a metric name to the values of
    /// rounds 0..n-1 (<c>{"train-rmse":[...],"validation-rmse":[...]}</c>), optionally under <c>"metrics"</c>.
    /// A missing file means no curves for that job. Round i is stamped (i+1)/n of the way from the job's start to
    /// its end, so every point has its own time and a re-log sends the same points.
    /// </summary>
    private async Task<IReadOnlyList<MlflowMetric>> CurvesAsync(string? curvesUri, string jobName, DateTimeOffset jobStart, DateTimeOffset jobEnd, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(curvesUri)) return [];
        if (store is null)
            throw new InvalidStageInput($"The curves under {curvesUri} need an object store to be read (for a local replay: --s3-root).");
        var location = S3Uri.Parse(curvesUri).Child($"{jobName}/output/metric-curves.json");
        await using var stream = await store.OpenReadAsync(location, ct);
        if (stream is null) return [];
        Dictionary<string, JsonElement>? doc;
        try { doc = await JsonSerializer.DeserializeAsync(stream, MlflowJsonContext.Default.DictionaryStringJsonElement, ct); }
        catch (JsonException e) { throw new InvalidStageInput($"Curves file {location} is not a JSON object of metric arrays: {e.Message}", e); }
        if (doc is not null && doc.TryGetValue("metrics", out var nested) && nested.ValueKind == JsonValueKind.Object)
            doc = nested.Deserialize(MlflowJsonContext.Default.DictionaryStringJsonElement);

        var start = jobStart.ToUnixTimeMilliseconds();
        var span = Math.Max(0, jobEnd.ToUnixTimeMilliseconds() - start);
        var result = new List<MlflowMetric>();
        foreach (var (name, series) in (doc ?? []).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (series.ValueKind != JsonValueKind.Array) continue;
            var count = series.GetArrayLength();
            var step = 0;
            foreach (var v in series.EnumerateArray())
            {
                if (v.ValueKind == JsonValueKind.Number)
                    result.Add(new(MlflowBatching.SanitizeKey(name), v.GetDouble(), start + span * (step + 1) / count, step));
                step++;
            }
        }
        return result;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
