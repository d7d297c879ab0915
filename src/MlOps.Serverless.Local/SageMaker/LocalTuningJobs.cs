using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Training.Jobs;
using MlOps.Serverless.Training.Tuning;
using static MlOps.Serverless.Local.SageMaker.SageMakerRequest;

namespace MlOps.Serverless.Local.SageMaker;

/// <summary>Where a local tuning job's time went: loading the channels once, then the trials.</summary>
public sealed record TuningTimings(string TuningJobName, TimeSpan DataLoad, TimeSpan Total, int TrainRows, int ValidationRows, int Features, int Parallel, int ThreadsPerTrial);

/// <summary>
/// CreateHyperParameterTuningJob on local XGBoost. Strategy Bayesian runs <see cref="BayesianSearch"/> (a Gaussian
/// process with expected improvement after a quasi-random design); Random and Hyperband run the seeded quasi-random
/// (Halton) search, <see cref="QuasiRandomSearch"/>. Both are seeded from the job name. The channels are
/// loaded into XGBoost once per tuning job and shared by every trial; trials run
/// min(MaxParallelTrainingJobs, cores) at a time with cores / parallel XGBoost threads each.
/// </summary>
public sealed class LocalTuningJobs(IObjectStore s3, LocalJobStore jobs, LocalTrainingJobs training, LocalAwsIdentity identity, StructuredLog? log = null)
{
    public const string Kind = "tuning-jobs";
    private readonly StructuredLog _log = log ?? new StructuredLog("LocalSageMaker");

    /// <summary>Cores the trials may use; the benchmark and tests may lower it.</summary>
    public int Cores { get; init; } = Environment.ProcessorCount;

    /// <summary>Called after each tuning job with its load and total times (the benchmark prints them).</summary>
    public Action<TuningTimings>? ReportTimings { get; set; }

    /// <summary>Called as each trial finishes: (trials done, trials in all). Local mode shows it as progress.</summary>
    public Action<int, int>? ReportTrial { get; set; }

