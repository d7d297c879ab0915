using System.Text;
using System.Text.Json;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.MlFlow.Logging;

namespace MlOps.Serverless.MlFlow.Tests;

public sealed class TrainingRunLoggerTests : IAsyncLifetime
{
    private FakeMlflowServer _server = null!;
    public async Task InitializeAsync() => _server = await FakeMlflowServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static JsonElement Number(double v) => JsonDocument.Parse(v.ToString(System.Globalization.CultureInfo.InvariantCulture)).RootElement;

    [Fact]
    public async Task Training_logs_one_parent_and_one_child_per_training_job()
    {
        using var client = Samples.Client(_server.BaseUri);
        var input = Samples.Training(jobs: 3);
        var output = await new TrainingRunLogger(client).LogAsync(input);

        Assert.Equal(MlflowLoggingStatus.Logged, output.Status);
        Assert.Equal(3, output.ChildRunIds!.Count);
        var exp = Assert.Single(_server.Experiments.Values, e => e.Name == "retail-weekly-sales");
        Assert.Equal(exp.Id, output.ExperimentId);

        var parent = _server.Runs[output.ParentRunId!];
        Assert.Equal("tune-a", parent.Name);
        Assert.Equal("FINISHED", parent.Status);
        Assert.Equal(input.Run.ExecutionArn, parent.Tags["mlops.execution_arn"]);
        Assert.Equal("f1ngerpr1nt", parent.Tags["mlops.data.fingerprint"]);
        Assert.Equal("incoming/2026-11-27/features/features.csv", parent.Tags["mlops.data.objects.1.key"]);
        Assert.Equal("\"bbb222\"", parent.Tags["mlops.data.objects.1.etag"]);
        Assert.Equal("v2", parent.Tags["mlops.data.objects.1.version_id"]);
        Assert.Equal("manual", parent.Tags["mlops.trigger"]);
        Assert.Equal("arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/tune-a", parent.Tags["sagemaker.tuning_job_arn"]);
        Assert.Equal(64, parent.Tags["mlops.config.sha256"].Length);
        Assert.Equal("Bayesian", parent.Params["tuning.strategy"]);
        Assert.Equal("reg:squarederror", parent.Params["objective"]);
        Assert.Contains(parent.Metrics, m => m.Key == "best_objective" && m.Value == 997);
        Assert.Contains(parent.Metrics, m => m.Key == "validation_rmse" && m.Value == 997);

        foreach (var (childId, i) in output.ChildRunIds.Select((id, i) => (id, i + 1)))
        {
            var child = _server.Runs[childId];
            Assert.Equal(output.ParentRunId, child.Tags["mlflow.parentRunId"]);
            Assert.Equal($"tune-a-{i:000}-abcd", child.Tags["mlflow.runName"]);
            Assert.Equal($"arn:aws:sagemaker:us-east-1:123456789012:training-job/tune-a-{i:000}-abcd", child.Tags["sagemaker.training_job_arn"]);
            Assert.Equal((4 + i).ToString(), child.Params["max_depth"]);
            Assert.Equal(1000 - i, child.Metrics.Single(m => m.Key == "validation_rmse").Value);
            Assert.Equal(i == 3 ? "true" : "false", child.Tags["mlops.best"]);
        }
    }

    [Fact]
    public async Task Logging_the_same_input_twice_creates_nothing_and_changes_nothing()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new TrainingRunLogger(client);
        var first = await logger.LogAsync(Samples.Training(jobs: 4));
        Snapshot before = new(_server);
        var creates = _server.CountOf("runs/create");

        var second = await logger.LogAsync(Samples.Training(jobs: 4));

