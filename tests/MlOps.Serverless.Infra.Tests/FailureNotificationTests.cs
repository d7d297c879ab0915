using System.Text.Json.Nodes;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Infra.Tests;

[Collection(CdkCollection.Name)]
public sealed class FailureNotificationTests(DefaultStack stack)
{
    private JsonObject RunFailedRule() => stack.Resources("AWS::Events::Rule")
        .Select(r => r.Resource["Properties"]!.AsObject())
        .Single(p => p["EventPattern"]?["source"]?.AsArray().Any(s => (string?)s == "aws.states") == true);

    private static JsonObject StatusChange(string status, string stateMachineArn) => new()
    {
        ["source"] = "aws.states",
        ["detail-type"] = "Step Functions Execution Status Change",
        ["detail"] = new JsonObject { ["status"] = status, ["stateMachineArn"] = stateMachineArn, ["name"] = "weekly-2026-11-27" },
    };

    [Theory]
    [InlineData("FAILED", true)]
    [InlineData("TIMED_OUT", true)]
    [InlineData("ABORTED", true)]
    [InlineData("SUCCEEDED", false)]
    [InlineData("RUNNING", false)]
    public void Runs_that_end_unsuccessfully_are_announced_on_the_topic(string status, bool announced)
    {
        var rule = RunFailedRule();
        var machine = stack.Single("AWS::StepFunctions::StateMachine").LogicalId;
        Assert.Equal(announced, EventPatternMatcher.Matches(rule["EventPattern"]!.AsObject(), StatusChange(status, machine), CloudFormation.Resolve));
        Assert.False(EventPatternMatcher.Matches(rule["EventPattern"]!.AsObject(), StatusChange("FAILED", "OtherMachine"), CloudFormation.Resolve));

        var target = Assert.Single(rule["Targets"]!.AsArray())!;
        Assert.Equal(stack.Single("AWS::SNS::Topic").LogicalId, CloudFormation.Resolve(target["Arn"]));
        var template = CloudFormation.Resolve(target["InputTransformer"]!["InputTemplate"]);
        // CDK names each placeholder after its path ($.detail.name -> <detail-name>).
        Assert.Equal("\"" + FailureNotification.Template.Replace("<", "<detail-", StringComparison.Ordinal) + "\"", template);
        foreach (var field in new[] { "name", "status", "error", "cause" })
            Assert.Equal($"$.detail.{field}", (string?)target["InputTransformer"]!["InputPathsMap"]![$"detail-{field}"]);
    }

    [Fact]
    public void EventBridge_may_use_the_topic_key_and_publish_to_the_topic()
    {
        var topicKey = stack.Resources("AWS::KMS::Key").Single(k => ((string?)k.Resource["Properties"]!["Description"])!.Contains("notification topic", StringComparison.Ordinal));
        var statements = topicKey.Resource["Properties"]!["KeyPolicy"]!["Statement"]!.AsArray();
        Assert.Contains(statements, s => (string?)s!["Principal"]?["Service"] == "events.amazonaws.com"
            && CloudFormation.List(s["Action"]).Order().SequenceEqual(["kms:Decrypt", "kms:GenerateDataKey"]));
        var topicPolicy = stack.Single("AWS::SNS::TopicPolicy").Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray();
        Assert.Contains(topicPolicy, s => (string?)s!["Principal"]?["Service"] == "events.amazonaws.com"
            && CloudFormation.List(s["Action"]).Contains("sns:Publish"));
    }

    [Fact]
    public void No_state_catches_a_failure_into_a_Fail_state_so_a_redrive_continues_at_the_state_that_failed()
    {
        var states = JsonNode.Parse(stack.Definition)!["States"]!.AsObject();
        Assert.DoesNotContain(states, s => (string?)s.Value!["Type"] == "Fail");
        foreach (var (name, state) in states)
            foreach (var c in state!["Catch"]?.AsArray() ?? [])
                Assert.NotEqual("Fail", (string?)states[(string)c!["Next"]!]?["Type"]);
    }
}