    public async Task<JsonObject> CreateAsync(JsonNode? request, CancellationToken cancellationToken)
    {
        var job = ParseTuningRequest(request);
        if (jobs.Get(Kind, job.Name) is not null)
            throw new TaskFailure(InUseError, $"Hyperparameter tuning job names must be unique; {job.Name} already exists ({identity.Arn("hyper-parameter-tuning-job", job.Name)})");

        var arn = identity.Arn("hyper-parameter-tuning-job", job.Name);
        var created = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        IReadOnlyList<JsonObject> results;
        var finished = new List<JsonObject>();
        try
        {
            results = await RunTrialsAsync(job, arn, clock, finished, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // StopHyperParameterTuningJob, as Step Functions sends it for a .sync job it gave up on: the running
            // trials stop (within one boosting round), no new one starts, and the job is recorded as Stopped.
            List<JsonObject> ran;
            lock (finished) ran = [.. finished];
            jobs.Put(Kind, job.Name, Describe(job.Name, arn, request!, created, ran, job.ObjectiveType, null, stopped: true));
            _log.Warn("tuning job stopped", ("tuningJobName", job.Name), ("trialsFinished", ran.Count), ("totalMs", clock.ElapsedMilliseconds));
            throw;
        }
        catch (WorkflowError e)
        {
            // The channels could not be read: every trial would fail the same way, as in SageMaker.
            var failed = Describe(job.Name, arn, request!, created, [], job.ObjectiveType, $"ClientError: {e.Message}");
            jobs.Put(Kind, job.Name, failed);
            throw new TaskFailure("States.TaskFailed", failed.ToJsonString());
        }

        var describe = Describe(job.Name, arn, request!, created, results, job.ObjectiveType, null);
        jobs.Put(Kind, job.Name, describe);
        describe.Remove("TrainingJobSummaries");
        if (describe["HyperParameterTuningJobStatus"]!.GetValue<string>() != "Completed")
            throw new TaskFailure("States.TaskFailed", describe.ToJsonString());
        return describe;
    }

    /// <summary>The request's parameters, checked in the order SageMaker reports them, plus what the local tuner does not support.</summary>
    private static TuningRequest ParseTuningRequest(JsonNode? request)
    {
        var name = Name(request, "HyperParameterTuningJobName", maxLength: 32);
        var config = At(request, "HyperParameterTuningJobConfig") ?? throw Invalid("1 validation error detected: Value null at 'HyperParameterTuningJobConfig' failed to satisfy constraint: Member must not be null");
        var definitionNode = At(request, "TrainingJobDefinition") ?? throw Invalid("TrainingJobDefinition is required (TrainingJobDefinitions is not supported locally)");

        var strategy = RequiredString(config, "Strategy");
        if (strategy is not ("Bayesian" or "Random" or "Hyperband"))
            throw Invalid($"HyperParameterTuningJobConfig.Strategy '{strategy}' is not supported locally (Bayesian, Random and Hyperband are)");
        var objectiveType = RequiredString(config, "HyperParameterTuningJobObjective.Type");
        if (objectiveType is not ("Minimize" or "Maximize"))
            throw Invalid($"Value '{objectiveType}' at 'HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.Type' failed to satisfy constraint: Member must satisfy enum value set: [Maximize, Minimize]");
        var objectiveMetric = RequiredString(config, "HyperParameterTuningJobObjective.MetricName");
        if (!objectiveMetric.Contains(':'))
            throw Invalid($"HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.MetricName '{objectiveMetric}' is not an XGBoost metric such as validation:rmse");
        var maxJobs = RequiredInt(config, "ResourceLimits.MaxNumberOfTrainingJobs");
        var maxParallel = RequiredInt(config, "ResourceLimits.MaxParallelTrainingJobs");
        if (maxJobs < 1) throw Invalid($"HyperParameterTuningJobConfig.ResourceLimits.MaxNumberOfTrainingJobs must be >= 1, got {maxJobs}");
        if (maxParallel < 1) throw Invalid($"HyperParameterTuningJobConfig.ResourceLimits.MaxParallelTrainingJobs must be >= 1, got {maxParallel}");
        var ranges = ParseRanges(config);
        if (ranges.Count == 0) throw Invalid("HyperParameterTuningJobConfig.ParameterRanges must name at least one hyperparameter to tune");

        var statics = StringMap(definitionNode, "StaticHyperParameters");
        foreach (var range in ranges)
            if (statics.ContainsKey(range.Name))
                throw Invalid($"Hyperparameter '{range.Name}' is both in TrainingJobDefinition.StaticHyperParameters and in ParameterRanges");
        var definition = TrainingDefinition.Parse(definitionNode, "TrainingJobDefinition.");
        if (objectiveMetric.StartsWith("validation:", StringComparison.Ordinal) && !definition.Channels.Any(c => c.Name == "validation"))
            throw Invalid($"Objective metric {objectiveMetric} needs a 'validation' channel in TrainingJobDefinition.InputDataConfig");
        return new TuningRequest(name, strategy, objectiveType, objectiveMetric, maxJobs, maxParallel, ranges, statics, definition);
    }

    /// <summary>Loads the channels once and runs every trial on them; each finished trial's summary is also added to <paramref name="finished"/>.</summary>
    private async Task<IReadOnlyList<JsonObject>> RunTrialsAsync(TuningRequest job, string arn, Stopwatch clock, List<JsonObject> finished,
        CancellationToken cancellationToken)
    {
        var name = job.Name;
        var seed = QuasiRandomSearch.SeedFrom(name);
        var design = new QuasiRandomSearch(job.Ranges, seed);
        IHyperparameterSearch search = job.Strategy == "Bayesian"
            ? new BayesianSearch(job.Ranges, seed, job.ObjectiveType == "Minimize", BayesianSearch.InitialTrials(job.MaxJobs))
            : design;
        var plan = TrialScheduler.For(job.MaxParallel, Cores);

        using var data = await ChannelData.LoadAsync(s3, job.Definition, Cores, ChannelData.Weighted(job.Statics), cancellationToken);
        if (plan.Parallel > 1) PrepareSharedMatrix(job.HyperParameters(design.Propose(0)), data);
        var loaded = clock.Elapsed;
        var done = 0;
        var results = TrialScheduler.Run(job.MaxJobs, plan, (i, threads) =>
        {
            var tuned = search.Propose(i);
            var trial = training.RunAsync(TrialName(name, i), job.HyperParameters(tuned), job.Definition, data, threads, DateTimeOffset.UtcNow, arn, cancellationToken)
                .GetAwaiter().GetResult();
            search.Observe(i, LocalTrainingJobs.FinalMetric(trial, job.ObjectiveMetric));
            var summary = Summary(trial, tuned, job.ObjectiveType, job.ObjectiveMetric, name);
            lock (finished) finished.Add(summary);
            ReportTrial?.Invoke(Interlocked.Increment(ref done), job.MaxJobs);
            return summary;
        },
        // Quasi-random points are known up front: the most expensive go first so no lane idles at the end.
        search is QuasiRandomSearch ? i => TrialScheduler.XgboostCost(design.Propose(i)) : null, cancellationToken);
        ReportTimings?.Invoke(new TuningTimings(name, loaded, clock.Elapsed, data.TrainRows, data.ValidationRows, data.Features, plan.Parallel, plan.ThreadsPerTrial));
        _log.Info("tuning job trials finished", ("tuningJobName", name), ("trials", results.Count), ("parallel", plan.Parallel),
            ("threadsPerTrial", plan.ThreadsPerTrial), ("loadMs", (long)loaded.TotalMilliseconds), ("totalMs", clock.ElapsedMilliseconds));
        return results;
    }

    private sealed record TuningRequest(string Name, string Strategy, string ObjectiveType, string ObjectiveMetric, int MaxJobs, int MaxParallel,
        List<ParameterRange> Ranges, Dictionary<string, string> Statics, TrainingDefinition Definition)
    {
        /// <summary>A trial's hyperparameters: the static ones, the tuned values over them, and the objective.</summary>
        public Dictionary<string, string> HyperParameters(IReadOnlyDictionary<string, string> tuned)
        {
            var hyperParameters = new Dictionary<string, string>(Statics, StringComparer.Ordinal);
            foreach (var (k, v) in tuned) hyperParameters[k] = v;
            hyperParameters[XgboostHyperParameters.TuningObjectiveMetric] = ObjectiveMetric; // as SageMaker's tuner does
            return hyperParameters;
        }
    }

    /// <summary>
    /// Quantises the shared train matrix before trials run concurrently. Invalid static parameters are left
    /// for the trials to report as failed jobs, as SageMaker would.
    /// </summary>
    private void PrepareSharedMatrix(IReadOnlyDictionary<string, string> hyperParameters, ChannelData data)
    {
        try
        {
            XgboostTrainer.PrepareSharedMatrix(XgboostHyperParameters.Parse(hyperParameters), data.Train, Cores);
        }
        catch (WorkflowError e)
        {
            _log.Warn("could not prepare the shared matrix; trials will report the error", ("errorMessage", e.Message));
        }
    }

    public JsonObject DescribeExisting(JsonNode? request)
    {
        var name = RequiredString(request, "HyperParameterTuningJobName");
        var stored = jobs.Get(Kind, name) ?? throw NotFound($"Amazon SageMaker can't find a tuning job with name {name}");
        stored.Remove("TrainingJobSummaries");
        return stored;
    }

    /// <summary>ListTrainingJobsForHyperParameterTuningJob: SortBy Name | CreationTime | Status | FinalObjectiveMetricValue.</summary>
    public JsonObject ListTrainingJobs(JsonNode? request)
    {
        var name = RequiredString(request, "HyperParameterTuningJobName");
        var stored = jobs.Get(Kind, name) ?? throw NotFound($"Amazon SageMaker can't find a tuning job with name {name}");
        var summaries = (stored["TrainingJobSummaries"] as JsonArray ?? []).Select(s => s!.AsObject()).ToList();
        var status = OptionalString(request, "StatusEquals");
        if (status is not null) summaries = summaries.Where(s => s["TrainingJobStatus"]?.GetValue<string>() == status).ToList();

        var sortBy = OptionalString(request, "SortBy") ?? "Name";
        var descending = (OptionalString(request, "SortOrder") ?? "Ascending") switch
        {
            "Ascending" => false,
            "Descending" => true,
            var other => throw Invalid($"Value '{other}' at 'SortOrder' failed to satisfy constraint: Member must satisfy enum value set: [Ascending, Descending]"),
        };
        IOrderedEnumerable<JsonObject> ordered = sortBy switch
        {
            "Name" => Order(summaries, s => s["TrainingJobName"]!.GetValue<string>(), descending),
            "CreationTime" => Order(summaries, s => s["CreationTime"]!.GetValue<string>(), descending),
            "Status" => Order(summaries, s => s["TrainingJobStatus"]!.GetValue<string>(), descending),
            // Jobs without an objective value sort last either way, as in SageMaker.
            "FinalObjectiveMetricValue" => summaries.OrderBy(s => Objective(s) is null)
                .ThenBy(s => descending ? -(Objective(s) ?? 0) : Objective(s) ?? 0),
            _ => throw Invalid($"Value '{sortBy}' at 'SortBy' failed to satisfy constraint: Member must satisfy enum value set: [Name, CreationTime, Status, FinalObjectiveMetricValue]"),
        };
        var maxResults = OptionalInt(request, "MaxResults") ?? 10;
        if (maxResults is < 1 or > 100) throw Invalid($"Value '{maxResults}' at 'MaxResults' failed to satisfy constraint: Member must have value between 1 and 100");
        var start = OptionalString(request, "NextToken") is { } token && int.TryParse(token, NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) ? t : 0;
        var page = ordered.Skip(start).Take(maxResults).ToList();
        var result = new JsonObject { ["TrainingJobSummaries"] = new JsonArray(page.Select(s => (JsonNode)s.DeepClone()).ToArray()) };
        if (start + page.Count < summaries.Count) result["NextToken"] = (start + page.Count).ToString(CultureInfo.InvariantCulture);
        return result;
    }

    /// <summary><c>{tuningJobName}-{NNN}-{8 hex}</c>, the way SageMaker names a tuning job's training jobs.</summary>
    public static string TrialName(string tuningJobName, int index)
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{tuningJobName}/{index}")))[..8];
        return $"{tuningJobName}-{(index + 1).ToString("000", CultureInfo.InvariantCulture)}-{hex}";
    }

