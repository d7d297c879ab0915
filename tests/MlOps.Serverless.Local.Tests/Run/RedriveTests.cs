using System.IO.Compression;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Reporting;
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

    private static LocalWorkflow Workflow(Func<ITaskHandler, ITaskHandler>? decorate = null) => new(new StateMachineRunner(NodeEnvironment.Discover()))
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

    /// <summary>
    /// Runs <paramref name="state"/>'s UNLOAD for real, then cuts each file it wrote to its first half and fails the state,
    /// as an Athena query that failed after writing part of its output (Athena leaves such files behind).
    /// </summary>
    private sealed class FailsAfterPartialWrite(ITaskHandler inner, string state, Func<string> prefix) : ITaskHandler
    {
        public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
        {
            var result = await inner.HandleAsync(invocation, cancellationToken);
            if (invocation.StateName != state) return result;
            foreach (var file in Directory.GetFiles(prefix(), "*", SearchOption.AllDirectories))
            {
                var lines = ReadLines(file);
                await using var gzip = new GZipStream(File.Create(file), CompressionLevel.Fastest);
                await gzip.WriteAsync(System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines.Take(lines.Count / 2)) + "\n"), cancellationToken);
            }
            throw new TaskFailure("States.TaskFailed", """{"QueryExecution":{"Status":{"State":"FAILED","StateChangeReason":"injected after a partial write"}}}""");
        }
    }

    private static List<string> ReadLines(string gzipFile)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(gzipFile), CompressionMode.Decompress));
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    [Fact]
    public async Task A_split_that_failed_after_writing_part_of_its_unload_is_redriven_into_the_next_attempt_and_only_that_attempt_is_read()
    {
        const string Run = "redrive-half-written";
        var labels = Path.Combine(_root, "s3", LocalLayout.WorkBucket, "runs", Run, "test-labels");
        var failed = await Workflow(t => new FailsAfterPartialWrite(t, "SplitTestLabels", () => Path.Combine(labels, "r0"))).RunAsync(Options(Run));
        Assert.Equal("States.TaskFailed", failed.Execution.Error);
        var halfWritten = Directory.GetFiles(Path.Combine(labels, "r0"), "*", SearchOption.AllDirectories).Sum(f => ReadLines(f).Count);
        Assert.True(halfWritten > 0, "the failed attempt left part of its output");

        var redriven = await Workflow().RedriveAsync(_root, Run);

        // The redriven split met an empty prefix (its attempt's folder); the orphaned files of attempt 0 stay where they were.
        Assert.True(redriven.Execution.Succeeded, $"{redriven.Execution.Error}: {redriven.Execution.Cause}");
        var written = Directory.GetFiles(Path.Combine(labels, "r1"), "*", SearchOption.AllDirectories).Sum(f => ReadLines(f).Count);
        Assert.True(written > halfWritten, $"attempt 1 wrote {written} test labels, attempt 0 left {halfWritten}");
        Assert.Equal(halfWritten, Directory.GetFiles(Path.Combine(labels, "r0"), "*", SearchOption.AllDirectories).Sum(f => ReadLines(f).Count));
        // The evaluation scored each test row once: it read attempt 1's labels only, not attempt 0's as well.
        var gate = redriven.Execution.History.Last(e => e.Type == "StateExited" && e.StateName == "EvaluationGate").Output!["decision"]!["gate"]!;
        Assert.Equal(written.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)gate["modelPackageProperties"]?["rows"]);
        // The report follows the recorded attempts too: labels from attempt 1, the test features from attempt 0 (not redriven).
        var output = RunReport.RunOutput(redriven.Execution)!;
        Assert.EndsWith("/test-labels/r1/", (string?)output["testLabelsUri"]);
        Assert.EndsWith("/test-features/r0/", (string?)output["testFeaturesUri"]);
        Assert.DoesNotContain("No actual-vs-predicted chart", File.ReadAllText(Path.Combine(redriven.RunFolder, "report.md")));
    }

    [Fact]
    public async Task A_run_that_does_not_exist_cannot_be_redriven()
    {
        var error = await Assert.ThrowsAsync<ExecutionNotRedrivable>(() => Workflow().RedriveAsync(_root, "no-such-run"));
        Assert.Contains("no-such-run", error.Message);
    }
}
