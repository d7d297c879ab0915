using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Tests.Runner;

public sealed class StateMachineRunnerTests
{
    private sealed class Echo(Func<TaskInvocation, JsonNode?> answer) : ITaskHandler
    {
        public Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken) => Task.FromResult(answer(invocation));
    }

    private const string OneTask = """
        {"StartAt":"Work","States":{"Work":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"n.$":"$.n"},"End":true}}}
        """;

    private static Task<ExecutionResult> Run(string definition, ITaskHandler tasks, string input = """{"n":1}""") =>
        new StateMachineRunner(NodeEnvironment.Discover()).RunAsync(new ExecutionRequest(definition, JsonNode.Parse(input), "runner-test"), tasks);

    [Fact]
    public async Task Large_outputs_cross_the_bridge_whole()
    {
        var big = new string('x', 300_000);
        var result = await Run(OneTask, new Echo(_ => new JsonObject { ["blob"] = big }));

        Assert.True(result.Succeeded, result.Cause);
        Assert.Equal(big, (string?)result.Output!["blob"]);
    }

    [Fact]
    public async Task Task_receives_the_effective_input_and_its_resource()
    {
        TaskInvocation? seen = null;
        await Run(OneTask, new Echo(i => { seen = i; return new JsonObject(); }), """{"n":7,"ignored":true}""");

        Assert.Equal("Work", seen!.StateName);
        Assert.Equal("arn:aws:states:::lambda:invoke", seen.Resource);
        Assert.Equal("""{"n":7}""", seen.Input!.ToJsonString());
    }

    [Fact]
    public async Task Task_failure_reaches_the_execution_with_its_aws_error_name_and_cause()
    {
        var result = await Run(OneTask, new FailingTasks());

        Assert.False(result.Succeeded);
        Assert.Equal("States.TaskFailed", result.Error);
        Assert.Equal("job failed: out of memory", result.Cause);
        Assert.Contains(result.History, e => e.Type == "StateFailed" && e.StateName == "Work");
    }

    [Fact]
    public async Task Context_object_carries_the_execution_name_and_arn()
    {
        const string definition = """
            {"StartAt":"Who","States":{"Who":{"Type":"Pass","Parameters":{"name.$":"$$.Execution.Name","arn.$":"$$.Execution.Id"},"End":true}}}
            """;
        var result = await Run(definition, new Echo(_ => null));

        Assert.Equal("runner-test", (string?)result.Output!["name"]);
        Assert.Equal("arn:aws:states:local:000000000000:execution:mlops-retraining:runner-test", (string?)result.Output["arn"]);
    }

    /// <summary>Blocks in the named state until its token is cancelled, and records that it was; answers the others.</summary>
    private sealed class Abandoned(string slowState) : ITaskHandler
    {
        public readonly TaskCompletionSource<TimeSpan> Cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly List<string> Ran = [];

        public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
        {
            lock (Ran) Ran.Add(invocation.StateName);
            if (invocation.StateName != slowState) return new JsonObject();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Cancelled.TrySetResult(clock.Elapsed);
                throw;
            }
            return new JsonObject();
        }
    }

    // Parameters hide $.limits from the effective input: the limit must come from the state input, as on AWS.
    private const string SlowThenCatch = """
        {"StartAt":"Slow","States":{
          "Slow":{"Type":"Task","Resource":"arn:aws:states:::sagemaker:createTrainingJob.sync","TimeoutSecondsPath":"$.limits.slow",
                  "Parameters":{"n.$":"$.n"},"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"After"}],"End":true},
          "After":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","TimeoutSeconds":60,"Parameters":{"m.$":"$.error.Cause"},"ResultPath":null,"End":true}}}
        """;

    [Fact]
    public async Task A_timed_out_task_fails_with_state_time_and_limit_and_its_work_is_cancelled_before_the_next_state()
    {
        var tasks = new Abandoned("Slow");
        var result = await Run(SlowThenCatch, tasks, """{"n":1,"limits":{"slow":1}}""");

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        var failed = Assert.Single(result.History, e => e.Type == "StateFailed" && e.StateName == "Slow");
        Assert.Equal("States.Timeout", failed.Error);
        Assert.Matches(@"^State Slow timed out after 1\.\d s \(its limit: TimeoutSecondsPath \$\.limits\.slow = 1 s\)$", failed.Cause);
        Assert.True(tasks.Cancelled.Task.IsCompleted, "the abandoned task's token was not cancelled");
        Assert.Equal(["Slow", "After"], tasks.Ran);
    }

    [Fact]
    public async Task A_timeout_path_that_does_not_resolve_in_the_state_input_fails_the_state_with_a_named_error()
    {
        var result = await Run(SlowThenCatch, new Abandoned("none"), """{"n":1}""");

        var failed = Assert.Single(result.History, e => e.Type == "StateFailed" && e.StateName == "Slow");
        Assert.Equal("States.Runtime", failed.Error);
        Assert.Contains("TimeoutSecondsPath $.limits.slow must select a positive integer", failed.Cause);
    }

    [Fact]
    public async Task A_literal_limit_is_named_in_the_timeout_cause()
    {
        var definition = SlowThenCatch.Replace("\"TimeoutSecondsPath\":\"$.limits.slow\"", "\"TimeoutSeconds\":1", StringComparison.Ordinal);
        var result = await Run(definition, new Abandoned("Slow"));

        var failed = Assert.Single(result.History, e => e.Type == "StateFailed" && e.StateName == "Slow");
        Assert.Matches(@"^State Slow timed out after 1\.\d s \(its limit: TimeoutSeconds 1 s\)$", failed.Cause);
    }

    [Fact]
    public async Task Stopping_the_execution_aborts_it_and_cancels_the_running_task()
    {
        var tasks = new Abandoned("Slow");
        using var stop = new CancellationTokenSource();
        var run = new StateMachineRunner(NodeEnvironment.Discover()).RunAsync(
            new ExecutionRequest(SlowThenCatch, JsonNode.Parse("""{"n":1,"limits":{"slow":3600}}"""), "runner-stop"), tasks, cancellationToken: stop.Token);
        while (tasks.Ran.Count == 0) await Task.Delay(20);
        await stop.CancelAsync();
        var result = await run;

        Assert.Equal("ABORTED", result.Status);
        Assert.True(tasks.Cancelled.Task.IsCompleted, "the running task's token was not cancelled");
        Assert.Equal(["Slow"], tasks.Ran); // no Catch runs for a stopped execution
    }

    private sealed class FailingTasks : ITaskHandler
    {
        public Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken) =>
            throw new TaskFailure("States.TaskFailed", "job failed: out of memory");
    }
}