    private static List<ParameterRange> ParseRanges(JsonNode config)
    {
        var ranges = new List<ParameterRange>();
        void Add(string kind, bool integer)
        {
            var list = Array(config, $"ParameterRanges.{kind}", required: false);
            for (var i = 0; i < list.Count; i++)
            {
                var at = $"HyperParameterTuningJobConfig.ParameterRanges.{kind}[{i}]";
                var name = OptionalString(list[i], "Name") ?? throw Invalid($"Value null at '{at}.Name' failed to satisfy constraint: Member must not be null");
                var min = Number(list[i], "MinValue", at);
                var max = Number(list[i], "MaxValue", at);
                var scaling = (OptionalString(list[i], "ScalingType") ?? "Auto") switch
                {
                    "Auto" => ScalingType.Auto,
                    "Linear" => ScalingType.Linear,
                    "Logarithmic" => ScalingType.Logarithmic,
                    "ReverseLogarithmic" => ScalingType.ReverseLogarithmic,
                    var other => throw Invalid($"Value '{other}' at '{at}.ScalingType' failed to satisfy constraint: Member must satisfy enum value set: [Auto, Linear, Logarithmic, ReverseLogarithmic]"),
                };
                var range = new ParameterRange(name, integer, min, max, scaling);
                if (range.Problem() is { } problem) throw Invalid($"{at} ({name}): {problem}");
                if (ranges.Any(r => r.Name == name)) throw Invalid($"{at}: hyperparameter '{name}' has more than one range");
                ranges.Add(range);
            }
        }
        Add("IntegerParameterRanges", integer: true);
        Add("ContinuousParameterRanges", integer: false);
        if (Array(config, "ParameterRanges.CategoricalParameterRanges", required: false).Count > 0)
            throw Invalid("HyperParameterTuningJobConfig.ParameterRanges.CategoricalParameterRanges is not supported by the local tuner");
        return ranges;
    }

