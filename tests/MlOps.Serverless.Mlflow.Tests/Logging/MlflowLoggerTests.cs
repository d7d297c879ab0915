using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Local.S3;
using MlOps.Serverless.Mlflow.Authentication;
using MlOps.Serverless.Mlflow.Client;
using MlOps.Serverless.Mlflow.Json;
using MlOps.Serverless.Mlflow.Logging;

namespace MlOps.Serverless.Mlflow.Tests.Logging;

public sealed class MlflowLoggerTests : IDisposable
{
    private readonly TempFolder _folder = new("mlflow-tests-");
    private readonly LocalFolderObjectStore _store;

    public MlflowLoggerTests() => _store = new LocalFolderObjectStore(_folder.Path);

    public void Dispose() => _folder.Dispose();

    private static MlflowClient DeadClient(IMlflowAuthenticator? auth = null) =>
        Samples.Client(Samples.DeadEndpoint(), retry: new MlflowRetryPolicy { MaxAttempts = 2 }, auth: auth);

    [Fact]
    public async Task An_unreachable_server_defers_the_payload_to_the_runs_outbox()
    {
        using var client = DeadClient();
        var input = Samples.Training();
        var output = await new MlflowLogger(client, _store).RunAsync(input);

        Assert.Equal(MlflowLoggerStatus.Deferred, output.Status);
        Assert.Equal("s3://work/runs/exec-2026-11-27-a/mlflow-outbox/training.json", output.OutboxUri);
        Assert.StartsWith("MlflowUnavailable:", output.Reason);
        await using var stream = await _store.OpenReadAsync(S3Uri.Parse(output.OutboxUri!));
        var entry = MlflowOutbox.Parse(stream!, output.OutboxUri!);
        Assert.Equal(input.Run.ExecutionArn, entry.Input.Run.ExecutionArn);
        Assert.Equal(3, entry.Input.Training!.TrainingJobs!.Count);
        Assert.Equal(output.Reason, entry.Reason);
    }

    [Fact]
    public async Task Without_a_tracking_server_every_action_goes_to_the_outbox()
    {
        var stage = new MlflowLogger(null, _store);
        var output = await stage.RunAsync(Samples.Training());
        Assert.Equal(MlflowLoggerStatus.Deferred, output.Status);
        Assert.Equal(MlflowLogger.NoServerReason, output.Reason);
        await stage.RunAsync(new MlflowLoggerInput(MlflowLoggerAction.Evaluation, Samples.Run(), Evaluation: new EvaluationResult("reject", ["worse than naive"])));
        var entries = await MlflowOutbox.ReadAllAsync(_store, MlflowOutbox.Prefix(Samples.Run()));
        Assert.Equal([MlflowLoggerAction.Training, MlflowLoggerAction.Evaluation], entries.Select(e => e.Entry.Input.Action));
    }

    [Fact]
    public async Task A_rejected_request_is_deferred_too_with_MLflows_reason()
    {
        await using var server = await FakeMlflowServer.StartAsync();
        using var client = Samples.Client(server.BaseUri);
        server.FailNext(403, "application/json", """{"error_code":"PERMISSION_DENIED","message":"Permission denied"}""");
        var output = await new MlflowLogger(client, _store).RunAsync(Samples.Training());
        Assert.Equal(MlflowLoggerStatus.Deferred, output.Status);
        Assert.Contains("PERMISSION_DENIED", output.Reason);
    }

    [Fact]
    public async Task A_curves_file_the_role_may_not_read_defers_the_payload_to_the_outbox_with_a_named_reason()
    {
        await using var server = await FakeMlflowServer.StartAsync();
        using var client = Samples.Client(server.BaseUri);
        // What S3ObjectStore raises when S3 answers 403 for the artifacts bucket.
        var store = new DenyingStore(_store, "artifacts");
        var output = await new MlflowLogger(client, store).RunAsync(Samples.Training(curvesUri: "s3://artifacts/runs/exec/models/"));

        Assert.Equal(MlflowLoggerStatus.Deferred, output.Status);
        Assert.StartsWith("StorageAccessDenied: Access denied to s3://artifacts/runs/exec/models/", output.Reason);
        var entries = await MlflowOutbox.ReadAllAsync(_store, MlflowOutbox.Prefix(Samples.Run()));
        Assert.Equal(MlflowLoggerAction.Training, Assert.Single(entries).Entry.Input.Action);
    }

    private sealed class DenyingStore(IObjectStore inner, string deniedBucket) : IObjectStore
    {
        public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, CancellationToken ct = default) => inner.ListAsync(bucket, prefix, ct);

        public Task<Stream?> OpenReadAsync(S3Uri location, CancellationToken ct = default) =>
            location.Bucket == deniedBucket ? throw new StorageAccessDenied(location.ToString(), "S3 AccessDenied: Access Denied") : inner.OpenReadAsync(location, ct);

        public Task<StoredObject> PutAsync(S3Uri location, Stream content, string contentType, CancellationToken ct = default) =>
            inner.PutAsync(location, content, contentType, ct);

