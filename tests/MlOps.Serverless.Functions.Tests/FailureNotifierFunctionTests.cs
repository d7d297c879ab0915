using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Functions.Tests;

/// <summary>The notifier stage through its Lambda entry point, with the payload the notifier definition sends.</summary>
public sealed class FailureNotifierFunctionTests
{
    private static MemoryStream Json(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task The_status_change_and_the_PascalCase_history_give_the_plain_message_and_subject()
    {
        // What ComposeMessage sends: the EventBridge event's detail (camelCase, extra members included) and
        // GetExecutionHistory's Events, newest first.
        var output = await new FailureNotifierFunction().Handle(Json("""
            {"execution":{"executionArn":"arn:aws:states:eu-west-1:123456789012:execution:retail-retraining:weekly-1","stateMachineArn":"arn:aws:states:eu-west-1:123456789012:stateMachine:retail-retraining",
              "name":"weekly-1","status":"FAILED","startDate":1764400000000,"stopDate":1764400060000,"input":"{}","output":null,"redriveCount":0,
              "error":"InvalidRunRequest","cause":"{\"errorMessage\":\"batch \\u0027x\\u0027 has no sales file\",\"errorType\":\"InvalidRunRequest\",\"stackTrace\":[]}"},
             "events":[
              {"Timestamp":"2026-11-29T07:01:00Z","Type":"ExecutionFailed","Id":4,"PreviousEventId":3,"ExecutionFailedEventDetails":{"Error":"InvalidRunRequest"}},
              {"Timestamp":"2026-11-29T07:01:00Z","Type":"TaskFailed","Id":3,"PreviousEventId":2,"TaskFailedEventDetails":{"ResourceType":"lambda","Resource":"invoke","Error":"InvalidRunRequest"}},
              {"Timestamp":"2026-11-29T07:00:00Z","Type":"TaskStateEntered","Id":2,"PreviousEventId":1,"StateEnteredEventDetails":{"Name":"PrepareRun"}},
              {"Timestamp":"2026-11-29T07:00:00Z","Type":"ExecutionStarted","Id":1,"PreviousEventId":0,"ExecutionStartedEventDetails":{}}]}
            """));
        var notice = JsonNode.Parse(output)!;

        Assert.Equal("Retraining run failed", (string?)notice["subject"]);
        Assert.Equal("Run weekly-1 ended FAILED: Failed at PrepareRun: InvalidRunRequest: batch 'x' has no sales file", (string?)notice["message"]);
    }

    [Fact]
    public async Task A_payload_without_the_execution_is_refused_with_a_named_error()
    {
        var error = await Assert.ThrowsAsync<InvalidStageInput>(() => new FailureNotifierFunction().Handle(Json("""{"events":[]}""")));

        Assert.Contains("FailureNotifierInput", error.Message);
    }
}