    private static double Number(JsonNode? node, string field, string at)
    {
        var text = OptionalString(node, field) ?? throw Invalid($"Value null at '{at}.{field}' failed to satisfy constraint: Member must not be null");
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid($"Value '{text}' at '{at}.{field}' must be a number");
    }

    /// <summary>A HyperParameterTrainingJobSummary, the shape of BestTrainingJob and of the list call.</summary>
    private static JsonObject Summary(JsonObject job, IReadOnlyDictionary<string, string> tuned, string objectiveType, string objectiveMetric, string tuningJobName)
    {
        var tunedNode = new JsonObject();
        foreach (var (k, v) in tuned.OrderBy(p => p.Key, StringComparer.Ordinal)) tunedNode[k] = v;
        var summary = new JsonObject
        {
            ["TrainingJobName"] = job["TrainingJobName"]!.DeepClone(),
            ["TrainingJobArn"] = job["TrainingJobArn"]!.DeepClone(),
            ["TuningJobName"] = tuningJobName,
            ["CreationTime"] = job["CreationTime"]!.DeepClone(),
            ["TrainingStartTime"] = job["TrainingStartTime"]!.DeepClone(),
            ["TrainingEndTime"] = job["TrainingEndTime"]!.DeepClone(),
            ["TrainingJobStatus"] = job["TrainingJobStatus"]!.DeepClone(),
            ["TunedHyperParameters"] = tunedNode,
        };
        var value = LocalTrainingJobs.FinalMetric(job, objectiveMetric);
        if (value is { } v2 && double.IsFinite(v2))
        {
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = new JsonObject { ["Type"] = objectiveType, ["MetricName"] = objectiveMetric, ["Value"] = v2 };
            summary["ObjectiveStatus"] = "Succeeded";
        }
        else
        {
            summary["ObjectiveStatus"] = "Failed";
            summary["FailureReason"] = job["FailureReason"]?.DeepClone() ?? $"the job did not report {objectiveMetric}";
        }
        return summary;
    }

