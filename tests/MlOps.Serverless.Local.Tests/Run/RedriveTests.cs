using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.SageMaker;

namespace MlOps.Serverless.Local.Tests.Run;

/// <summary>Redriving a failed local run, as Step Functions' RedriveExecution continues a failed execution.</summary>
public sealed class RedriveTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mlops-redrive-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>
    /// Fails <paramref name="state"/> with States.TaskFailed: after the real call when <paramref name="afterRunning"/>
    /// (the job was created and ran, then ended Failed, as when spot capacity vanished), else before it.
    /// </summary>
    private sealed class Fails(ITaskHandler inner, string state, bool afterRunning, string cause) : ITaskHandler
    {
        public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
        {
            if (invocation.StateName != state) return await inner.HandleAsync(invocation, cancellationToken);
            if (afterRunning) await inner.HandleAsync(invocation, cancellationToken);
            throw new TaskFailure("States.TaskFailed", cause);
        }
    }

    /// <summary>Fails <paramref name="state"/> (before running it) once the <paramref name="others"/> have all answered.</summary>
    private sealed class FailsLast(ITaskHandler inner, string state, IReadOnlyCollection<string> others, string cause) : ITaskHandler
    {
        private readonly TaskCompletionSource _othersDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _done;

        public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
        {
            if (invocation.StateName == state)
            {
                await _othersDone.Task.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
                throw new TaskFailure("States.TaskFailed", cause);
            }
            var result = await inner.HandleAsync(invocation, cancellationToken);
            if (others.Contains(invocation.StateName) && Interlocked.Increment(ref _done) == others.Count) _othersDone.SetResult();
            return result;
        }
    }

    private sealed class Counting(ITaskHandler inner) : ITaskHandler
    {
        public readonly System.Collections.Concurrent.ConcurrentBag<string> States = [];

        public Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
        {
            States.Add(invocation.StateName);
            return inner.HandleAsync(invocation, cancellationToken);
        }
    }

    private LocalRunOptions Options(string name) => new(_root, Overrides: new JsonObject { ["tuning.maxJobs"] = 2, ["tuning.maxParallelJobs"] = 2 },
        ExecutionName: name, Sample: new SampleDataOptions { Stores = 3, Departments = 3 });

    private LocalWorkflow Workflow(Func<ITaskHandler, ITaskHandler>? decorate = null) => new(new StateMachineRunner(NodeEnvironment.Discover()))
    {
        DecorateTasks = decorate ?? (t => t),
        RetryIntervalOverridesMs = new[] { "QualityVerdict", "EvaluationGate", "PrepareRun", "LogTraining" }.ToDictionary(s => s, _ => 0),
    };

    [Fact]
    public async Task A_run_whose_tuning_job_failed_is_redriven_from_the_tuning_state_and_completes()
    {
        var failed = await Workflow(t => new Fails(t, "TuneHyperparameters", afterRunning: true,
            """{"HyperParameterTuningJobStatus":"Failed","FailureReason":"InsufficientCapacityError: injected"}""")).RunAsync(Options("redrive-tuning"));
        Assert.Equal("States.TaskFailed", failed.Execution.Error);
        Assert.Equal("TuneHyperparameters", failed.Execution.StatesEntered[^1]);
        Assert.Contains("ended FAILED: Failed at TuneHyperparameters: States.TaskFailed: InsufficientCapacityError: injected", File.ReadAllText(Path.Combine(failed.RunFolder, "notifications.jsonl")));

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
    public async Task A_failed_split_is_redriven_alone_and_the_splits_that_succeeded_are_not_run_again()
    {
        string[] succeeding = ["SplitTrain", "SplitValidation", "SplitTestFeatures", "SplitForecastFeatures"];
        var failed = await Workflow(t => new FailsLast(t, "SplitTestLabels", succeeding,
            """{"QueryExecution":{"Status":{"State":"FAILED","StateChangeReason":"injected"}}}""")).RunAsync(Options("redrive-split"));
        Assert.Equal("SplitData", failed.Execution.StatesEntered.Last(s => !s.StartsWith("Split", StringComparison.Ordinal) || s == "SplitData"));

        Counting? calls = null;
        var redriven = await Workflow(t => calls = new Counting(t)).RedriveAsync(_root, "redrive-split");

        // The four splits that succeeded wrote their UNLOAD prefixes; running them again would fail HIVE_PATH_ALREADY_EXISTS.
        Assert.True(redriven.Execution.Succeeded, $"{redriven.Execution.Error}: {redriven.Execution.Cause}");
        Assert.Contains("SplitTestLabels", calls!.States);
        Assert.DoesNotContain(calls.States, succeeding.Contains);
        Assert.Equal("SplitData", redriven.Execution.StatesEntered[0]);
    }

    [Fact]
    public async Task A_run_that_does_not_exist_cannot_be_redriven()
    {
        var error = await Assert.ThrowsAsync<ExecutionNotRedrivable>(() => Workflow().RedriveAsync(_root, "no-such-run"));
        Assert.Contains("no-such-run", error.Message);
    }
}
