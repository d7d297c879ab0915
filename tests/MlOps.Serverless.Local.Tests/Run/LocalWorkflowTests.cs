using System.Globalization;
using System.IO.Compression;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Reporting;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.SageMaker;

namespace MlOps.Serverless.Local.Tests.Run;

/// <summary>
/// The whole workflow through the real runner (node + aws-local-stepfunctions) and the real local
/// adapters, on a small generated data set. Faults are injected by wrapping the task dispatcher.
/// </summary>
public sealed class LocalWorkflowTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mlops-e2e-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly SampleDataOptions SmallSample = new() { Stores = 4, Departments = 4 };

    private static JsonObject Fast => new() { ["tuning.maxJobs"] = 4, ["tuning.maxParallelJobs"] = 2 };

    private sealed class InjectFault(ITaskHandler inner, string state, string error, string cause, int times) : ITaskHandler
    {
        private int _remaining = times;
        public int Calls;

        public Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
        {
            if (invocation.StateName == state)
            {
                Interlocked.Increment(ref Calls);
                if (Interlocked.Decrement(ref _remaining) >= 0) throw new TaskFailure(error, cause);
            }
            return inner.HandleAsync(invocation, cancellationToken);
        }
    }

    private async Task<LocalRunResult> RunAsync(string name, Func<ITaskHandler, ITaskHandler>? decorate = null)
    {
        var workflow = new LocalWorkflow(new StateMachineRunner(NodeEnvironment.Discover()))
        {
            DecorateTasks = decorate ?? (t => t),
            RetryIntervalOverridesMs = new[] { "QualityVerdict", "EvaluationGate", "PrepareRun", "LogTraining" }.ToDictionary(s => s, _ => 0),
        };
        return await workflow.RunAsync(new LocalRunOptions(_root, Overrides: Fast, ExecutionName: name, Sample: SmallSample));
    }

    private static string RunFile(LocalRunResult result, string file) => Path.Combine(result.RunFolder, file);

    [Fact]
    public async Task Stopping_a_run_during_tuning_stops_the_local_tuning_job_and_keeps_the_run_folder()
    {
        using var stop = new CancellationTokenSource();
        var workflow = new LocalWorkflow(new StateMachineRunner(NodeEnvironment.Discover())) { OnTuningTrial = (_, _) => stop.Cancel() };
        var overrides = new JsonObject { ["tuning.maxJobs"] = 30, ["tuning.maxParallelJobs"] = 1 };
        var result = await workflow.RunAsync(new LocalRunOptions(_root, Overrides: overrides, ExecutionName: "e2e-stopped", Sample: SmallSample),
            cancellationToken: stop.Token);

        Assert.Equal("ABORTED", result.Execution.Status);
        Assert.DoesNotContain("ListTrainingJobs", result.Execution.StatesEntered);
        var store = Path.Combine(new LocalLayout(_root).SageMakerState, LocalTuningJobs.Kind);
        var tuning = JsonNode.Parse(File.ReadAllText(Assert.Single(Directory.GetFiles(store, "*.json"))))!.AsObject();
        Assert.Equal("Stopped", (string?)tuning["HyperParameterTuningJobStatus"]);
        // The trial that reported progress finished; the stop came before most of the 30 started.
        Assert.InRange(tuning["TrainingJobSummaries"]!.AsArray().Count, 1, 3);
        Assert.True(File.Exists(RunFile(result, "summary.json")));
        // No state failed, and the notification says so.
        var notice = File.ReadLines(RunFile(result, "notifications.jsonl")).Select(l => JsonNode.Parse(l)!).Single(n => (string?)n["Subject"] == "Retraining run failed");
        Assert.Equal("Run e2e-stopped ended ABORTED: Stopped at TuneHyperparameters: no state failed; the execution was stopped", (string?)notice["Message"]);
    }

    [Fact]
    public async Task Sample_run_promotes_and_leaves_a_complete_run_folder()
    {
        var result = await RunAsync("e2e-first");

        Assert.True(result.Execution.Succeeded, $"{result.Execution.Error}: {result.Execution.Cause}");
        Assert.Equal("promoted", (string?)result.Execution.Output!["outcome"]);
        var path = result.Execution.StatesEntered.Where(s => !s.StartsWith("Split", StringComparison.Ordinal)).ToList();
        Assert.Equal(["PrepareRun", "QualityQuery", "QualityResults", "QualityVerdict", "BuildFeatures", "NotifyCostEstimate", "TuningEnabled", "TuneHyperparameters",
            "ListTrainingJobs", "DescribeBestTrainingJob", "CollectTuningResult", "LogTraining", "CreateModel", "PredictTestPeriod",
            "FindChampion", "HasChampion", "NoChampion", "EvaluationQuery", "EvaluationResults", "EvaluationGate", "LogEvaluation",
            "PromoteOrReject", "RegisterModelPackage", "LogPromotion", "BatchPredictionsEnabled", "PredictForecastWeeks",
            "ForecastSalesQuery", "EndpointUpdateEnabled", "NotifyPromoted", "Promoted"], path);

        var inputs = JsonNode.Parse(File.ReadAllText(RunFile(result, "inputs.json")))!;
        Assert.Equal(3, inputs["files"]!.AsArray().Count);
        Assert.All(inputs["files"]!.AsArray(), f => Assert.Matches("^[0-9a-f]{64}$", (string?)f!["sha256"]));
        Assert.True(File.ReadAllLines(RunFile(result, "history.jsonl")).Length > 50);
        Assert.Contains("promoted a new model", File.ReadAllText(RunFile(result, "notifications.jsonl")));

        var summary = JsonNode.Parse(File.ReadAllText(RunFile(result, "summary.json")))!;
        var gate = summary["gate"]!;
        Assert.True((double)gate["challenger"]!["wmae"]! < (double)gate["baseline"]!["wmae"]!);
        Assert.True(File.Exists((string?)summary["model"]), "the model artifact is in the local artifact bucket");
        var report = File.ReadAllText(RunFile(result, "report.md"));
        Assert.Contains("| WMAE |", report);
        Assert.Contains("state transitions", report);
        Assert.Contains("## What this run may cost in the cloud (estimated before training)", report);
        Assert.Contains("- SageMaker training: 4 job(s) × 1 × ml.m5.xlarge, at most 4.00 instance-hours = $0.92 on-demand (managed spot: up to $0.83 less)", report);
        Assert.Contains("Run e2e-first starts training. Estimated cost at most $0.92", File.ReadAllText(RunFile(result, "notifications.jsonl")));
        Assert.True(result.Cost.StateTransitions <= Core.Costs.RunCostEstimate.MaxStateTransitions,
            $"{result.Cost.StateTransitions} transitions: the estimate's ceiling is too low");
        Assert.Contains($"![Actual vs predicted, 4 largest series]({ForecastSection.SvgFile})", report);
        Assert.Equal(4, Regex.Count(report, @"^\| Store \d+ · Dept \d+ \| \d+ \| \$[\d,]+ \| [\d,.]+ \| [\d,.]+ \| [\d.]+ \|$", RegexOptions.Multiline));
        var chart = XDocument.Load(RunFile(result, ForecastSection.SvgFile));
        Assert.Equal(4, chart.Root!.Elements().Count(e => e.Name.LocalName == "g"));

        var outputs = (string)summary["outputs"]!;
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(outputs, "predictions"), "*.out"));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(outputs, "forecast"), "*.out"));
        Assert.True(File.Exists(Path.Combine(outputs, "quality", "report.json")));
        ForecastIsInDollars(summary, outputs);
        foreach (var heading in new[] { "## Forecast of the coming weeks, in dollars", $"![Total forecast sales per week]({SalesForecast.SvgFile})",
                     "## The test weeks in full", TestWeeksSection.WmaeDefinition, $"![Total weekly sales in the test weeks]({TestWeeksSection.TotalSvgFile})",
                     "### The series that add most to WMAE", "### The 10 largest series, for comparison", "## Tuning", "- Trials: 4 (completed 4)", "## Data quality" })
            Assert.Contains(heading, report);
        foreach (var svg in new[] { SalesForecast.SvgFile, TestWeeksSection.TotalSvgFile, TestWeeksSection.RatioSvgFile })
            Assert.Equal("svg", XDocument.Load(RunFile(result, svg)).Root!.Name.LocalName);
        var outbox = Path.Combine(outputs, "mlflow-outbox", "training.json");
        Assert.True(File.Exists(outbox), "without a tracking server MLflow payloads are kept");
        var curvesUri = (string)JsonNode.Parse(File.ReadAllText(outbox))!["input"]!["training"]!["curvesUri"]!;
        var bestJob = (string)summary["bestTrainingJob"]!;
        Assert.True(File.Exists(RunReport.LocalPath(new LocalLayout(_root), $"{curvesUri}{bestJob}/output/metric-curves.json")),
            "the per-round curves MLflow logs sit where the training result points");
        Assert.True(result.Cost.StateTransitions >= path.Count);

        Assert.Equal(2, result.Cost.TransformJobs);

        // The second run scores the first run's model (the local registry's champion) on its own test features with the
        // local transform, and the one evaluation query scores both on the same rows.
        var second = await RunAsync("e2e-second");
        Assert.True(second.Execution.Succeeded, $"{second.Execution.Error}: {second.Execution.Cause}");
        Assert.Contains("CreateChampionModel", second.Execution.StatesEntered);
        Assert.Contains("PredictChampionTestPeriod", second.Execution.StatesEntered);
        Assert.DoesNotContain("ChampionNotScored", second.Execution.StatesEntered);
        var secondGate = second.Execution.Output!["gate"]!;
        var champion = secondGate["champion"]!;
        Assert.True((bool)champion["comparable"]!, (string?)champion["reason"]);
        Assert.Equal((long)secondGate["challenger"]!["rows"]!, (long)champion["rows"]!);
        // Same data, same features, same model: the champion's WMAE on this run's rows is the one it recorded when promoted.
        Assert.Equal((double)gate["challenger"]!["wmae"]!, (double)champion["wmae"]!, 6);
        Assert.Equal((double)gate["challenger"]!["wmae"]!, (double)champion["storedWmae"]!, 6);
        var secondOutputs = (string)JsonNode.Parse(File.ReadAllText(RunFile(second, "summary.json")))!["outputs"]!;
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(secondOutputs, "champion-predictions"), "*.out"));
        var secondReport = File.ReadAllText(RunFile(second, "report.md"));
        Assert.Contains("## Champion and challenger on the same test rows", secondReport);
        Assert.Contains("the three figures cover exactly the same rows", secondReport);
        Assert.Contains("on the same", File.ReadAllText(RunFile(second, "notifications.jsonl")));
        // The challenger's and the champion's test-week transforms, and the forecast when this run promotes.
        var promoted = (string?)second.Execution.Output!["outcome"] == "promoted";
        Assert.Equal(promoted ? 3 : 2, second.Cost.TransformJobs);
    }

    [Fact]
    public async Task Missing_or_corrupt_champion_model_is_not_comparable_and_the_run_still_decides()
    {
        var first = await RunAsync("e2e-champion-model");
        Assert.Equal("promoted", (string?)first.Execution.Output!["outcome"]);
        var model = (string)JsonNode.Parse(File.ReadAllText(RunFile(first, "summary.json")))!["model"]!;

        await File.WriteAllTextAsync(model, "not a tar.gz");
        var corrupt = await RunAsync("e2e-champion-corrupt");
        Assert.True(corrupt.Execution.Succeeded, $"{corrupt.Execution.Error}: {corrupt.Execution.Cause}");
        Assert.Contains("ChampionNotScored", corrupt.Execution.StatesEntered);
        var corruptChampion = corrupt.Execution.Output!["gate"]!["champion"]!;
        Assert.False((bool)corruptChampion["comparable"]!);
        Assert.Contains("could not be scored on this run's test weeks (States.TaskFailed: ClientError:", (string?)corruptChampion["reason"]);
        Assert.Contains("not a gzip-compressed tar archive", (string?)corruptChampion["reason"]);

        // The corrupt run may have promoted its own model; remove whichever model the champion now is.
        var championModel = corrupt.Execution.Output["outcome"]!.GetValue<string>() == "promoted"
            ? (string)JsonNode.Parse(File.ReadAllText(RunFile(corrupt, "summary.json")))!["model"]!
            : model;
        File.Delete(championModel);
        var missing = await RunAsync("e2e-champion-missing");
        Assert.True(missing.Execution.Succeeded, $"{missing.Execution.Error}: {missing.Execution.Cause}");
        Assert.Equal(["CreateChampionModel", "ChampionNotScored", "EvaluationQuery"],
            missing.Execution.StatesEntered.SkipWhile(s => s != "CreateChampionModel").Take(3));
        var missingChampion = missing.Execution.Output!["gate"]!["champion"]!;
        Assert.False((bool)missingChampion["comparable"]!);
        Assert.Contains("Could not access model data", (string?)missingChampion["reason"]);
        Assert.Contains("not comparable", File.ReadAllText(RunFile(missing, "report.md")));
    }

    /// <summary>Overwrites the upload as soon as PrepareRun has finished (an upload re-sent during the run).</summary>
    private sealed class OverwriteUploadAfterPrepareRun(ITaskHandler inner, string rawBatchFolder) : ITaskHandler
    {
        public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
        {
            var result = await inner.HandleAsync(invocation, cancellationToken);
            if (invocation.StateName == "PrepareRun")
                foreach (var file in Directory.GetFiles(rawBatchFolder, "*.csv", SearchOption.AllDirectories))
                    File.WriteAllText(file, "Store,Dept\n1,1\n"); // would fail every quality rule and the features query
            return result;
        }
    }

    [Fact]
    public async Task Changing_the_upload_after_prepare_run_changes_nothing_in_the_run()
    {
        var result = await RunAsync("e2e-lineage", t => new OverwriteUploadAfterPrepareRun(t,
            Path.Combine(_root, "s3", LocalLayout.RawBucket, "incoming", "e2e-lineage")));

        Assert.True(result.Execution.Succeeded, $"{result.Execution.Error}: {result.Execution.Cause}");
        Assert.Equal("promoted", (string?)result.Execution.Output!["outcome"]);
        // What the run read is what it fingerprinted: its copy still has the uploaded bytes.
        var inputs = JsonNode.Parse(File.ReadAllText(RunFile(result, "inputs.json")))!["files"]!.AsArray();
        var copy = Path.Combine(_root, "s3", LocalLayout.WorkBucket, "runs", result.RunId, "input");
        foreach (var file in inputs)
        {
            var copied = Directory.GetFiles(copy, Path.GetFileName((string)file!["key"]!), SearchOption.AllDirectories).Single();
            Assert.Equal((string?)file["sha256"], Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(copied))));
        }
    }

    [Fact]
    public async Task Training_failure_ends_the_run_failed_notified_with_partial_outputs_kept()
    {
        var result = await RunAsync("e2e-training-fails", t => new InjectFault(t, "TuneHyperparameters", "States.TaskFailed",
            """{"HyperParameterTuningJobStatus":"Failed","FailureReason":"injected"}""", int.MaxValue));

        Assert.False(result.Execution.Succeeded);
        Assert.Equal("States.TaskFailed", result.Execution.Error);
        Assert.Contains("injected", result.Execution.Cause);
        Assert.Contains("Retraining run failed", File.ReadAllText(RunFile(result, "notifications.jsonl")));
        var summary = JsonNode.Parse(File.ReadAllText(RunFile(result, "summary.json")))!;
        Assert.Equal("failed", (string?)summary["outcome"]);
        Assert.Contains("No actual-vs-predicted chart: no predictions under s3://", File.ReadAllText(RunFile(result, "report.md")));
        Assert.False(File.Exists(RunFile(result, ForecastSection.SvgFile)));
        var outputs = Path.Combine(_root, "s3", LocalLayout.WorkBucket, "runs", result.RunId);
        Assert.True(File.Exists(Path.Combine(outputs, "quality", "report.json")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(outputs, "train"), "*", SearchOption.AllDirectories));
    }

    /// <summary>
    /// The run folder's forecast.csv: one row per forecast record, predicted_sales = the transform's prediction × the
    /// series scale (exp of the log_scale feature, rounded to 5 decimals), naive beside it.
    /// </summary>
    private static void ForecastIsInDollars(JsonNode summary, string outputs)
    {
        var rows = File.ReadAllLines((string)summary["forecast"]!);
        Assert.Equal(SalesForecast.Header, rows[0]);
        var predictions = Directory.GetFiles(Path.Combine(outputs, "forecast"), "*.out").SelectMany(File.ReadAllLines)
            .Select(l => l.Split(',')).ToDictionary(f => f[0], f => double.Parse(f[1], CultureInfo.InvariantCulture));
        var logScale = 1 + DataCatalog.FeatureColumns.ToList().FindIndex(c => c.Name == "log_scale");
        var scales = new Dictionary<string, double>();
        foreach (var file in Directory.GetFiles(Path.Combine(outputs, "forecast-features", "r0")))
        {
            using var reader = new StreamReader(new GZipStream(File.OpenRead(file), CompressionMode.Decompress));
            while (reader.ReadLine() is { } line)
                if (line.Split(',') is var f) scales[f[0]] = Math.Exp(double.Parse(f[logScale], CultureInfo.InvariantCulture));
        }
        Assert.Equal(predictions.Count, rows.Length - 1);
        foreach (var row in rows.Skip(1).Select(r => r.Split(',')))
        {
            var expected = predictions[$"{row[0]}_{row[1]}_{row[2]}"] * scales[$"{row[0]}_{row[1]}_{row[2]}"];
            var actual = double.Parse(row[3], CultureInfo.InvariantCulture);
            Assert.InRange(actual, expected - Math.Abs(expected) * 1e-4 - 0.01, expected + Math.Abs(expected) * 1e-4 + 0.01);
        }
    }

    [Fact]
    public async Task A_data_folder_with_wrong_case_names_is_refused_before_anything_starts()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, "wrong-case")).FullName;
        File.WriteAllText(Path.Combine(data, "Sales Data-Set.csv"), "Store,Dept,Date,Weekly_Sales,IsHoliday\n");
        var workflow = new LocalWorkflow(new StateMachineRunner(NodeEnvironment.Discover()));

        var error = await Assert.ThrowsAsync<InvalidDataFolder>(() => workflow.RunAsync(new LocalRunOptions(_root, data, ExecutionName: "e2e-wrong-case")));

        Assert.Equal($"--data {data}: \"sales data-set.csv\" is missing (\"Sales Data-Set.csv\" differs in case; names are case-sensitive); " +
                     "\"Features data set.csv\" is missing; \"stores data-set.csv\" is missing. " +
                     "Expected \"sales data-set.csv\", \"Features data set.csv\", \"stores data-set.csv\"; found \"Sales Data-Set.csv\".", error.Message);
        Assert.False(Directory.Exists(Path.Combine(_root, "runs", "e2e-wrong-case")), "nothing started");
    }

    [Fact]
    public async Task Athena_failure_is_not_retried_and_fails_the_run_with_the_query_error()
    {
        InjectFault? fault = null;
        var result = await RunAsync("e2e-athena-fails", t => fault = new InjectFault(t, "BuildFeatures", "States.TaskFailed",
            """{"QueryExecution":{"Status":{"State":"FAILED","StateChangeReason":"injected"}}}""", int.MaxValue));

        Assert.Equal("States.TaskFailed", result.Execution.Error);
        Assert.Equal(1, fault!.Calls);
        Assert.Equal("BuildFeatures", result.Execution.StatesEntered[^1]); // the execution ends at the state that failed
        // The failure notifier's definition ran on this run's history and published exactly the plain line.
        var notice = File.ReadLines(RunFile(result, "notifications.jsonl")).Select(l => JsonNode.Parse(l)!).Single(n => (string?)n["Subject"] == "Retraining run failed");
        Assert.Equal("Run e2e-athena-fails ended FAILED: Failed at BuildFeatures: States.TaskFailed: injected", (string?)notice["Message"]);
        Assert.Contains("\"stage\":\"FailureNotifierFunction\"", File.ReadAllText(RunFile(result, "logs.jsonl")));
        // In plain words wherever a person reads it; summary.json keeps the parts and the cause as JSON.
        Assert.Equal("Failed at BuildFeatures: States.TaskFailed: injected", RunFailure.From(result.Execution)!.Line);
        Assert.Contains("- Failed at BuildFeatures: States.TaskFailed: injected", File.ReadAllText(Path.Combine(result.RunFolder, "report.md")));
        var failure = JsonNode.Parse(File.ReadAllText(Path.Combine(result.RunFolder, "summary.json")))!["failure"]!;
        Assert.Equal("BuildFeatures", (string?)failure["state"]);
        Assert.Equal("States.TaskFailed", (string?)failure["error"]);
        Assert.Equal("injected", (string?)failure["cause"]!["QueryExecution"]!["Status"]!["StateChangeReason"]);
    }

    [Fact]
    public async Task Mlflow_down_defers_logging_and_the_run_still_promotes()
    {
        var result = await RunAsync("e2e-mlflow-down", t => new InjectFault(t, "LogTraining", "MlflowUnavailable", "connection refused", int.MaxValue));

        Assert.True(result.Execution.Succeeded, result.Execution.Cause);
        Assert.Equal("deferred", (string?)result.Execution.Output!["mlflow"]!["training"]!["result"]!["status"]);
        Assert.Equal("promoted", (string?)result.Execution.Output["outcome"]);
    }

    [Fact]
    public async Task Transient_lambda_error_is_retried_and_the_run_succeeds()
    {
        InjectFault? fault = null;
        var result = await RunAsync("e2e-transient", t => fault = new InjectFault(t, "QualityVerdict", "Lambda.TooManyRequestsException", "Rate exceeded", 1));

        Assert.True(result.Execution.Succeeded, result.Execution.Cause);
        Assert.Equal(2, fault!.Calls);
        Assert.Contains(result.Execution.History, e => e.Type == "StateRetried" && e.StateName == "QualityVerdict");
    }
}
