using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Functions;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Tests.Run;

/// <summary>
/// The deployed failure notifier definition on the real interpreter, with the GetExecutionHistory stand-in, the
/// FailureNotifier stage through its Lambda entry point and the SNS stand-in, every request and answer checked
/// against AWS's service models by the dispatcher.
/// </summary>
public sealed class FailureNotifierTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlops-notifier-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static readonly DateTimeOffset T = DateTimeOffset.UnixEpoch;

    private static ExecutionEvent State(string type, string state, string stateType, string? error = null, string? cause = null) =>
        new(type, T, state, stateType, null, null, error, cause, null);

    private const string LambdaCause = """{"errorMessage":"split \u0027test\u0027 has no rows for week 2012-10-26","errorType":"EmptySplit","stackTrace":[]}""";

    /// <summary>A run whose Task in a Parallel branch failed twice (retried once), failing the Parallel state and the run.</summary>
    private static ExecutionResult FailedRun() => new("FAILED", null, "EmptySplit", LambdaCause,
    [
        new ExecutionEvent("ExecutionStarted", T, null, null, null, null, null, null, JsonNode.Parse("""{"type":"ExecutionStarted","input":{"batch":"b"}}""")),
        State("StateEntered", "PrepareRun", "Task"), State("StateExited", "PrepareRun", "Task"),
        State("StateEntered", "SplitData", "Parallel"), State("StateEntered", "SplitTrain", "Task"), State("StateEntered", "SplitTest", "Task"),
        State("StateExited", "SplitTrain", "Task"),
        State("StateFailed", "SplitTest", "Task", "EmptySplit", LambdaCause), State("StateRetried", "SplitTest", "Task"),
        State("StateEntered", "SplitTest", "Task"), State("StateFailed", "SplitTest", "Task", "EmptySplit", LambdaCause),
        State("StateFailed", "SplitData", "Parallel", "EmptySplit", LambdaCause),
        new ExecutionEvent("ExecutionFailed", T, null, null, null, null, "EmptySplit", LambdaCause, null),
    ]);

    private const string RunDefinition = """
        {"StartAt":"PrepareRun","States":{
          "PrepareRun":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Next":"SplitData"},
          "SplitData":{"Type":"Parallel","End":true,"Branches":[
            {"StartAt":"SplitTrain","States":{"SplitTrain":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}},
            {"StartAt":"SplitTest","States":{"SplitTest":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}]}}}
        """;

    private static readonly ExecutionRequest Run = new(RunDefinition, new JsonObject(), "weekly-7", Region: LocalLayout.Region, Account: LocalLayout.Account);

    private async Task<(ExecutionResult Notifier, string Notifications)> Notify(ExecutionResult failed, ExecutionRequest run)
    {
        var history = new ExecutionHistoryAdapter();
        history.Record(Run.ExecutionArn, failed, RunDefinition);
        var notifications = Path.Combine(_folder, "notifications.jsonl");
        var lambda = new LambdaAdapter(new Dictionary<string, Func<Stream, Task<Stream>>>
        {
            [StageSpec.FailureNotifier.Id] = new FailureNotifierFunction(new StructuredLog("test", TextWriter.Null)).Handle,
        });
        var request = new ExecutionRequest(LocalDefinition.BuildFailureNotifier(), LocalWorkflow.StatusChangeEvent(run, failed), "notify-1",
            StateMachineName: LocalDefinition.FailureNotifierName, Region: LocalLayout.Region, Account: LocalLayout.Account,
            RetryIntervalOverridesMs: new Dictionary<string, int> { ["GetExecutionHistory"] = 0, ["ComposeMessage"] = 0 });
        var result = await new StateMachineRunner(NodeEnvironment.Discover()).RunAsync(request, new LocalTaskDispatcher([history, lambda, new SnsAdapter(notifications)]));
        return (result, File.Exists(notifications) ? File.ReadAllText(notifications) : "");
    }

    [Fact]
    public async Task A_failed_run_is_announced_with_exactly_the_plain_line_of_the_state_that_failed()
    {
        var (notifier, notifications) = await Notify(FailedRun(), Run);

        Assert.True(notifier.Succeeded, notifier.Cause);
        Assert.Equal(["GetExecutionHistory", "ComposeMessage", "Publish"], notifier.StatesEntered);
        var published = JsonNode.Parse(Assert.Single(notifications.Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal("Run weekly-7 ended FAILED: Failed at SplitTest: EmptySplit: split 'test' has no rows for week 2012-10-26", (string?)published["Message"]);
        Assert.Equal("Retraining run failed", (string?)published["Subject"]);
        Assert.Equal($"arn:aws:sns:{LocalLayout.Region}:{LocalLayout.Account}:mlops-notifications", (string?)published["TopicArn"]);
    }

    [Fact]
    public async Task Without_the_runs_history_the_notifier_still_announces_the_plain_message_from_the_event()
    {
        // An execution the history stand-in does not know: GetExecutionHistory fails as AWS would, the notifier goes on.
        var other = Run with { ExecutionName = "not-recorded" };
        var (notifier, notifications) = await Notify(FailedRun(), other);

        Assert.True(notifier.Succeeded, notifier.Cause);
        Assert.Contains("NoHistory", notifier.StatesEntered);
        var published = JsonNode.Parse(Assert.Single(notifications.Split('\n', StringSplitOptions.RemoveEmptyEntries)))!;
        Assert.Equal("Run not-recorded ended FAILED: Failed at the start of the run: EmptySplit: split 'test' has no rows for week 2012-10-26", (string?)published["Message"]);
    }
}