    private static JsonObject Describe(string name, string arn, JsonNode request, DateTimeOffset created, IReadOnlyList<JsonObject> summaries, string objectiveType, string? failure,
        bool stopped = false)
    {
        var succeeded = summaries.Where(s => s["ObjectiveStatus"]!.GetValue<string>() == "Succeeded").ToList();
        var best = objectiveType == "Minimize"
            ? succeeded.OrderBy(s => Objective(s)).ThenBy(s => s["TrainingJobName"]!.GetValue<string>(), StringComparer.Ordinal).FirstOrDefault()
            : succeeded.OrderByDescending(s => Objective(s)).ThenBy(s => s["TrainingJobName"]!.GetValue<string>(), StringComparer.Ordinal).FirstOrDefault();
        var completed = summaries.Count(s => s["TrainingJobStatus"]!.GetValue<string>() == "Completed");
        failure ??= best is null && !stopped ? $"All training jobs failed; see their FailureReason (first: {(summaries.Count > 0 ? summaries[0] : null)?["FailureReason"]?.GetValue<string>() ?? "none ran"})" : null;
        var ended = DateTimeOffset.UtcNow;
        var describe = new JsonObject
        {
            ["HyperParameterTuningJobName"] = name,
            ["HyperParameterTuningJobArn"] = arn,
            ["HyperParameterTuningJobConfig"] = At(request, "HyperParameterTuningJobConfig")!.DeepClone(),
            ["TrainingJobDefinition"] = At(request, "TrainingJobDefinition")!.DeepClone(),
            ["HyperParameterTuningJobStatus"] = stopped ? "Stopped" : failure is null ? "Completed" : "Failed",
            ["CreationTime"] = Timestamp(created),
            ["HyperParameterTuningEndTime"] = Timestamp(ended),
            ["LastModifiedTime"] = Timestamp(ended),
            ["TrainingJobStatusCounters"] = new JsonObject
            {
                ["Completed"] = completed, ["InProgress"] = 0, ["RetryableError"] = 0,
                ["NonRetryableError"] = summaries.Count - completed, ["Stopped"] = 0,
            },
            ["ObjectiveStatusCounters"] = new JsonObject
            {
                ["Succeeded"] = succeeded.Count, ["Pending"] = 0, ["Failed"] = summaries.Count - succeeded.Count,
            },
            ["TuningJobCompletionDetails"] = new JsonObject { ["NumberOfTrainingJobsObjectiveNotImproving"] = 0 },
            // Local only (removed from Describe): the store keeps every trial for ListTrainingJobsForHyperParameterTuningJob.
            ["TrainingJobSummaries"] = new JsonArray(summaries.Select(s => (JsonNode)s.DeepClone()).ToArray()),
        };
        if (best is not null) describe["BestTrainingJob"] = best.DeepClone();
        if (failure is not null) describe["FailureReason"] = failure;
        return describe;
    }

    private static double? Objective(JsonObject summary) =>
        summary["FinalHyperParameterTuningJobObjectiveMetric"]?["Value"]?.GetValue<double>();

    private static IOrderedEnumerable<JsonObject> Order(IEnumerable<JsonObject> items, Func<JsonObject, string> key, bool descending) =>
        descending ? items.OrderByDescending(key, StringComparer.Ordinal) : items.OrderBy(key, StringComparer.Ordinal);
}
