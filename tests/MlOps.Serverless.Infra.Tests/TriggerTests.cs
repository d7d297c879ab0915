using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Functions;
using MlOps.Serverless.Local.S3;

namespace MlOps.Serverless.Infra.Tests;

[Collection(CdkCollection.Name)]
public sealed class TriggerTests(DefaultStack stack)
{
    private const string Batch = "2026-11-27";

    private (string Id, JsonObject Properties) Rule(bool scheduled) => stack.Resources("AWS::Events::Rule")
        .Where(r => r.Resource["Properties"]!["Targets"]!.AsArray().Any(t => CloudFormation.Resolve(t!["Arn"]) == stack.RetrainingMachine.LogicalId)) // the rules that start runs
        .Where(r => (r.Resource["Properties"]!["ScheduleExpression"] is not null) == scheduled)
        .Select(r => (r.LogicalId, r.Resource["Properties"]!.AsObject()))
        .Single();

    private string RawBucket => stack.Resources("AWS::S3::Bucket").Single(b => b.LogicalId.StartsWith("StorageRaw", StringComparison.Ordinal)).LogicalId;

    private bool UploadRuleMatches(string bucket, string key, string detailType = "Object Created") =>
        EventPatternMatcher.Matches(Rule(scheduled: false).Properties["EventPattern"]!.AsObject(), S3Event(bucket, key, detailType), CloudFormation.Resolve);

    [Fact]
    public void Upload_rule_matches_the_marker_object_of_an_upload() =>
        Assert.True(UploadRuleMatches(RawBucket, $"incoming/{Batch}/manifest.json"));

    [Theory]
    [InlineData("incoming/2026-11-27/sales/sales data-set.csv")]
    [InlineData("incoming/2026-11-27/features/Features data set.csv")]
    [InlineData("incoming/2026-11-27/stores/stores data-set.csv")]
    [InlineData("incoming/manifest.json")]
    [InlineData("archive/2026-11-27/manifest.json")]
    [InlineData("incoming/2026-11-27/manifest.json.tmp")]
    public void Upload_rule_ignores_the_data_files_and_other_keys(string key) =>
        Assert.False(UploadRuleMatches(RawBucket, key));

    [Fact]
    public void Upload_rule_ignores_other_buckets_and_other_events()
    {
        Assert.False(UploadRuleMatches("some-other-bucket", $"incoming/{Batch}/manifest.json"));
        Assert.False(UploadRuleMatches(RawBucket, $"incoming/{Batch}/manifest.json", "Object Deleted"));
    }

