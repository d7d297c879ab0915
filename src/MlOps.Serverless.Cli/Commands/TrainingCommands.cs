using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Local.Athena;
using MlOps.Serverless.Local.SageMaker;
using MlOps.Serverless.Training.Gate;
using MlOps.Serverless.Training.Json;
using MlOps.Serverless.Training.XGBoost;

namespace MlOps.Serverless.Cli.Commands;

/// <summary>
/// <c>bench-training</c>: the data stages on DuckDB, then the state machine's training path on local
/// XGBoost (tuning job → model → batch transform → evaluation SQL → gate), printing times and quality.
/// </summary>
public static class TrainingCommands
{
    public static Command BenchTraining()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "Folder with the three CSV files (real names)", Required = true };
        var trials = new Option<int>("--trials") { Description = "MaxNumberOfTrainingJobs of the tuning job", DefaultValueFactory = _ => 8 };
        var parallel = new Option<int?>("--parallel") { Description = "MaxParallelTrainingJobs, bounded by the cores (default: the configuration's tuning.maxParallelJobs)" };
        var work = new Option<DirectoryInfo?>("--work") { Description = "Local S3 + state folder to keep (default: a temporary folder, deleted afterwards)" };
        var set = new Option<string[]>("--set") { Description = "Configuration override key=value (repeatable), e.g. tuning.alpha.max=1", AllowMultipleArgumentsPerToken = false };
        var command = new Command("bench-training", "Tune XGBoost locally on the data stages' splits, then transform, evaluate and gate; prints times and WMAE vs the naive baseline")
        {
            data, trials, parallel, work, set,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = parse.GetValue(work)?.FullName ?? Path.Combine(Path.GetTempPath(), "mlops-bench-training-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                var overrides = ConfigurationOverrides.FromPairs(parse.GetValue(set) ?? [], message => new InvalidConfiguration(message));
                return await RunAsync(parse.GetValue(data)!.FullName, root, parse.GetValue(trials), parse.GetValue(parallel), overrides, cancellationToken);
            }
            finally
            {
                if (parse.GetValue(work) is null && Directory.Exists(root)) Directory.Delete(root, recursive: true);
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(string dataDirectory, string root, int trials, int? parallel, JsonObject overrides, CancellationToken cancellationToken)
    {
        Console.WriteLine($"XGBoost {Booster.Version}, {Environment.ProcessorCount} cores");
        using var stages = new LocalDataStages(Path.Combine(root, "s3"));
        var run = await RunDataStagesAsync(stages, dataDirectory, overrides, cancellationToken);

        var adapter = new SageMakerAdapter(stages.Store, Path.Combine(root, "state"), log: new StructuredLog("bench", TextWriter.Null));
        var best = await TuneAsync(adapter, run, trials, parallel ?? run.Config.Tuning.MaxParallelJobs, cancellationToken);
        var modelUri = await TransformTestFeaturesAsync(adapter, run, best["TrainingJobName"]!.GetValue<string>(), cancellationToken);
        await EvaluateAsync(stages, run, best["TrainingJobName"]!.GetValue<string>(), modelUri, cancellationToken);
        return 0;
    }

    private static async Task<RunRequest> RunDataStagesAsync(LocalDataStages stages, string dataDirectory, JsonObject overrides, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var batch = "bench-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        stages.Upload(dataDirectory, batch);
        var run = await stages.RunRequestAsync(batch, batch, overrides.Count > 0 ? overrides : null);
        await stages.RunAllAsync(run, cancellationToken: cancellationToken);
        Print("data stages (DuckDB, not training)", clock.Elapsed);
        return run;
    }

    /// <summary>Runs the tuning job, prints its timings and every trial, and returns its best training job.</summary>
    private static async Task<JsonNode> TuneAsync(SageMakerAdapter adapter, RunRequest run, int trials, int parallel, CancellationToken cancellationToken)
    {
        TuningTimings? timings = null;
        adapter.Tuning.ReportTimings = t => timings = t;
        var clock = Stopwatch.StartNew();
        var tuning = (await adapter.InvokeAsync("arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync", TuningRequest(run, trials, parallel), cancellationToken))!;
        var tuningTime = clock.Elapsed;
        var list = (await adapter.InvokeAsync("arn:aws:states:::aws-sdk:sagemaker:listTrainingJobsForHyperParameterTuningJob", new JsonObject
        {
            ["HyperParameterTuningJobName"] = run.SageMaker.JobNames.Tuning, ["MaxResults"] = 100, ["SortBy"] = "Name",
        }, cancellationToken))!["TrainingJobSummaries"]!.AsArray();

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"train {timings!.TrainRows:N0} rows, validation {timings.ValidationRows:N0} rows, {timings.Features} features; {timings.Parallel} trial(s) at a time x {timings.ThreadsPerTrial} thread(s)"));
        Print("data load + hist quantisation (once)", timings.DataLoad);
        foreach (var job in list) PrintTrial(job!);
        Print($"tuning total ({trials} trials, incl. load)", tuningTime);
        // CPU time well under cores × wall time means other processes shared the cores during the run.
        using (var self = Process.GetCurrentProcess())
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"process CPU time so far {self.TotalProcessorTime.TotalSeconds:0.0} s; 1-min load average {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a")}"));
        var best = tuning["BestTrainingJob"]!;
        var bestObjective = best["FinalHyperParameterTuningJobObjectiveMetric"]!;
        Console.WriteLine($"best: {best["TrainingJobName"]} {bestObjective["MetricName"]} {bestObjective["Value"]}");
        return best;
    }

    private static void PrintTrial(JsonNode job)
    {
        var started = DateTimeOffset.Parse(job["TrainingStartTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var ended = DateTimeOffset.Parse(job["TrainingEndTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var tuned = string.Join(" ", job["TunedHyperParameters"]!.AsObject().Select(p => $"{p.Key}={p.Value}"));
        var objective = job["FinalHyperParameterTuningJobObjectiveMetric"];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {job["TrainingJobName"]}  {(ended - started).TotalMilliseconds,7:0} ms  {objective?["MetricName"]} {objective?["Value"]?.GetValue<double>(),9:0.0000}  {tuned}"));
    }

    /// <summary>Creates a model from the best job's artifact and batch-transforms the test features with it; returns the artifact's URI.</summary>
    private static async Task<string> TransformTestFeaturesAsync(SageMakerAdapter adapter, RunRequest run, string bestJobName, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var bestJob = (await adapter.InvokeAsync("arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob",
            new JsonObject { ["TrainingJobName"] = bestJobName }, cancellationToken))!;
        var modelUri = bestJob["ModelArtifacts"]!["S3ModelArtifacts"]!.GetValue<string>();
        await adapter.InvokeAsync("arn:aws:states:::sagemaker:createModel", new JsonObject
        {
            ["ModelName"] = run.SageMaker.JobNames.Model,
            ["PrimaryContainer"] = new JsonObject { ["Image"] = run.SageMaker.Image, ["ModelDataUrl"] = modelUri },
        }, cancellationToken);
        await adapter.InvokeAsync("arn:aws:states:::sagemaker:createTransformJob.sync", new JsonObject
        {
            ["TransformJobName"] = run.SageMaker.JobNames.Transform,
            ["ModelName"] = run.SageMaker.JobNames.Model,
            ["TransformInput"] = new JsonObject
            {
                ["DataSource"] = new JsonObject { ["S3DataSource"] = new JsonObject { ["S3DataType"] = "S3Prefix", ["S3Uri"] = OutputLocations.AttemptUri(run.Output.TestFeaturesUri, 0) } },
                ["ContentType"] = "text/csv", ["SplitType"] = "Line", ["CompressionType"] = "Gzip",
            },
            ["TransformOutput"] = new JsonObject { ["S3OutputPath"] = run.Output.PredictionsUri, ["Accept"] = "text/csv", ["AssembleWith"] = "Line" },
            ["DataProcessing"] = new JsonObject { ["InputFilter"] = "$[1:]", ["JoinSource"] = "Input", ["OutputFilter"] = "$[0,-1]" },
        }, cancellationToken);
        Print("model + batch transform (test features)", clock.Elapsed);
        return modelUri;
    }

    /// <summary>Runs the evaluation SQL and the gate (no champion) and prints the test metrics and the verdict.</summary>
    private static async Task EvaluateAsync(LocalDataStages stages, RunRequest run, string bestJobName, string modelUri, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var execution = await stages.QueryAsync(SqlQuery.Evaluation, run, cancellationToken);
        var page = await stages.Athena.InvokeAsync(LocalAthenaAdapter.GetQueryResults,
            new JsonObject { ["QueryExecutionId"] = execution["QueryExecution"]!["QueryExecutionId"]!.DeepClone() }, cancellationToken);
        var resultSet = page!["ResultSet"].Deserialize(TrainingJsonContext.Default.AthenaResultSet)!;
        var gate = await new EvaluationGate(stages.Store).RunAsync(new GateInput(run, resultSet, new ChampionReference(false),
            new TrainingReference(bestJobName, modelUri)), cancellationToken);
        Print("evaluation SQL + gate", clock.Elapsed);

        var wmae = gate.Challenger.Wmae ?? double.NaN;
        var naive = gate.Baseline.Wmae ?? double.NaN;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"test rows {gate.Challenger.Rows:N0}: WMAE {wmae:N1}, naive WMAE {naive:N1}, ratio {wmae / naive:0.000} (target <= 0.80); RMSE {gate.Challenger.Rmse:N1}, MAE {gate.Challenger.Mae:N1}"));
        Console.WriteLine($"gate (max ratio {run.Config.Gate.MaxWmaeRatioToNaive}, no champion): {gate.Summary}");
    }

    /// <summary>The CreateHyperParameterTuningJob request the state machine builds from <c>$.run.sageMaker</c>.</summary>
    private static JsonObject TuningRequest(RunRequest run, int trials, int parallel)
    {
        var sm = run.SageMaker;
        var statics = new JsonObject();
        foreach (var (k, v) in sm.StaticHyperParameters) statics[k] = v;
        JsonArray Ranges<T>(IEnumerable<T> ranges, Func<T, (string Name, string Min, string Max, string Scaling)> parts) =>
            new(ranges.Select(r => parts(r)).Select(p => (JsonNode)new JsonObject { ["Name"] = p.Name, ["MinValue"] = p.Min, ["MaxValue"] = p.Max, ["ScalingType"] = p.Scaling }).ToArray());
        JsonObject Channel(string name, string uri) => new()
        {
            ["ChannelName"] = name,
            ["DataSource"] = new JsonObject { ["S3DataSource"] = new JsonObject { ["S3DataType"] = "S3Prefix", ["S3Uri"] = uri } },
            ["ContentType"] = "text/csv", ["CompressionType"] = "Gzip",
        };
        return new JsonObject
        {
            ["HyperParameterTuningJobName"] = sm.JobNames.Tuning,
            ["HyperParameterTuningJobConfig"] = new JsonObject
            {
                ["Strategy"] = run.Config.Tuning.Strategy,
                ["HyperParameterTuningJobObjective"] = new JsonObject { ["Type"] = run.Config.Tuning.ObjectiveType, ["MetricName"] = run.Config.Tuning.ObjectiveMetric },
                ["ResourceLimits"] = new JsonObject { ["MaxNumberOfTrainingJobs"] = trials, ["MaxParallelTrainingJobs"] = parallel },
                ["ParameterRanges"] = new JsonObject
                {
                    ["IntegerParameterRanges"] = Ranges(sm.ParameterRanges.IntegerParameterRanges, r => (r.Name, r.MinValue, r.MaxValue, r.ScalingType)),
                    ["ContinuousParameterRanges"] = Ranges(sm.ParameterRanges.ContinuousParameterRanges, r => (r.Name, r.MinValue, r.MaxValue, r.ScalingType)),
                },
                ["TrainingJobEarlyStoppingType"] = run.Config.Tuning.EarlyStopping,
            },
            ["TrainingJobDefinition"] = new JsonObject
            {
                ["StaticHyperParameters"] = statics,
                ["AlgorithmSpecification"] = new JsonObject { ["TrainingImage"] = sm.Image, ["TrainingInputMode"] = "File" },
                ["InputDataConfig"] = new JsonArray(Channel("train", OutputLocations.AttemptUri(run.Output.TrainUri, 0)), Channel("validation", OutputLocations.AttemptUri(run.Output.ValidationUri, 0))),
                ["OutputDataConfig"] = new JsonObject { ["S3OutputPath"] = run.Output.ModelArtifactsUri },
                ["ResourceConfig"] = new JsonObject { ["InstanceType"] = run.Config.Training.InstanceType, ["InstanceCount"] = 1, ["VolumeSizeInGB"] = 10 },
                ["StoppingCondition"] = new JsonObject { ["MaxRuntimeInSeconds"] = sm.StoppingCondition.MaxRuntimeInSeconds },
            },
        };
    }

    private static void Print(string what, TimeSpan elapsed) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what,-44} {elapsed.TotalMilliseconds,9:0} ms"));
}
