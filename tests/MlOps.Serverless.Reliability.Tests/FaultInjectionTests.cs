using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Reliability.Tests.Support;
using Xunit.Abstractions;

namespace MlOps.Serverless.Reliability.Tests;

/// <summary>
/// Faults injected at every Task state of the definition, in local mode (real runner, real adapters): a
/// transient fault (the retryable error the definition names, once) is retried and the run succeeds; a
/// permanent fault (<c>States.TaskFailed</c>) ends the run failed and notified with its partial outputs kept,
/// except where the definition deliberately absorbs it (MLflow logging defers, a lost notification).
/// </summary>
public sealed class FaultInjectionTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = LocalRuns.NewRoot("faults");

    public void Dispose() => LocalRuns.DeleteRoot(_root);

    /// <summary>Which run reaches a state: the overrides, and whether a champion must exist first.</summary>
    private sealed record Path(string Name, JsonObject Overrides, bool NeedsChampion = false);

    private static JsonObject Promoting(bool endpoint = false) => new()
    {
        ["tuning.maxJobs"] = 2, ["tuning.maxParallelJobs"] = 1, ["gate.maxWmaeRatioToNaive"] = 5,
        ["predictions.updateEndpoint"] = endpoint,
    };

    private static JsonObject SingleJobRejecting() => new() { ["tuning.enabled"] = false, ["gate.maxWmaeRatioToNaive"] = 0.01 };

    private static readonly Path Promote = new("promote", Promoting(endpoint: true));
    private static readonly Path SecondRun = new("champion", Promoting(), NeedsChampion: true);
    private static readonly Path Reject = new("single-job-reject", SingleJobRejecting());

    private static Path PathOf(string state) => state switch
    {
        "DescribeChampion" or "CreateChampionModel" or "PredictChampionTestPeriod" => SecondRun,
        "TrainSingleModel" or "NotifyRejected" => Reject,
        _ => Promote,
    };

    private static readonly HashSet<string> MlflowStates = ["LogTraining", "LogEvaluation", "LogPromotion"];
    private static readonly HashSet<string> OutcomeNotifications = ["NotifyPromoted", "NotifyRejected"];
    private static readonly HashSet<string> ChampionScoringStates = ["CreateChampionModel", "PredictChampionTestPeriod"];

    public static TheoryData<string> EveryTaskState() => new(WorkflowStates.TaskStates().Select(s => s.Name));

    /// <summary>The endpoint the definition updates exists in a real account; seed it from the config the run just created.</summary>
    private static Faults WithEndpoint(Faults faults) => faults.Before("UpdateEndpoint", (call, inner, ct) =>
        inner.HandleAsync(new TaskInvocation("SeedEndpoint", "arn:aws:states:::sagemaker:createEndpoint", new JsonObject
        {
            ["EndpointName"] = call.Input!["EndpointName"]!.DeepClone(),
            ["EndpointConfigName"] = call.Input["EndpointConfigName"]!.DeepClone(),
        }), ct));

    private async Task<(LocalRunResult Result, Faults Faults)> RunAsync(Path path, string name, Action<Faults> plan)
    {
        if (path.NeedsChampion)
        {
            var first = await LocalRuns.RunAsync(_root, name + "-first", Promoting());
            Assert.Equal("promoted", (string?)first.Execution.Output?["outcome"]);
        }
        Faults? faults = null;
        var result = await LocalRuns.RunAsync(_root, name, path.Overrides.DeepClone().AsObject(), inner =>
        {
            faults = WithEndpoint(new Faults(inner));
            plan(faults);
            return faults;
        });
        return (result, faults!);
    }

    private static int Retries(LocalRunResult result, string state) =>
        result.Execution.History.Count(e => e.Type == "StateRetried" && e.StateName == state);

    private static string Notifications(LocalRunResult result)
    {
        var file = System.IO.Path.Combine(result.RunFolder, "notifications.jsonl");
        return File.Exists(file) ? File.ReadAllText(file) : "";
    }

    public static TheoryData<string> Paths() => new("promote", "champion", "single-job-reject", "failure");

    /// <summary>Every Task state on the path fails once with its retryable error; every one is retried once and the run still ends as it would have.</summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Transient_fault_at_every_task_state_is_retried_and_the_run_still_completes(string pathName)
    {
        var path = pathName switch { "promote" => Promote, "champion" => SecondRun, "single-job-reject" => Reject, _ => Promote };
        var (result, faults) = await RunAsync(path, "transient-" + pathName, f =>
        {
            foreach (var state in WorkflowStates.TaskStates())
                f.Fail(state.Name, Faults.TransientErrorPreferred(state), "Rate exceeded (injected)", times: 1);
            // The failure path: a permanent fault after the transient one.
            if (pathName == "failure") f.Fail("BuildFeatures", "States.TaskFailed", "injected permanent failure", times: int.MaxValue);
        });

        var tasks = result.Execution.History.Where(e => e.Type == "TaskStateEntered" || e.Type == "StateEntered")
            .Select(e => e.StateName).Where(n => n is not null && WorkflowStates.TaskStates().Any(s => s.Name == n)).Distinct().ToList();
        Assert.NotEmpty(tasks);
        foreach (var state in tasks)
        {
            Assert.True(Retries(result, state!) >= 1, $"{state} was not retried after a transient fault");
            Assert.True(faults.CallsTo(state!) >= 2, $"{state} was called {faults.CallsTo(state!)} time(s)");
        }
        if (pathName == "failure")
        {
            Assert.Equal("States.TaskFailed", result.Execution.Error);
            Assert.Contains("Retraining run failed", Notifications(result));
        }
        else
        {
            Assert.True(result.Execution.Succeeded, $"{result.Execution.Error}: {result.Execution.Cause}");
            var outcome = (string?)result.Execution.Output!["outcome"];
            if (path == SecondRun)
            {
                // Against a champion either decision is legitimate (the retrained model may not beat it); the gate must have compared.
                Assert.Contains(outcome, new[] { "promoted", "rejected" });
                Assert.NotNull(result.Execution.Output["gate"]!["champion"]);
            }
            else Assert.Equal(path == Reject ? "rejected" : "promoted", outcome);
        }
        Report.Print(output, $"transient faults ({pathName}): {tasks.Count} task states failed once, {tasks.Count} retried, run {result.Execution.Status}: " +
            string.Join(", ", tasks.Select(t => $"{t} x{Retries(result, t!)}")));
    }

    /// <summary>Every Task state fails permanently with States.TaskFailed (which no Retry names).</summary>
    [Theory]
    [MemberData(nameof(EveryTaskState))]
    public async Task Permanent_fault_fails_the_run_notified_with_partial_outputs_kept_or_is_absorbed_where_the_definition_says(string state)
    {
        var cause = $"injected permanent failure at {state}";
        var (result, faults) = await RunAsync(PathOf(state), "permanent-" + state.ToLowerInvariant(), f => f.Fail(state, "States.TaskFailed", cause));
        var execution = result.Execution;

        Assert.Equal(1, faults.CallsTo(state)); // States.TaskFailed is never retried
        Assert.Equal(0, Retries(result, state));
        foreach (var file in new[] { "inputs.json", "history.jsonl", "logs.jsonl", "summary.json" })
            Assert.True(File.Exists(System.IO.Path.Combine(result.RunFolder, file)), $"{file} kept for {state}");

        if (MlflowStates.Contains(state))
        {
            Assert.True(execution.Succeeded, $"{execution.Error}: {execution.Cause}");
            var key = state["Log".Length..].ToLowerInvariant();
            Assert.Equal("deferred", (string?)execution.Output!["mlflow"]![key]!["result"]!["status"]);
            Assert.Contains(cause, (string?)execution.Output["mlflow"]![key]!["result"]!["cause"]);
        }
        else if (OutcomeNotifications.Contains(state))
        {
            Assert.True(execution.Succeeded, $"{execution.Error}: {execution.Cause}");
            Assert.Equal(state == "NotifyPromoted" ? "promoted" : "rejected", (string?)execution.Output!["outcome"]);
            // Only the cost estimate, sent before training, went out.
            Assert.DoesNotContain("Retraining run promoted", Notifications(result));
            Assert.DoesNotContain("Retraining run rejected", Notifications(result));
            Assert.Contains("Retraining run cost estimate", Notifications(result));
        }
        else if (state == "NotifyCostEstimate")
        {
            // The estimate is information: a failed publish never fails the run.
            Assert.True(execution.Succeeded, $"{execution.Error}: {execution.Cause}");
            Assert.Equal("promoted", (string?)execution.Output!["outcome"]);
            Assert.DoesNotContain("Retraining run cost estimate", Notifications(result));
        }
        else if (ChampionScoringStates.Contains(state))
        {
            // A champion that cannot be scored is "not comparable", never a failed run.
            Assert.True(execution.Succeeded, $"{execution.Error}: {execution.Cause}");
            Assert.Contains("ChampionNotScored", execution.StatesEntered);
            Assert.False((bool)execution.Output!["gate"]!["champion"]!["comparable"]!);
            Assert.Contains(cause, (string?)execution.Output["gate"]!["champion"]!["reason"]);
        }
        else
        {
            Assert.False(execution.Succeeded);
            Assert.Equal("States.TaskFailed", execution.Error);
            Assert.Equal(cause, execution.Cause);
            // The execution ends at the failed state (or the Parallel holding it), where a redrive continues.
            Assert.Contains(execution.History.Last(e => e.Type == "StateFailed").StateName, new[] { state, "SplitData" });
            Assert.Contains($"ended FAILED: Failed at {(string?)JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(result.RunFolder, "summary.json")))!["failure"]!["state"]}: States.TaskFailed: {cause}", Notifications(result));
            var summary = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(result.RunFolder, "summary.json")))!;
            Assert.Equal("failed", (string?)summary["outcome"]);
            Assert.Equal(state, (string?)summary["failure"]!["state"]);
            AssertPartialOutputsKept(result, state);
        }
        Report.Print(output, $"permanent fault at {state}: 1 injected, run {execution.Status} ({execution.Error ?? (string?)execution.Output?["outcome"]})");
    }

    /// <summary>Whatever the states before the failure wrote is still in the local buckets.</summary>
    private void AssertPartialOutputsKept(LocalRunResult result, string failedState)
    {
        var states = WorkflowStates.TaskStates().Select(s => s.Name).ToList();
        bool After(string earlier) => states.IndexOf(failedState) > states.IndexOf(earlier);
        var work = System.IO.Path.Combine(_root, "s3", LocalLayout.WorkBucket, "runs", result.RunId);
        if (After("QualityVerdict"))
            Assert.True(File.Exists(System.IO.Path.Combine(work, "quality", "report.json")), $"quality report kept after {failedState}");
        if (After("SplitForecastFeatures"))
            Assert.NotEmpty(Directory.GetFiles(System.IO.Path.Combine(work, "train"), "*", SearchOption.AllDirectories));
        if (After("PredictTestPeriod") && failedState != "TrainSingleModel")
            Assert.NotEmpty(Directory.GetFiles(System.IO.Path.Combine(work, "predictions"), "*.out"));
    }
}