    [Fact]
    public void Schedule_rule_runs_weekly_by_default_and_is_enabled()
    {
        var (_, schedule) = Rule(scheduled: true);
        Assert.Equal("cron(0 6 ? * MON *)", (string?)schedule["ScheduleExpression"]);
        Assert.Equal("ENABLED", (string?)schedule["State"]);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Both_rules_start_the_state_machine_with_the_event_itself_retries_and_a_dead_letter_queue(bool scheduled)
    {
        var machine = stack.RetrainingMachine.LogicalId;
        var target = Assert.Single(Rule(scheduled).Properties["Targets"]!.AsArray())!;
        Assert.Equal(machine, CloudFormation.Resolve(target["Arn"]));
        Assert.Null(target["Input"]);
        Assert.Null(target["InputPath"]);
        Assert.Null(target["InputTransformer"]);
        Assert.True((int?)target["RetryPolicy"]!["MaximumRetryAttempts"] > 0);
        var queue = CloudFormation.Resolve(target["DeadLetterConfig"]!["Arn"]).Split('.')[0];
        Assert.True((bool?)stack.Json["Resources"]![queue]!["Properties"]!["SqsManagedSseEnabled"], $"{queue} is not encrypted");
    }

    [Fact]
    public void Scheduled_event_is_accepted_by_the_real_prepare_run_handler()
    {
        Assert.Equal("$", (string?)PrepareRunState()["Parameters"]!["Payload"]!["event.$"]);
        var scheduled = new JsonObject
        {
            ["version"] = "0", ["id"] = "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", ["detail-type"] = "Scheduled Event",
            ["source"] = "aws.events", ["account"] = "123456789012", ["time"] = "2026-11-30T06:00:00Z", ["region"] = "us-east-1",
            ["resources"] = new JsonArray("arn:aws:events:us-east-1:123456789012:rule/schedule"), ["detail"] = new JsonObject(),
        };
        var run = Prepare(scheduled, "current");
        Assert.Equal("schedule", (string?)run["trigger"]);
        Assert.Equal("current", (string?)run["data"]!["batchId"]);
        Assert.Equal("1.7-1", (string?)run["config"]!["training"]!["xgboostVersion"]);
    }

    [Fact]
    public void Marker_event_is_accepted_by_the_real_prepare_run_handler()
    {
        var run = Prepare(S3Event(RawBucket, $"incoming/{Batch}/manifest.json"), Batch);
        Assert.Equal("s3Upload", (string?)run["trigger"]);
        Assert.Equal(Batch, (string?)run["data"]!["batchId"]);
    }

    /// <summary>Runs the event through PrepareRunFunction with the environment the stack gives the function.</summary>
    private JsonObject Prepare(JsonObject evt, string batch)
    {
        var environment = stack.Resources("AWS::Lambda::Function")
            .Single(f => ((string?)f.Resource["Properties"]!["Handler"])!.EndsWith(".PrepareRunFunction::Handle", StringComparison.Ordinal))
            .Resource["Properties"]!["Environment"]!["Variables"]!.AsObject()
            .ToDictionary(p => p.Key, p => CloudFormation.Resolve(p.Value));
        var root = Directory.CreateTempSubdirectory("infra-tests-s3-").FullName;
        try
        {
            foreach (var file in new[] { "sales/sales.csv", "features/features.csv", "stores/stores.csv", "manifest.json" })
            {
                var path = Path.Combine(root, environment["RAW_BUCKET"], "incoming", batch, file);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.WriteAllText(path, "x");
            }
            var saved = environment.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
            try
            {
                foreach (var (name, value) in environment) Environment.SetEnvironmentVariable(name, value);
                var function = new PrepareRunFunction(PrepareRunFunction.SettingsFromEnvironment(), new LocalFolderObjectStore(root));
                var payload = new JsonObject
                {
                    ["event"] = evt.DeepClone(),
                    ["executionName"] = "run-1",
                    ["executionArn"] = "arn:aws:states:us-east-1:123456789012:execution:mlops-retraining:run-1",
                    ["startTime"] = "2026-11-30T06:00:01Z",
                };
                using var output = function.Handle(new MemoryStream(Encoding.UTF8.GetBytes(payload.ToJsonString()))).GetAwaiter().GetResult();
                return JsonNode.Parse(output)!.AsObject();
            }
            finally
            {
                foreach (var (name, value) in saved) Environment.SetEnvironmentVariable(name, value);
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private JsonObject PrepareRunState() => JsonNode.Parse(stack.Definition)!["States"]!["PrepareRun"]!.AsObject();

    private static JsonObject S3Event(string bucket, string key, string detailType = "Object Created") => new()
    {
        ["version"] = "0", ["id"] = "17793124-05d4-b198-2fde-7ededc63b103", ["detail-type"] = detailType, ["source"] = "aws.s3",
        ["account"] = "123456789012", ["time"] = "2026-11-27T10:00:00Z", ["region"] = "us-east-1",
        ["resources"] = new JsonArray($"arn:aws:s3:::{bucket}"),
        ["detail"] = new JsonObject
        {
            ["version"] = "0",
            ["bucket"] = new JsonObject { ["name"] = bucket },
            ["object"] = new JsonObject { ["key"] = key, ["size"] = 5, ["etag"] = "b1946ac92492d2347c6235b4d2611184", ["sequencer"] = "00617F08299329D189" },
            ["request-id"] = "N4N7GDK58NMKJ12R", ["requester"] = "123456789012", ["reason"] = "PutObject",
        },
    };
}
