using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.SageMaker;
using MlOps.Serverless.Local.Workflow;

namespace MlOps.Serverless.Local.Tests.Workflow;

/// <summary>Redriving a failed local run, as Step Functions' RedriveExecution continues a failed execution.</summary>
public sealed class RedriveTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mlops-redrive-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>The job is created and runs (SageMaker keeps its name), then ends Failed, as a job whose spot capacity vanished.</summary>
    private sealed class FailsAfterCreating(ITaskHandler inner, string state) : ITaskHandler
    {
        public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
        {
            var result = await inner.HandleAsync(invocation, cancellationToken);
            if (invocation.StateName != state) return result;
            throw new TaskFailure("States.TaskFailed",
                """{"HyperParameterTuningJobStatus":"Failed","FailureReason":"InsufficientCapacityError: injected"}""");
        }
    }

    private LocalWorkflow Workflow(Func<ITaskHandler, ITaskHandler>? decorate = null) => new(new StateMachineRunner(NodeEnvironment.Discover()))
    {
        DecorateTasks = decorate ?? (t => t),
        RetryIntervalOverridesMs = new[] { "QualityVerdict", "EvaluationGate", "PrepareRun", "LogTraining" }.ToDictionary(s => s, _ => 0),
    };

    [Fact]
    public async Task A_run_whose_tuning_job_failed_is_redriven_from_the_tuning_state_and_completes()
    {
        var options = new LocalRunOptions(_root, Overrides: new JsonObject { ["tuning.maxJobs"] = 2, ["tuning.maxParallelJobs"] = 2 },
            ExecutionName: "redrive-tuning", Sample: new SampleDataOptions { Stores = 3, Departments = 3 });
        var failed = await Workflow(t => new FailsAfterCreating(t, "TuneHyperparameters")).RunAsync(options);
        Assert.Equal("States.TaskFailed", failed.Execution.Error);
        Assert.Equal("TuneHyperparameters", failed.Execution.StatesEntered[^1]);
        Assert.Contains("ended FAILED with States.TaskFailed", File.ReadAllText(Path.Combine(failed.RunFolder, "notifications.jsonl")));

        var redriven = await Workflow().RedriveAsync(_root, "redrive-tuning");

        Assert.True(redriven.Execution.Succeeded, $"{redriven.Execution.Error}: {redriven.Execution.Cause}");
        Assert.Contains((string?)redriven.Execution.Output!["outcome"], new[] { "promoted", "rejected" }); // a tiny sample; the gate decides
        Assert.Equal(failed.RunFolder, redriven.RunFolder);
        // Continued at the failed state: the states that had succeeded did not run again.
        Assert.Equal("TuneHyperparameters", redriven.Execution.StatesEntered[0]);
        Assert.DoesNotContain("PrepareRun", redriven.Execution.StatesEntered);
        Assert.DoesNotContain("BuildFeatures", redriven.Execution.StatesEntered);
        // Both attempts' tuning jobs exist side by side: the redriven create took the next attempt's name.
        var tuningJobs = Directory.GetFiles(Path.Combine(_root, "sagemaker", LocalTuningJobs.Kind)).Select(Path.GetFileNameWithoutExtension).Order().ToList();
        Assert.Equal(2, tuningJobs.Count);
        Assert.EndsWith("-r0", tuningJobs[0]);
        Assert.EndsWith("-r1", tuningJobs[1]);
        var history = File.ReadAllLines(Path.Combine(redriven.RunFolder, "history.jsonl"));
        var marker = JsonNode.Parse(Assert.Single(history, l => l.Contains("\"ExecutionRedriven\"", StringComparison.Ordinal)))!;
        Assert.Equal(1, (int)marker["redriveCount"]!);
        Assert.Equal("TuneHyperparameters", (string?)marker["state"]);

        // A run that succeeded cannot be redriven (Step Functions: ExecutionNotRedrivable).
        await Assert.ThrowsAsync<ExecutionNotRedrivable>(() => Workflow().RedriveAsync(_root, "redrive-tuning"));
    }

    [Fact]
    public async Task A_run_that_does_not_exist_cannot_be_redriven()
    {
        var error = await Assert.ThrowsAsync<ExecutionNotRedrivable>(() => Workflow().RedriveAsync(_root, "no-such-run"));
        Assert.Contains("no-such-run", error.Message);
    }
}