        public Task<StoredObject> CopyAsync(string sourceBucket, StoredObject source, S3Uri target, CancellationToken ct = default) =>
            inner.CopyAsync(sourceBucket, source, target, ct);
    }

    [Fact]
    public async Task Input_that_breaks_the_contract_fails_the_stage_instead_of_deferring()
    {
        using var client = DeadClient();
        await Assert.ThrowsAsync<InvalidStageInput>(() => new MlflowLogger(client, _store).RunAsync(new MlflowLoggerInput(MlflowLoggerAction.Promotion, Samples.Run())));
        Assert.Empty(await _store.ListAsync("work", ""));
    }

    [Fact]
    public async Task Replay_pushes_the_outbox_in_order_and_replaying_again_changes_nothing()
    {
        var run = Samples.Run();
        var deferred = new MlflowLogger(null, _store);
        // Written out of order on purpose: replay must still log training first.
        await deferred.RunAsync(new MlflowLoggerInput(MlflowLoggerAction.Promotion, run, Promotion: new PromotionRequest("s3://artifacts/m.tar.gz")));
        await deferred.RunAsync(new MlflowLoggerInput(MlflowLoggerAction.Evaluation, run, Evaluation: new EvaluationResult("promote")));
        await deferred.RunAsync(Samples.Training(run));

        await using var server = await FakeMlflowServer.StartAsync();
        using var client = Samples.Client(server.BaseUri);
        var entries = (await MlflowOutbox.ReadAllAsync(_store, new S3Uri("work", "runs/"))).Select(e => (e.Location.ToString(), e.Entry));
        await Samples.PutModelAsync(_store, "s3://artifacts/m.tar.gz");
        var results = await MlflowReplay.ReplayAsync(client, (_, _) => _store, entries);

        Assert.Equal([MlflowLoggerAction.Training, MlflowLoggerAction.Evaluation, MlflowLoggerAction.Promotion], results.Select(r => r.Entry.Input.Action));
        Assert.All(results, r => Assert.Equal(MlflowLoggerStatus.Logged, r.Output.Status));
        Assert.Equal(4, server.Runs.Count);
        Assert.Equal("1", server.Models["retail-weekly-sales"].Aliases["champion"]);

        await MlflowReplay.ReplayAsync(client, (_, _) => _store, entries);
        Assert.Equal(4, server.Runs.Count);
        Assert.Single(server.Models["retail-weekly-sales"].Versions);
    }

    [Fact]
    public async Task Secrets_never_reach_the_outbox_the_output_or_the_log()
    {
        var log = new StringWriter();
        using var client = DeadClient(new BasicAuthentication("svc", "hunter2-secret"));
        var output = await new MlflowLogger(client, _store, new StructuredLog("MlflowLoggerFunction", log)).RunAsync(Samples.Training());

        var outbox = await _store.ListAsync("work", "");
        await using var stream = await _store.OpenReadAsync(new S3Uri("work", Assert.Single(outbox).Key));
        var text = await new StreamReader(stream!).ReadToEndAsync();
        Assert.DoesNotContain("hunter2", text);
        Assert.DoesNotContain("hunter2", JsonSerializer.Serialize(output, MlflowJsonContext.Default.MlflowLoggerOutput));
        Assert.Contains("mlflow logging deferred", log.ToString());
        Assert.DoesNotContain("hunter2", log.ToString());
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("svc:hunter2-secret")), log.ToString() + text);
    }

    [Fact]
    public void The_input_contract_reads_SageMakers_PascalCase_shapes_and_keeps_unknown_fields()
    {
        var run = JsonSerializer.SerializeToNode(Samples.Run(), MlflowJsonContext.Default.RunRequest)!;
        var json = new JsonObject
        {
            ["action"] = "training",
            ["run"] = run,
            ["somethingNew"] = 42,
            ["training"] = JsonNode.Parse("""
            {
              "tuningJob": {"HyperParameterTuningJobName": "tune-x", "HyperParameterTuningJobArn": "arn:t", "CreationTime": 1764223800.5,
                            "HyperParameterTuningEndTime": "2026-11-27T06:30:00Z", "Unrelated": {"a": 1}},
              "trainingJobs": [{"TrainingJobName": "j1", "TunedHyperParameters": {"eta": "0.2"},
                                "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": "validation:rmse", "Value": 12.5},
                                "TrainingStartTime": 1764223800000, "TrainingJobStatus": "Completed"}],
              "bestTrainingJob": {"TrainingJobName": "j1", "HyperParameters": {"eta": "0.2"}, "ModelArtifacts": {"S3ModelArtifacts": "s3://a/m.tar.gz"}}
            }
            """),
        };
        var input = json.Deserialize(MlflowJsonContext.Default.MlflowLoggerInput)!;

        Assert.Equal("tune-x", input.Training!.TuningJob!.HyperParameterTuningJobName);
        Assert.Equal(new DateTimeOffset(2025, 11, 27, 6, 10, 0, 500, TimeSpan.Zero), input.Training.TuningJob.CreationTime);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 6, 30, 0, TimeSpan.Zero), input.Training.TuningJob.HyperParameterTuningEndTime);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1764223800000), input.Training.TrainingJobs![0].TrainingStartTime);
        Assert.Equal(12.5, input.Training.TrainingJobs[0].FinalHyperParameterTuningJobObjectiveMetric!.Value);
        Assert.Equal("s3://a/m.tar.gz", input.Training.BestTrainingJob!.ModelArtifacts!.S3ModelArtifacts);

        var written = JsonSerializer.SerializeToNode(input, MlflowJsonContext.Default.MlflowLoggerInput)!;
        Assert.Equal(42, written["somethingNew"]!.GetValue<int>());
        Assert.Equal("tune-x", written["training"]!["tuningJob"]!["HyperParameterTuningJobName"]!.GetValue<string>());
        Assert.Equal("training", written["action"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_output_contract_is_camelCase_with_status_as_a_word_and_nulls_omitted()
    {
        var output = await new MlflowLogger(null, _store).RunAsync(Samples.Training());
        var json = JsonNode.Parse(JsonSerializer.Serialize(output, MlflowJsonContext.Default.MlflowLoggerOutput))!.AsObject();
        Assert.Equal("deferred", json["status"]!.GetValue<string>());
        Assert.Equal(output.OutboxUri, json["outboxUri"]!.GetValue<string>());
        Assert.Equal(["status", "outboxUri", "reason"], json.Select(p => p.Key));
    }
}
