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

    private sealed class FailingTasks : ITaskHandler
    {
        public Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken) =>
            throw new TaskFailure("States.TaskFailed", "job failed: out of memory");
    }
}
