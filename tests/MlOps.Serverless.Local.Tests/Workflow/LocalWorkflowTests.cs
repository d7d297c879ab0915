using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.SageMaker;
using MlOps.Serverless.Local.Workflow;

namespace MlOps.Serverless.Local.Tests.Workflow;

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

    private string RunFile(LocalRunResult result, string file) => Path.Combine(result.RunFolder, file);

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
    }

    [Fact]
    public async Task Sample_run_promotes_and_leaves_a_complete_run_folder()
    {
        var result = await RunAsync("e2e-first");

        Assert.True(result.Execution.Succeeded, $"{result.Execution.Error}: {result.Execution.Cause}");
        Assert.Equal("promoted", (string?)result.Execution.Output!["outcome"]);
        var path = result.Execution.StatesEntered.Where(s => !s.StartsWith("Split", StringComparison.Ordinal)).ToList();
        Assert.Equal(["PrepareRun", "QualityQuery", "QualityResults", "QualityVerdict", "BuildFeatures", "TuningEnabled", "TuneHyperparameters",
            "ListTrainingJobs", "DescribeBestTrainingJob", "CollectTuningResult", "LogTraining", "CreateModel", "PredictTestPeriod",
            "EvaluationQuery", "EvaluationResults", "FindChampion", "HasChampion", "NoChampion", "EvaluationGate", "LogEvaluation",
            "PromoteOrReject", "RegisterModelPackage", "LogPromotion", "BatchPredictionsEnabled", "PredictForecastWeeks",
            "EndpointUpdateEnabled", "NotifyPromoted", "Promoted"], path);

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
        Assert.Contains($"![Actual vs predicted, 4 largest series]({ForecastSection.SvgFile})", report);
        Assert.Equal(4, Regex.Matches(report, @"^\| Store \d+ · Dept \d+ \| \d+ \| \$[\d,]+ \| [\d,.]+ \| [\d,.]+ \| [\d.]+ \|$", RegexOptions.Multiline).Count);
        var chart = XDocument.Load(RunFile(result, ForecastSection.SvgFile));
        Assert.Equal(4, chart.Root!.Elements().Count(e => e.Name.LocalName == "g"));

        var outputs = (string)summary["outputs"]!;
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(outputs, "predictions"), "*.out"));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(outputs, "forecast"), "*.out"));
        Assert.True(File.Exists(Path.Combine(outputs, "quality", "report.json")));
        var outbox = Path.Combine(outputs, "mlflow-outbox", "training.json");
        Assert.True(File.Exists(outbox), "without a tracking server MLflow payloads are kept");
        var curvesUri = (string)JsonNode.Parse(File.ReadAllText(outbox))!["input"]!["training"]!["curvesUri"]!;
        var bestJob = (string)summary["bestTrainingJob"]!;
        Assert.True(File.Exists(RunReport.LocalPath(new LocalLayout(_root), $"{curvesUri}{bestJob}/output/metric-curves.json")),
            "the per-round curves MLflow logs sit where the training result points");
        Assert.True(result.Cost.StateTransitions >= path.Count);

        var second = await RunAsync("e2e-second");
        Assert.Contains("DescribeChampion", second.Execution.StatesEntered);
        Assert.NotNull(second.Execution.Output!["gate"]!["champion"]);
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
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(outputs, "train")));
    }

    [Fact]
    public async Task Athena_failure_is_not_retried_and_fails_the_run_with_the_query_error()
    {
        InjectFault? fault = null;
        var result = await RunAsync("e2e-athena-fails", t => fault = new InjectFault(t, "BuildFeatures", "States.TaskFailed",
            """{"QueryExecution":{"Status":{"State":"FAILED","StateChangeReason":"injected"}}}""", int.MaxValue));

        Assert.Equal("States.TaskFailed", result.Execution.Error);
        Assert.Equal(1, fault!.Calls);
        Assert.Equal(["BuildFeatures", "NotifyFailure", "RunFailed"], result.Execution.StatesEntered.TakeLast(3));
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
