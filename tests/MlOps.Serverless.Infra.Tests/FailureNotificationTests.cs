using System.Text.Json.Nodes;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Infra.Tests;

[Collection(CdkCollection.Name)]
public sealed class FailureNotificationTests(DefaultStack stack, ExistingTopicStack existing)
{
    private static JsonObject RunFailedRule(SynthesizedStack s) => s.Resources("AWS::Events::Rule")
        .Select(r => r.Resource["Properties"]!.AsObject())
        .Single(p => p["EventPattern"]?["source"]?.AsArray().Any(s => (string?)s == "aws.states") == true);

    private static JsonObject StatusChange(string status, string stateMachineArn) => new()
    {
        ["source"] = "aws.states",
        ["detail-type"] = "Step Functions Execution Status Change",
        ["detail"] = new JsonObject { ["status"] = status, ["stateMachineArn"] = stateMachineArn, ["name"] = "weekly-2026-11-27" },
    };

    private static IEnumerable<JsonObject> Allows(SynthesizedStack s, string role) => CloudFormation.AllowStatementsOf(s.Json, role);

    private static List<string> Resources(SynthesizedStack s, string role, string action) =>
        Allows(s, role).Where(st => CloudFormation.List(st["Action"]).Contains(action)).SelectMany(st => CloudFormation.List(st["Resource"])).Distinct().Order().ToList();

    private static string RoleOf(JsonObject resource) => CloudFormation.Resolve(resource["Properties"]!["RoleArn"]).Split('.')[0];

    [Theory]
    [InlineData("FAILED", true)]
    [InlineData("TIMED_OUT", true)]
    [InlineData("ABORTED", true)]
    [InlineData("SUCCEEDED", false)]
    [InlineData("RUNNING", false)]
    public void Runs_that_end_unsuccessfully_start_the_failure_notifier_with_the_whole_event(string status, bool announced)
    {
        var rule = RunFailedRule(stack);
        var machine = stack.RetrainingMachine.LogicalId;
        Assert.Equal(announced, EventPatternMatcher.Matches(rule["EventPattern"]!.AsObject(), StatusChange(status, machine), CloudFormation.Resolve));
        Assert.False(EventPatternMatcher.Matches(rule["EventPattern"]!.AsObject(), StatusChange("FAILED", "OtherMachine"), CloudFormation.Resolve));

        var target = Assert.Single(rule["Targets"]!.AsArray())!;
        Assert.Equal(stack.FailureNotifierMachine.LogicalId, CloudFormation.Resolve(target["Arn"]));
        // No input transformer: the notifier reads the event's detail (execution ARN, name, status, error, cause) itself.
        Assert.Null(target["InputTransformer"]);
        Assert.Null(target["Input"]);
        Assert.Null(target["InputPath"]);
        // The rule's role may start the notifier and nothing else.
        var ruleRole = CloudFormation.Resolve(target["RoleArn"]).Split('.')[0];
        var statement = Assert.Single(Allows(stack, ruleRole));
        Assert.Equal(["states:StartExecution"], CloudFormation.List(statement["Action"]));
        Assert.Equal([stack.FailureNotifierMachine.LogicalId], CloudFormation.List(statement["Resource"]));
    }

    [Fact]
    public void The_notifier_is_an_Express_machine_running_the_notifier_definition_with_its_stage_and_the_topic()
    {
        var properties = stack.FailureNotifierMachine.Resource["Properties"]!;
        Assert.Equal("mlops-failure-notifier", (string?)properties["StateMachineName"]);
        var substitutions = properties["DefinitionSubstitutions"]!.AsObject();
        Assert.Equal(["FailureNotifierFunctionArn", "NotificationTopicArn"], substitutions.Select(p => p.Key).Order());
        var notifierFunction = stack.Resources("AWS::Lambda::Function")
            .Single(f => ((string?)f.Resource["Properties"]!["Handler"])!.EndsWith(".FailureNotifierFunction::Handle", StringComparison.Ordinal)).LogicalId;
        Assert.Equal($"{notifierFunction}.Arn", CloudFormation.Resolve(substitutions["FailureNotifierFunctionArn"]));
        Assert.Equal(stack.Single("AWS::SNS::Topic").LogicalId, CloudFormation.Resolve(substitutions["NotificationTopicArn"]));
        var definition = File.ReadAllText(SynthesizedStack.RepositoryFile("statemachines/" + FailureNotification.DefinitionFileName));
        Assert.Equal(DefinitionTemplate.Placeholders(definition).Order(), substitutions.Select(p => p.Key).Order());
    }

    [Fact]
    public void The_notifier_reads_only_this_deployments_retraining_executions_invokes_only_its_stage_and_publishes_only_to_the_topic()
    {
        var role = RoleOf(stack.FailureNotifierMachine.Resource);
        var notifierFunction = stack.Resources("AWS::Lambda::Function")
            .Single(f => ((string?)f.Resource["Properties"]!["Handler"])!.EndsWith(".FailureNotifierFunction::Handle", StringComparison.Ordinal)).LogicalId;

        Assert.Equal(["arn:aws:states:us-east-1:123456789012:execution:mlops-retraining:*"], Resources(stack, role, "states:GetExecutionHistory"));
        Assert.Equal([$"{notifierFunction}.Arn", $"{notifierFunction}.Arn:*"], Resources(stack, role, "lambda:InvokeFunction"));
        Assert.Equal([stack.Single("AWS::SNS::Topic").LogicalId], Resources(stack, role, "sns:Publish"));
        var topicKey = stack.Resources("AWS::KMS::Key").Single(k => ((string?)k.Resource["Properties"]!["Description"])!.Contains("notification topic", StringComparison.Ordinal)).LogicalId;
        Assert.Equal([$"{topicKey}.Arn"], Resources(stack, role, "kms:GenerateDataKey"));
        var granted = Allows(stack, role).SelectMany(s => CloudFormation.List(s["Action"])).Where(a => !a.StartsWith("logs:", StringComparison.Ordinal) && !a.StartsWith("xray:", StringComparison.Ordinal)).Distinct().Order();
        Assert.Equal(["kms:Decrypt", "kms:GenerateDataKey", "lambda:InvokeFunction", "sns:Publish", "states:GetExecutionHistory"], granted);
        // The retraining role cannot invoke the notifier's stage.
        Assert.DoesNotContain(Resources(stack, IamTests.StateMachineRole(stack), "lambda:InvokeFunction"), r => r.StartsWith(notifierFunction, StringComparison.Ordinal));
    }

    [Fact]
    public void An_existing_topic_and_its_key_are_what_the_notifier_publishes_with()
    {
        var role = RoleOf(existing.FailureNotifierMachine.Resource);
        Assert.Equal([ExistingTopicStack.TopicArn], Resources(existing, role, "sns:Publish"));
        Assert.Equal([ExistingTopicStack.TopicKeyArn], Resources(existing, role, "kms:GenerateDataKey"));
    }

    [Fact]
    public void EventBridge_no_longer_publishes_to_the_topic_nor_uses_its_key()
    {
        var topicKey = stack.Resources("AWS::KMS::Key").Single(k => ((string?)k.Resource["Properties"]!["Description"])!.Contains("notification topic", StringComparison.Ordinal));
        Assert.DoesNotContain(topicKey.Resource["Properties"]!["KeyPolicy"]!["Statement"]!.AsArray(), s => (string?)s!["Principal"]?["Service"] == "events.amazonaws.com");
        Assert.DoesNotContain(stack.Resources("AWS::SNS::TopicPolicy"), p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray()
            .Any(s => (string?)s!["Principal"]?["Service"] == "events.amazonaws.com"));
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
