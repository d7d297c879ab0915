using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Tests.Adapters;

/// <summary>The GetExecutionHistory stand-in through the dispatcher, which checks requests and answers against botocore's states model.</summary>
public sealed class ExecutionHistoryAdapterTests
{
    private const string Arn = "arn:aws:states:local:000000000000:execution:mlops-retraining:run-1";
    private static readonly DateTimeOffset T = DateTimeOffset.UnixEpoch;

    private static LocalTaskDispatcher Dispatcher()
    {
        var adapter = new ExecutionHistoryAdapter();
        adapter.Record(Arn, new ExecutionResult("FAILED", null, "States.TaskFailed", "query failed",
        [
            new ExecutionEvent("ExecutionStarted", T, null, null, null, null, null, null, JsonNode.Parse("""{"input":{"batch":"b"}}""")),
            new ExecutionEvent("StateEntered", T, "Quality", "Task", JsonNode.Parse("""{"batch":"b"}"""), null, null, null, null),
            new ExecutionEvent("StateFailed", T, "Quality", "Task", null, null, "States.TaskFailed", "query failed", null),
            new ExecutionEvent("ExecutionFailed", T, null, null, null, null, "States.TaskFailed", "query failed", null),
        ]), """{"StartAt":"Quality","States":{"Quality":{"Type":"Task","Resource":"arn:aws:states:::athena:startQueryExecution.sync","End":true}}}""");
        return new LocalTaskDispatcher([adapter]);
    }

    private static Task<JsonNode?> Call(JsonObject request) =>
        Dispatcher().HandleAsync(new TaskInvocation("GetExecutionHistory", ExecutionHistoryAdapter.Resource, request), CancellationToken.None);

    [Fact]
    public async Task Answers_in_AWSs_shape_newest_first_with_linked_events_and_the_tasks_resource()
    {
        var answer = (await Call(new JsonObject { ["ExecutionArn"] = Arn, ["ReverseOrder"] = true, ["IncludeExecutionData"] = false }))!;

        var events = answer["Events"]!.AsArray();
        Assert.Equal(["ExecutionFailed", "TaskFailed", "TaskStateEntered", "ExecutionStarted"], events.Select(e => (string?)e!["Type"]));
        Assert.Equal([3L, 2L, 1L, 0L], events.Select(e => (long)e!["PreviousEventId"]!));
        Assert.Equal("athena", (string?)events[1]!["TaskFailedEventDetails"]!["ResourceType"]);
        Assert.Equal("startQueryExecution.sync", (string?)events[1]!["TaskFailedEventDetails"]!["Resource"]);
        Assert.Null(events[2]!["StateEnteredEventDetails"]!["Input"]); // IncludeExecutionData: false
        Assert.Null(answer["NextToken"]);
    }

    [Fact]
    public async Task Pages_at_MaxResults_with_a_NextToken()
    {
        var first = (await Call(new JsonObject { ["ExecutionArn"] = Arn, ["MaxResults"] = 3 }))!;
        var rest = (await Call(new JsonObject { ["ExecutionArn"] = Arn, ["MaxResults"] = 3, ["NextToken"] = (string?)first["NextToken"] }))!;

        Assert.Equal(3, first["Events"]!.AsArray().Count);
        Assert.Equal("ExecutionFailed", (string?)Assert.Single(rest["Events"]!.AsArray())!["Type"]);
        Assert.Equal("{\"batch\":\"b\"}", (string?)first["Events"]![1]!["StateEnteredEventDetails"]!["Input"]);
    }

    [Fact]
    public async Task Refuses_what_AWS_refuses()
    {
        var tooMany = await Assert.ThrowsAsync<TaskFailure>(() => Call(new JsonObject { ["ExecutionArn"] = Arn, ["MaxResults"] = 1001 }));
        Assert.Equal("Sfn.ValidationException", tooMany.Error);
        Assert.Contains("MaxResults must be at most 1000", tooMany.Cause);

        var lowerCase = await Assert.ThrowsAsync<TaskFailure>(() => Call(new JsonObject { ["executionArn"] = Arn }));
        Assert.Contains("ExecutionArn is required", lowerCase.Cause);

        var unknown = await Assert.ThrowsAsync<TaskFailure>(() => Call(new JsonObject { ["ExecutionArn"] = Arn + "-other" }));
        Assert.Equal("Sfn.ExecutionDoesNotExistException", unknown.Error);

        var notAnExecution = await Assert.ThrowsAsync<TaskFailure>(() => Call(new JsonObject { ["ExecutionArn"] = "arn:aws:states:local:000000000000:stateMachine:mlops-retraining" }));
        Assert.Equal("Sfn.InvalidArnException", notAnExecution.Error);
    }
}