        Assert.Equal(first.ParentRunId, second.ParentRunId);
        Assert.Equal(first.ChildRunIds, second.ChildRunIds);
        Assert.Equal(creates, _server.CountOf("runs/create"));
        Assert.Equal(before, new Snapshot(_server));
    }

    /// <summary>Everything observable about the server's runs, for before/after comparison.</summary>
    private sealed record Snapshot(int Runs, int Experiments, string Content)
    {
        public Snapshot(FakeMlflowServer s) : this(s.Runs.Count, s.Experiments.Count, string.Join("|", s.Runs.Values.OrderBy(r => r.Id).Select(r =>
            $"{r.Id}:{r.Status}:{r.EndTime}:{string.Join(",", r.Params.OrderBy(p => p.Key).Select(p => p.Key + "=" + p.Value))}:" +
            $"{string.Join(",", r.Tags.OrderBy(p => p.Key).Select(p => p.Key + "=" + p.Value))}:{r.Metrics.Count}")))
        { }
    }

    [Fact]
    public async Task A_second_execution_gets_its_own_runs_in_the_same_experiment()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new TrainingRunLogger(client);
        var a = await logger.LogAsync(Samples.Training(Samples.Run("exec-a")));
        var b = await logger.LogAsync(Samples.Training(Samples.Run("exec-b")));
        Assert.NotEqual(a.ParentRunId, b.ParentRunId);
        Assert.Equal(a.ExperimentId, b.ExperimentId);
        Assert.Equal(8, _server.Runs.Count);
    }

    [Fact]
    public async Task A_single_training_job_is_a_parent_with_one_child()
    {
        using var client = Samples.Client(_server.BaseUri);
        var tuning = Samples.Tuning(1);
        var input = Samples.Training() with { Training = new TrainingResult(null, null, tuning.BestTrainingJob) };
        var output = await new TrainingRunLogger(client).LogAsync(input);
        var child = _server.Runs[Assert.Single(output.ChildRunIds!)];
        Assert.Equal("reg:squarederror", child.Params["objective"]);
        Assert.Equal(_server.Runs[output.ParentRunId!].Name, child.Name);
        Assert.Contains(child.Metrics, m => m.Key == "train_rmse");
    }

    [Fact]
    public async Task Per_round_curves_are_logged_with_their_step()
    {
        using var folder = new TempFolder("mlflow-tests-");
        var store = new LocalFolderObjectStore(folder.Path);
        var curves = """{"train-rmse":[5,4,3],"validation-rmse":[6,5.5,5.2]}""";
        await store.PutAsync(new S3Location("work", "runs/exec/curves/tune-a-002-abcd/output/metric-curves.json"), new MemoryStream(Encoding.UTF8.GetBytes(curves)), "application/json");
        using var client = Samples.Client(_server.BaseUri);
        var output = await new TrainingRunLogger(client, store).LogAsync(Samples.Training(jobs: 2, curvesUri: "s3://work/runs/exec/curves/"));

        var withCurves = _server.Runs[output.ChildRunIds![1]];
        Assert.Equal([(0L, 6.0), (1L, 5.5), (2L, 5.2)], withCurves.Metrics.Where(m => m.Key == "validation-rmse").Select(m => (m.Step, m.Value)).ToList());
        Assert.DoesNotContain(_server.Runs[output.ChildRunIds[0]].Metrics, m => m.Key == "train-rmse"); // no file for job 1
    }

    [Fact]
    public async Task Evaluation_puts_metrics_and_the_gate_decision_on_the_parent_run()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new TrainingRunLogger(client);
        var run = Samples.Run();
        var training = await logger.LogAsync(Samples.Training(run));
        var evaluation = new EvaluationResult("promote", ["WMAE 1500 <= 0.9 x naive 1851"],
            new Dictionary<string, JsonElement> { ["wmae"] = Number(1500), ["rmse"] = Number(2100.5), ["rows"] = Number(1000) },
            new Dictionary<string, JsonElement> { ["wmae"] = Number(1851) });
        var output = await logger.LogAsync(new MlflowLoggingInput(MlflowLoggingAction.Evaluation, run, Evaluation: evaluation));

        Assert.Equal(training.ParentRunId, output.ParentRunId);
        var parent = _server.Runs[training.ParentRunId!];
        Assert.Contains(parent.Metrics, m => m.Key == "test_wmae" && m.Value == 1500);
        Assert.Contains(parent.Metrics, m => m.Key == "baseline_wmae" && m.Value == 1851);
        Assert.Equal("promote", parent.Tags["mlops.gate.decision"]);
        Assert.Contains("1851", parent.Tags["mlops.gate.reasons"]);
    }

    [Fact]
    public async Task Evaluation_logs_challenger_champion_and_naive_on_the_same_rows_with_the_row_counts()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new TrainingRunLogger(client);
        var run = Samples.Run();
        var training = await logger.LogAsync(Samples.Training(run));
        // The gate's champion summary: same-rows metrics, the stored figure as history, and non-numeric facts.
        var champion = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(
            """{"modelPackageArn":"arn:aws:sagemaker:us-east-1:1:model-package/g/1","comparable":true,"wmae":1450.25,"rmse":2200,"mae":1300,"rows":1000,"storedWmae":1390.5,"featureSetVersion":"fs-0123456789ab"}""")!;
        var evaluation = new EvaluationResult("reject", ["does not beat the champion on the same 1000 test rows"],
            new Dictionary<string, JsonElement> { ["wmae"] = Number(1500), ["rows"] = Number(1000) },
            new Dictionary<string, JsonElement> { ["wmae"] = Number(1851) }, champion);
        await logger.LogAsync(new MlflowLoggingInput(MlflowLoggingAction.Evaluation, run, Evaluation: evaluation));

        var metrics = _server.Runs[training.ParentRunId!].Metrics;
        Assert.Contains(metrics, m => m.Key == "test_wmae" && m.Value == 1500);
        Assert.Contains(metrics, m => m.Key == "test_rows" && m.Value == 1000);
        Assert.Contains(metrics, m => m.Key == "champion_wmae" && m.Value == 1450.25);
        Assert.Contains(metrics, m => m.Key == "champion_rows" && m.Value == 1000);
        Assert.Contains(metrics, m => m.Key == "champion_storedWmae" && m.Value == 1390.5);
        Assert.Contains(metrics, m => m.Key == "baseline_wmae" && m.Value == 1851);
        Assert.DoesNotContain(metrics, m => m.Key is "champion_comparable" or "champion_featureSetVersion");
    }

    [Fact]
    public async Task Evaluation_without_a_logged_training_is_resource_not_found()
    {
        using var client = Samples.Client(_server.BaseUri);
        var e = await Assert.ThrowsAsync<Client.MlflowResourceNotFound>(() => new TrainingRunLogger(client).LogAsync(
            new MlflowLoggingInput(MlflowLoggingAction.Evaluation, Samples.Run(), Evaluation: new EvaluationResult("reject"))));
        Assert.Contains("exec-2026-11-27-a", e.Message);
    }

    [Fact]
    public async Task Promotion_registers_one_version_and_moves_the_champion_alias_idempotently()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new TrainingRunLogger(client);
        var run = Samples.Run();
        var training = await logger.LogAsync(Samples.Training(run));
        var promote = new MlflowLoggingInput(MlflowLoggingAction.Promotion, run,
            Promotion: new PromotionRequest("s3://artifacts/runs/exec/models/best/output/model.tar.gz", "arn:aws:sagemaker:us-east-1:123456789012:model-package/retail/3"));

        var first = await logger.LogAsync(promote);
        var second = await logger.LogAsync(promote);

        var model = _server.Models["retail-weekly-sales"];
        var version = Assert.Single(model.Versions);
        Assert.Equal("s3://artifacts/runs/exec/models/best/output/model.tar.gz", version.Source);
        Assert.Equal(training.ParentRunId, version.RunId);
        Assert.Equal(version.Number, model.Aliases["champion"]);
        Assert.Equal(first.ModelVersion, second.ModelVersion);
        Assert.Equal("1", _server.Runs[training.ParentRunId!].Tags["mlops.model_version"]);
    }

    [Fact]
    public async Task A_later_promotion_moves_the_alias_to_the_new_version()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new TrainingRunLogger(client);
        foreach (var id in new[] { "exec-a", "exec-b" })
        {
            var run = Samples.Run(id);
            await logger.LogAsync(Samples.Training(run));
            await logger.LogAsync(new MlflowLoggingInput(MlflowLoggingAction.Promotion, run, Promotion: new PromotionRequest($"s3://artifacts/{id}/model.tar.gz")));
        }
        var model = _server.Models["retail-weekly-sales"];
        Assert.Equal(2, model.Versions.Count);
        Assert.Equal("2", model.Aliases["champion"]);
    }

    [Theory]
    [InlineData(MlflowLoggingAction.Training)]
    [InlineData(MlflowLoggingAction.Evaluation)]
    [InlineData(MlflowLoggingAction.Promotion)]
    public void An_action_without_its_section_is_invalid_stage_input(MlflowLoggingAction action)
    {
        var e = Assert.Throws<InvalidStageInput>(() => TrainingRunLogger.Validate(new MlflowLoggingInput(action, Samples.Run())));
        Assert.Contains(MlflowOutbox.ActionName(action), e.Message);
    }

    [Fact]
    public async Task A_run_id_with_a_quote_is_still_found_again()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new TrainingRunLogger(client);
        var run = Samples.Run("o'brien-run");
        var first = await logger.LogAsync(Samples.Training(run));
        var second = await logger.LogAsync(Samples.Training(run));
        Assert.Equal(first.ParentRunId, second.ParentRunId);
        Assert.Equal(4, _server.Runs.Count);
    }
}
