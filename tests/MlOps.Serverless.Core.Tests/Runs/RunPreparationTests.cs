using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Local.S3;

namespace MlOps.Serverless.Core.Tests.Runs;

public sealed class RunPreparationTests : IDisposable
{
    private const string ExecutionArn = "arn:aws:states:eu-west-1:123456789012:execution:mlops-retraining:run-42";
    private readonly string _root = Directory.CreateTempSubdirectory("mlops-prep-").FullName;
    private readonly LocalFolderObjectStore _store;

    public RunPreparationTests()
    {
        _store = new LocalFolderObjectStore(_root);
        foreach (var batch in new[] { "current", "2026-11-27" })
            foreach (var key in new[] { "sales/sales data-set.csv", "features/Features data set.csv", "stores/stores data-set.csv", "manifest.json" })
                File.WriteAllText(Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(_root, "raw-bucket", "incoming", batch, key))!).FullName
                    + "/" + Path.GetFileName(key), $"{batch}/{key}");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private RunPreparation Preparation(JsonObject? deployment = null, CostGuardrails? guardrails = null, string? namePrefix = null) =>
        new(new RunPreparationSettings("raw-bucket", "incoming/", "current", "work-bucket", "artifact-bucket", deployment, Guardrails: guardrails, NamePrefix: namePrefix), _store);

    private Task<RunRequest> PrepareAsync(string eventJson, string name = "run-42", string arn = ExecutionArn, JsonObject? deployment = null,
        CostGuardrails? guardrails = null, string? namePrefix = null) =>
        Preparation(deployment, guardrails, namePrefix).PrepareAsync(new PrepareRunInput(JsonDocument.Parse(eventJson).RootElement, name, arn, DateTimeOffset.Parse("2026-11-27T06:00:00Z")));

    private const string ScheduledEvent = """
        {"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events",
         "account":"123456789012","time":"2026-11-23T06:00:00Z","region":"eu-west-1",
         "resources":["arn:aws:events:eu-west-1:123456789012:rule/mlops-weekly-retraining"],"detail":{}}
        """;

    private static string S3Event(string key, string bucket = "raw-bucket") => $$"""
        {"version":"0","id":"17793124-05d4-b198-2fde-7ededc63b103","detail-type":"Object Created","source":"aws.s3",
         "account":"123456789012","time":"2026-11-27T05:59:10Z","region":"eu-west-1","resources":["arn:aws:s3:::{{bucket}}"],
         "detail":{"version":"0","bucket":{"name":"{{bucket}}"},
                   "object":{"key":"{{key}}","size":412,"etag":"b1946ac92492d2347c6235b4d2611184","version-id":"IYV3p45BT0ac8hjHg1houSdS1a.Mro8e","sequencer":"00617F08299329D189"},
                   "request-id":"N4N7GDK58NMKJ12R","requester":"123456789012","source-ip-address":"1.2.3.4","reason":"PutObject"} }
        """;

    [Fact]
    public async Task Scheduled_event_runs_on_the_configured_current_batch()
    {
        var run = await PrepareAsync(ScheduledEvent);

        Assert.Equal(TriggerKind.Schedule, run.Trigger);
        Assert.Equal("current", run.Data.BatchId);
        Assert.Equal("incoming/current/", run.Data.Prefix);
        Assert.Equal(DateTimeOffset.Parse("2026-11-23T06:00:00Z"), run.RequestedAt);
        Assert.Equal(4, run.Data.Objects.Count);
        Assert.All(run.Data.Objects, o => Assert.StartsWith("\"", o.ETag));
    }

    [Fact]
    public async Task Endpoint_update_is_refused_up_front_when_the_stack_has_no_endpoint()
    {
        const string request = """{"batch":"2026-11-27","overrides":{"predictions.updateEndpoint":true}}""";
        var error = await Assert.ThrowsAsync<InvalidRunRequest>(() => PrepareAsync(request));
        Assert.StartsWith("predictions.updateEndpoint: expected false, got true: this stack was deployed without an endpoint", error.Message);

        var withEndpoint = new RunPreparation(new RunPreparationSettings("raw-bucket", "incoming/", "current", "work-bucket", "artifact-bucket",
            EndpointDeployed: true), _store);
        var run = await withEndpoint.PrepareAsync(new PrepareRunInput(JsonDocument.Parse(request).RootElement, "run-42", ExecutionArn, null));
        Assert.True(run.Config.Predictions.UpdateEndpoint);
    }

    [Fact]
    public async Task Upload_marker_event_runs_on_that_batch()
    {
        var run = await PrepareAsync(S3Event("incoming/2026-11-27/manifest.json"));

        Assert.Equal(TriggerKind.S3Upload, run.Trigger);
        Assert.Equal("2026-11-27", run.Data.BatchId);
        Assert.Equal("raw-bucket", run.Data.Bucket);
        Assert.Contains(run.Data.Objects, o => o.Key == "incoming/2026-11-27/sales/sales data-set.csv");
    }

    [Fact]
    public async Task Manual_request_applies_overrides_over_deployment_settings_over_defaults()
    {
        var run = await PrepareAsync("""{"batch":"2026-11-27","overrides":{"tuning.maxJobs":8,"gate":{"maxWmaeRatioToNaive":0.8}},"comment":"retry after fix"}""",
            deployment: new JsonObject { ["tuning.maxJobs"] = 12, ["tuning.maxParallelJobs"] = 2 });

        Assert.Equal(TriggerKind.Manual, run.Trigger);
        Assert.Equal(8, run.Config.Tuning.MaxJobs);
        Assert.Equal(2, run.Config.Tuning.MaxParallelJobs);
        Assert.Equal(0.8, run.Config.Gate.MaxWmaeRatioToNaive);
        Assert.Equal(26, run.Config.Split.TestWeeks);
    }

    [Fact]
    public async Task Output_locations_and_job_names_are_derived_from_the_execution_name()
    {
        var run = await PrepareAsync("{}");

        Assert.Equal("run-42", run.RunId);
        Assert.Equal("s3://work-bucket/runs/run-42/train/", run.Output.TrainUri);
        Assert.Equal("s3://artifact-bucket/runs/run-42/models/", run.Output.ModelArtifactsUri);
        Assert.StartsWith("tune-run-42-", run.SageMaker.JobNames.Tuning);
        Assert.Equal("141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1", run.SageMaker.Image);
    }

    [Fact]
    public async Task Same_objects_give_the_same_fingerprint_and_a_changed_object_a_new_one()
    {
        var first = await PrepareAsync("{}");
        var again = await PrepareAsync("{}", name: "run-43", arn: ExecutionArn.Replace("run-42", "run-43"));
        File.AppendAllText(Path.Combine(_root, "raw-bucket", "incoming", "current", "sales", "sales data-set.csv"), "\r\n1,1,05/02/2010,1.0,FALSE");
        var changed = await PrepareAsync("{}");

        Assert.Equal(first.Data.Fingerprint, again.Data.Fingerprint);
        Assert.NotEqual(first.Data.Fingerprint, changed.Data.Fingerprint);
    }

    public static TheoryData<string, string> BadEvents => new()
    {
        { "[]", "$: expected a JSON object" },
        { """{"detail-type":"Object Deleted","source":"aws.s3","time":"2026-11-27T00:00:00Z"}""", "unknown event 'Object Deleted'" },
        { """{"source":"aws.s3","detail":{}}""", "has no 'detail-type'" },
        { """{"detail-type":"Scheduled Event","source":"aws.events","time":42}""", "$.time: expected a non-empty string, got the number 42" },
        { """{"detail-type":"Scheduled Event","source":"aws.events","time":"next tuesday"}""", "$.time: expected an ISO-8601 timestamp" },
        { """{"detail-type":"Object Created","source":"aws.s3","time":"2026-11-27T00:00:00Z"}""", "$.detail: expected an object, got nothing (missing)" },
        { S3Event("incoming/2026-11-27/manifest.json", bucket: "other-bucket"), "$.detail.bucket.name: expected the raw-data bucket 'raw-bucket'" },
        { S3Event("uploads/2026-11-27/manifest.json"), "outside the raw-data prefix 'incoming/'" },
        { S3Event("incoming/../secrets/manifest.json"), "path trick" },
        { S3Event("/incoming/2026-11-27/manifest.json"), "path trick" },
        { S3Event("incoming/2026-11-27%2F..%2Fx/manifest.json"), "path trick" },
        { S3Event("incoming/2026-11-27/sales/sales data-set.csv"), "is not an upload marker" },
        { S3Event("incoming/-bad/manifest.json"), "batch id '-bad'" },
        { """{"batch":5}""", "$.batch: expected a string batch id, got the number 5" },
        { """{"batch":"a/b"}""", "$.batch: batch id 'a/b'" },
        { """{"batch":"missing-batch"}""", "data: no objects under s3://raw-bucket/incoming/missing-batch/" },
        { """{"bucket":"x"}""", "$.bucket: unknown field of a manual run request" },
        { """{"overrides":[1]}""", "$.overrides: expected an object" },
        { """{"overrides":{"tuning.maxJob":8}}""", "unknown configuration key 'tuning.maxJob'" },
        { """{"overrides":{"tuning.maxJobs":"eight"}}""", "'tuning.maxJobs' expects a number, got a string" },
        { """{"overrides":{"training.hyperParameters.maxDepth":0}}""", "training.hyperParameters.maxDepth: expected an integer in [1, 30], got 0" },
        { """{"overrides":{"training.hyperParameters.eta":1.5}}""", "training.hyperParameters.eta: expected a number in (0, 1], got 1.5" },
        { """{"overrides":{"tuning.maxJobs":0}}""", "tuning.maxJobs: expected an integer in [1, 100] (the training jobs are read in one page of 100), got 0" },
        { """{"overrides":{"tuning.maxJobs":-3}}""", "tuning.maxJobs: expected an integer in [1, 100] (the training jobs are read in one page of 100), got -3" },
        { """{"overrides":{"tuning.maxJobs":4,"tuning.maxParallelJobs":6}}""", "tuning.maxParallelJobs: expected at most tuning.maxJobs (4), got 6" },
        { """{"overrides":{"tuning.eta":{"min":0.4,"max":0.1}}}""", "tuning.eta: expected min <= max" },
        { """{"overrides":{"tuning.maxDepth.min":20,"tuning.maxDepth.max":10}}""", "tuning.maxDepth: expected min <= max" },
        { """{"overrides":{"tuning":8}}""", "'tuning' is a section" },
        { """{"overrides":{"tuning.maxJobs.value":8}}""", "'tuning.maxJobs' is a value, not a section" },
    };

    [Theory]
    [MemberData(nameof(BadEvents))]
    public async Task Bad_input_is_rejected_with_a_named_error_naming_the_field(string eventJson, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidRunRequest>(() => PrepareAsync(eventJson));
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("", ExecutionArn, "executionName")]
    [InlineData("has space", ExecutionArn, "executionName")]
    [InlineData("run-42", "arn:aws:lambda:eu-west-1:123456789012:function:x", "executionArn")]
    public async Task Bad_execution_identity_is_rejected(string name, string arn, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidRunRequest>(() => PrepareAsync("{}", name, arn));
        Assert.StartsWith(expected, error.Message);
    }

    [Fact]
    public async Task Invalid_deployment_settings_are_a_configuration_error_not_a_bad_request()
    {
        var error = await Assert.ThrowsAsync<InvalidConfiguration>(() => PrepareAsync("{}", deployment: new JsonObject { ["split.testWeeks"] = 0 }));
        Assert.Contains("split.testWeeks", error.Message);
        Assert.Contains("deployment settings", error.Message);
    }

    [Fact]
    public async Task A_batch_with_too_many_objects_is_refused()
    {
        for (var i = 0; i < 20; i++) File.WriteAllText(Path.Combine(_root, "raw-bucket", "incoming", "current", "sales", $"part-{i}.csv"), "x");
        var error = await Assert.ThrowsAsync<InvalidRunRequest>(() => PrepareAsync("{}"));
        Assert.Contains("24 objects", error.Message);
    }

    [Theory]
    [InlineData("""{"tuning.maxJobs": 100, "tuning.maxParallelJobs": 100}""", "tuning.maxJobs: 100 exceeds the deployment's cap guardrails.maxTuningJobs (50)")]
    [InlineData("""{"training": {"instanceCount": 20}}""", "training.instanceCount: 20 exceeds the deployment's cap guardrails.maxInstanceCount (4)")]
    [InlineData("""{"training.maxRuntimeSeconds": 432000, "training.maxWaitSeconds": 432000}""", "training.maxRuntimeSeconds: 432000 exceeds the deployment's cap guardrails.maxRuntimeSeconds (14400)")]
    [InlineData("""{"training.instanceType": "ml.p4d.24xlarge"}""", "training.instanceType: 'ml.p4d.24xlarge' is not allowed by the deployment's cap guardrails.allowedInstanceTypes")]
    public async Task A_run_override_over_a_cost_cap_is_an_invalid_run_request_naming_the_cap(string overrides, string expected)
    {
        var error = await Assert.ThrowsAsync<InvalidRunRequest>(() => PrepareAsync($$"""{"overrides": {{overrides}}}"""));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task Caps_are_the_deployments_and_a_raised_cap_admits_the_override()
    {
        var run = await PrepareAsync("""{"overrides": {"tuning.maxJobs": 80}}""", guardrails: new CostGuardrails { MaxTuningJobs = 100 });
        Assert.Equal(80, run.Config.Tuning.MaxJobs);
        await Assert.ThrowsAsync<InvalidConfiguration>(() => PrepareAsync("{}", deployment: new JsonObject { ["tuning.maxJobs"] = 80 }));
    }

    [Fact]
    public async Task A_nested_manifest_is_ignored_not_failed()
    {
        var error = await Assert.ThrowsAsync<UploadIgnored>(() => PrepareAsync(S3Event("incoming/2026-11-27/sales/manifest.json")));
        Assert.Contains("inside a batch folder", error.Message);
        Assert.Contains("no run started", error.Message);
        // A marker outside the convention in any other way is still a bad request.
        await Assert.ThrowsAsync<InvalidRunRequest>(() => PrepareAsync(S3Event("incoming/2026-11-27/sales/data.csv")));
    }

    [Fact]
    public async Task The_run_works_on_its_own_copy_of_the_fingerprinted_objects()
    {
        var run = await PrepareAsync(S3Event("incoming/2026-11-27/manifest.json"));

        Assert.Equal("s3://work-bucket/runs/run-42/input/", run.Output.InputUri);
        foreach (var source in run.Data.Objects)
        {
            var copy = run.InputOf(source);
            Assert.Equal("work-bucket", copy.Bucket);
            Assert.Equal("runs/run-42/input/" + source.Key["incoming/2026-11-27/".Length..], copy.Key);
            Assert.Equal(File.ReadAllText(Path.Combine(_root, "raw-bucket", source.Key)), File.ReadAllText(_store.PathOf(copy)));
        }

        // Overwriting the upload afterwards changes nothing the run reads.
        var sales = Path.Combine(_root, "raw-bucket", "incoming", "2026-11-27", "sales", "sales data-set.csv");
        File.WriteAllText(sales, "overwritten");
        Assert.Equal("2026-11-27/sales/sales data-set.csv", File.ReadAllText(_store.PathOf(run.InputOf(run.Data.Objects.Single(o => o.Key.EndsWith("sales data-set.csv", StringComparison.Ordinal))))));
    }

    [Fact]
    public async Task The_run_carries_its_cost_estimate_and_names_jobs_after_the_deployment()
    {
        var run = await PrepareAsync("{}", namePrefix: "mlops");
        Assert.NotNull(run.CostEstimate);
        Assert.Equal(20, run.CostEstimate!.TrainingJobs);
        Assert.Equal(8 * 10_000_000L, run.CostEstimate.AthenaBytesScanned); // a tiny batch: Athena's minimum per query
        Assert.StartsWith("mlops-tune-run-42-", run.SageMaker.JobNames.Tuning);
    }
}
