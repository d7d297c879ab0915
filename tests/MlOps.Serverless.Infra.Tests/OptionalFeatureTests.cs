using System.Text.Json.Nodes;

namespace MlOps.Serverless.Infra.Tests;

[Collection(CdkCollection.Name)]
public sealed class OptionalFeatureTests(FullFeaturedStack stack)
{
    [Fact]
    public void Notification_email_is_subscribed_to_the_topic()
    {
        var subscription = stack.Single("AWS::SNS::Subscription").Resource["Properties"]!;
        Assert.Equal("email", (string?)subscription["Protocol"]);
        Assert.Equal("ml-team@example.com", (string?)subscription["Endpoint"]);
        Assert.Equal(stack.Single("AWS::SNS::Topic").LogicalId, CloudFormation.Resolve(subscription["TopicArn"]));
    }

    [Fact]
    public void A_disabled_schedule_keeps_its_rule_but_disables_it() =>
        Assert.Equal("DISABLED", (string?)stack.Resources("AWS::Events::Rule")
            .Single(r => r.Resource["Properties"]!["ScheduleExpression"] is not null).Resource["Properties"]!["State"]);

    [Fact]
    public void Deployment_settings_reach_prepare_run_with_the_endpoint_switched_on()
    {
        var env = stack.Resources("AWS::Lambda::Function")
            .Single(f => ((string?)f.Resource["Properties"]!["Handler"])!.EndsWith(".PrepareRunFunction::Handle", StringComparison.Ordinal))
            .Resource["Properties"]!["Environment"]!["Variables"]!;
        var settings = JsonNode.Parse((string)env["PIPELINE_SETTINGS"]!)!.AsObject();
        Assert.Equal(8, (int?)settings["tuning.maxJobs"]);
        Assert.True((bool?)settings["predictions.updateEndpoint"]);
    }

    [Fact]
    public void Names_follow_the_prefix()
    {
        Assert.Equal("retail-retraining", (string?)stack.RetrainingMachine.Resource["Properties"]!["StateMachineName"]);
        Assert.Equal("retail-weekly-sales-5e1d2c3b", CloudFormation.Resolve(stack.Single("AWS::SageMaker::ModelPackageGroup").Resource["Properties"]!["ModelPackageGroupName"]));
        Assert.Equal("retail-weekly-sales", CloudFormation.Resolve(
            stack.RetrainingMachine.Resource["Properties"]!["DefinitionSubstitutions"]!["EndpointName"]));
    }
}
