using System.Text;
using System.Text.Json;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Local.S3;
using MlOps.Serverless.Mlflow.Client;
using MlOps.Serverless.Mlflow.Logging;

namespace MlOps.Serverless.Mlflow.Tests.Logging;

[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xUnit disposes it in IAsyncLifetime.DisposeAsync")]
public sealed class MlflowRunWriterTests : IAsyncLifetime
{
    private FakeMlflowServer _server = null!;
    private readonly TempFolder _folder = new("mlflow-logger-");
    private LocalFolderObjectStore _store = null!;
    public async Task InitializeAsync()
    {
        _server = await FakeMlflowServer.StartAsync();
        _store = new LocalFolderObjectStore(_folder.Path);
    }
    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    private static JsonElement Number(double v) => JsonDocument.Parse(v.ToString(System.Globalization.CultureInfo.InvariantCulture)).RootElement;

    [Fact]
    public async Task Training_logs_one_parent_and_one_child_per_training_job()
    {
        using var client = Samples.Client(_server.BaseUri);
        var input = Samples.Training(jobs: 3);
        var output = await new MlflowRunWriter(client).LogAsync(input);

        Assert.Equal(MlflowLoggerStatus.Logged, output.Status);
        Assert.Equal(3, output.ChildRunIds!.Count);
        var exp = Assert.Single(_server.Experiments.Values, e => e.Name == "retail-weekly-sales");
        Assert.Equal(exp.Id, output.ExperimentId);

        var parent = _server.Runs[output.ParentRunId!];
        Assert.Equal("exec-2026-11-27-a 2026-11-27 06:00Z", parent.Name); // the execution and when it started
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
            Assert.Equal(1000 - i, child.Metrics.Single(m => m.Key == MlflowRunWriter.ObjectiveKey).Value);
            Assert.Equal(i == 3 ? "true" : "false", child.Tags["mlops.best"]);
        }
    }

    [Fact]
    public async Task Logging_the_same_input_twice_creates_nothing_and_changes_nothing()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new MlflowRunWriter(client);
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
        var logger = new MlflowRunWriter(client);
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
        var output = await new MlflowRunWriter(client).LogAsync(input);
        var child = _server.Runs[Assert.Single(output.ChildRunIds!)];
        Assert.Equal("reg:squarederror", child.Params["objective"]);
        Assert.Equal(tuning.BestTrainingJob!.TrainingJobName, child.Name);
        Assert.Contains(child.Metrics, m => m.Key == "train_rmse");
    }

    [Fact]
    public async Task Per_round_curves_are_logged_with_their_step()
    {
        using var folder = new TempFolder("mlflow-tests-");
        var store = new LocalFolderObjectStore(folder.Path);
        var curves = """{"train-rmse":[5,4,3],"validation-rmse":[6,5.5,5.2]}""";
        await store.PutAsync(new S3Uri("work", "runs/exec/curves/tune-a-002-abcd/output/metric-curves.json"), new MemoryStream(Encoding.UTF8.GetBytes(curves)), "application/json");
        using var client = Samples.Client(_server.BaseUri);
        var output = await new MlflowRunWriter(client, store).LogAsync(Samples.Training(jobs: 2, curvesUri: "s3://work/runs/exec/curves/"));

        var withCurves = _server.Runs[output.ChildRunIds![1]];
        Assert.Equal([(0L, 6.0), (1L, 5.5), (2L, 5.2)], withCurves.Metrics.Where(m => m.Key == "validation-rmse").Select(m => (m.Step, m.Value)).ToList());
        Assert.DoesNotContain(_server.Runs[output.ChildRunIds[0]].Metrics, m => m.Key == "train-rmse"); // no file for job 1
    }

    [Fact]
    public async Task Evaluation_puts_metrics_and_the_gate_decision_on_the_parent_run()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new MlflowRunWriter(client);
        var run = Samples.Run();
        var training = await logger.LogAsync(Samples.Training(run));
        var evaluation = new EvaluationResult("promote", ["WMAE 1500 <= 0.9 x naive 1851"],
            new Dictionary<string, JsonElement> { ["wmae"] = Number(1500), ["rmse"] = Number(2100.5), ["rows"] = Number(1000) },
            new Dictionary<string, JsonElement> { ["wmae"] = Number(1851) });
        var output = await logger.LogAsync(new MlflowLoggerInput(MlflowLoggerAction.Evaluation, run, Evaluation: evaluation));

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
        var logger = new MlflowRunWriter(client);
        var run = Samples.Run();
        var training = await logger.LogAsync(Samples.Training(run));
        // The gate's champion summary: same-rows metrics, the stored figure as history, and non-numeric facts.
        var champion = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(
            """{"modelPackageArn":"arn:aws:sagemaker:us-east-1:1:model-package/g/1","comparable":true,"wmae":1450.25,"rmse":2200,"mae":1300,"rows":1000,"storedWmae":1390.5,"featureSetVersion":"fs-0123456789ab"}""")!;
        var evaluation = new EvaluationResult("reject", ["does not beat the champion on the same 1000 test rows"],
            new Dictionary<string, JsonElement> { ["wmae"] = Number(1500), ["rows"] = Number(1000) },
            new Dictionary<string, JsonElement> { ["wmae"] = Number(1851) }, champion);
        await logger.LogAsync(new MlflowLoggerInput(MlflowLoggerAction.Evaluation, run, Evaluation: evaluation));

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
        var e = await Assert.ThrowsAsync<MlflowResourceNotFound>(() => new MlflowRunWriter(client).LogAsync(
            new MlflowLoggerInput(MlflowLoggerAction.Evaluation, Samples.Run(), Evaluation: new EvaluationResult("reject"))));
        Assert.Contains("exec-2026-11-27-a", e.Message);
    }

    [Fact]
    public async Task Promotion_registers_one_version_and_moves_the_champion_alias_idempotently()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new MlflowRunWriter(client, _store);
        var run = Samples.Run();
        var training = await logger.LogAsync(Samples.Training(run));
        await Samples.PutModelAsync(_store, "s3://artifacts/runs/exec/models/best/output/model.tar.gz");
        var promote = new MlflowLoggerInput(MlflowLoggerAction.Promotion, run,
            Promotion: new PromotionRequest("s3://artifacts/runs/exec/models/best/output/model.tar.gz", "arn:aws:sagemaker:us-east-1:123456789012:model-package/retail/3"));

        var first = await logger.LogAsync(promote);
        var second = await logger.LogAsync(promote);

        var model = _server.Models["retail-weekly-sales"];
        var version = Assert.Single(model.Versions);
        Assert.Equal($"{_server.Runs[training.ParentRunId!].ArtifactUri}/model", version.Source);
        Assert.Equal("s3://artifacts/runs/exec/models/best/output/model.tar.gz", version.Tags["sagemaker.model_artifacts"]);
        Assert.Equal(training.ParentRunId, version.RunId);
        Assert.Equal(version.Number, model.Aliases["champion"]);
        Assert.Equal(first.ModelVersion, second.ModelVersion);
        Assert.Equal("1", _server.Runs[training.ParentRunId!].Tags["mlops.model_version"]);
    }

    [Fact]
    public async Task A_later_promotion_moves_the_alias_to_the_new_version()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new MlflowRunWriter(client, _store);
        foreach (var id in new[] { "exec-a", "exec-b" })
        {
            var run = Samples.Run(id);
            await logger.LogAsync(Samples.Training(run));
            await Samples.PutModelAsync(_store, $"s3://artifacts/{id}/model.tar.gz");
            await logger.LogAsync(new MlflowLoggerInput(MlflowLoggerAction.Promotion, run, Promotion: new PromotionRequest($"s3://artifacts/{id}/model.tar.gz")));
        }
        var model = _server.Models["retail-weekly-sales"];
        Assert.Equal(2, model.Versions.Count);
        Assert.Equal("2", model.Aliases["champion"]);
    }

    [Theory]
    [InlineData(MlflowLoggerAction.Training)]
    [InlineData(MlflowLoggerAction.Evaluation)]
    [InlineData(MlflowLoggerAction.Promotion)]
    public void An_action_without_its_section_is_invalid_stage_input(MlflowLoggerAction action)
    {
        var e = Assert.Throws<InvalidStageInput>(() => MlflowRunWriter.Validate(new MlflowLoggerInput(action, Samples.Run())));
        Assert.Contains(MlflowOutbox.ActionName(action), e.Message);
    }

    [Fact]
    public async Task A_run_id_with_a_quote_is_still_found_again()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new MlflowRunWriter(client);
        var run = Samples.Run("o'brien-run");
        var first = await logger.LogAsync(Samples.Training(run));
        var second = await logger.LogAsync(Samples.Training(run));
        Assert.Equal(first.ParentRunId, second.ParentRunId);
        Assert.Equal(4, _server.Runs.Count);
    }

    private async Task PutCurvesAsync(string jobName, int rounds)
    {
        var train = string.Join(",", Enumerable.Range(0, rounds).Select(i => (5 - i * 0.001).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var valid = string.Join(",", Enumerable.Range(0, rounds).Select(i => (6 - i * 0.001).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var json = $$"""{"train:rmse":[{{train}}],"validation:rmse":[{{valid}}]}""";
        await _store.PutAsync(new S3Uri("work", $"runs/exec/curves/{jobName}/output/metric-curves.json"), new MemoryStream(Encoding.UTF8.GetBytes(json)), "application/json");
    }

    [Fact]
    public async Task Logging_children_with_long_curves_again_is_accepted_and_changes_nothing()
    {
        await PutCurvesAsync("tune-a-001-abcd", 300);
        await PutCurvesAsync("tune-a-002-abcd", 150);
        using var client = Samples.Client(_server.BaseUri);
        var logger = new MlflowRunWriter(client, _store);
        var input = Samples.Training(jobs: 2, curvesUri: "s3://work/runs/exec/curves/");
        var first = await logger.LogAsync(input);
        var points = _server.Runs[first.ChildRunIds![0]].Metrics.Count;

        var second = await logger.LogAsync(input); // a Lambda retry after a partial success, or a replay

        Assert.Equal(first.ChildRunIds, second.ChildRunIds);
        Assert.Equal(points, _server.Runs[first.ChildRunIds[0]].Metrics.Count);
        Assert.Equal(600, _server.Runs[first.ChildRunIds[0]].Metrics.Count(m => m.Key is "train_rmse" or "validation_rmse"));
        Assert.All(_server.Requests.Where(r => r.Endpoint == "runs/log-batch"),
            r => Assert.True(System.Text.Json.Nodes.JsonNode.Parse(r.Body)!["metrics"]!.AsArray().Count <= 100));
    }

    [Fact]
    public async Task The_objective_has_its_own_key_and_no_curve_has_two_points_at_one_step()
    {
        await PutCurvesAsync("tune-a-003-abcd", 20);
        using var client = Samples.Client(_server.BaseUri);
        var output = await new MlflowRunWriter(client, _store).LogAsync(Samples.Training(jobs: 3, curvesUri: "s3://work/runs/exec/curves/"));
        var best = _server.Runs[output.ChildRunIds![2]];
        Assert.Equal(997, best.Metrics.Single(m => m.Key == MlflowRunWriter.ObjectiveKey).Value);
        Assert.All(best.Metrics.GroupBy(m => (m.Key, m.Step)), g => Assert.Single(g));
        Assert.Equal(20, best.Metrics.Count(m => m.Key == "validation_rmse"));
    }

    [Fact]
    public async Task Curve_points_have_their_own_timestamps_between_the_jobs_start_and_end()
    {
        await PutCurvesAsync("tune-a-001-abcd", 10);
        using var client = Samples.Client(_server.BaseUri);
        var input = Samples.Training(jobs: 1, curvesUri: "s3://work/runs/exec/curves/");
        var output = await new MlflowRunWriter(client, _store).LogAsync(input);
        var job = input.Training!.TrainingJobs![0];
        var stamps = _server.Runs[output.ChildRunIds![0]].Metrics.Where(m => m.Key == "validation_rmse").OrderBy(m => m.Step).Select(m => m.Timestamp).ToList();
        Assert.Equal(10, stamps.Distinct().Count());
        Assert.True(stamps.SequenceEqual(stamps.Order()));
        Assert.True(stamps[0] > job.TrainingStartTime!.Value.ToUnixTimeMilliseconds());
        Assert.Equal(job.TrainingEndTime!.Value.ToUnixTimeMilliseconds(), stamps[^1]);
    }

    [Fact]
    public async Task Curves_without_a_store_to_read_them_from_fail_instead_of_vanishing()
    {
        using var client = Samples.Client(_server.BaseUri);
        var e = await Assert.ThrowsAsync<InvalidStageInput>(() => new MlflowRunWriter(client).LogAsync(Samples.Training(jobs: 1, curvesUri: "s3://work/runs/exec/curves/")));
        Assert.Contains("--s3-root", e.Message);
    }

    [Fact]
    public async Task A_reused_execution_name_makes_a_new_parent_and_its_evaluation_goes_there()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new MlflowRunWriter(client);
        var first = Samples.Run("nightly");
        var again = first with { RequestedAt = first.RequestedAt.AddDays(1) };
        var a = await logger.LogAsync(Samples.Training(first));
        var b = await logger.LogAsync(Samples.Training(again));
        var evaluation = await logger.LogAsync(new MlflowLoggerInput(MlflowLoggerAction.Evaluation, again,
            Evaluation: new EvaluationResult("promote", Challenger: new Dictionary<string, JsonElement> { ["wmae"] = Number(1500) })));

        Assert.NotEqual(a.ParentRunId, b.ParentRunId);
        Assert.Equal(b.ParentRunId, evaluation.ParentRunId);
        Assert.DoesNotContain(_server.Runs[a.ParentRunId!].Metrics, m => m.Key == "test_wmae");
        Assert.Equal("nightly 2026-11-28 06:00Z", _server.Runs[b.ParentRunId!].Name);
    }

    [Fact]
    public async Task Tuning_settings_from_the_definition_are_logged_as_tuning_params()
    {
        using var client = Samples.Client(_server.BaseUri);
        var training = Samples.Tuning();
        training = training with { TuningJob = training.TuningJob! with { HyperParameterTuningJobConfig = null } }; // the Describe the state machine keeps
        var config = new TuningJobConfig("Bayesian", new TuningObjective("Minimize", "validation:mae"), new TuningResourceLimits(20, 4), "Auto",
            new TuningParameterRanges([new("max_depth", "5", "15", "Auto")], [new("eta", "0.01", "0.5", "Logarithmic")]));
        var output = await new MlflowRunWriter(client).LogAsync(new MlflowLoggerInput(MlflowLoggerAction.Training, Samples.Run(), training, TuningJobConfig: config));

        var p = _server.Runs[output.ParentRunId!].Params;
        Assert.Equal("Bayesian", p["tuning.strategy"]);
        Assert.Equal("validation:mae", p["tuning.objective_metric"]);
        Assert.Equal("20", p["tuning.max_jobs"]);
        Assert.Equal("4", p["tuning.max_parallel_jobs"]);
        Assert.Equal("Auto", p["tuning.early_stopping"]);
        Assert.Equal("0.01..0.5 Logarithmic", p["tuning.range.eta"]);
        Assert.Equal("5..15 Auto", p["tuning.range.max_depth"]);
    }

    private async Task<MlflowLoggerOutput> PromoteAsync(MlflowRunWriter logger, RunRequest run, DateTimeOffset promotedAt)
    {
        await logger.LogAsync(Samples.Training(run));
        var uri = $"s3://artifacts/{run.RunId}/model.tar.gz";
        await Samples.PutModelAsync(_store, uri);
        return await logger.LogAsync(new MlflowLoggerInput(MlflowLoggerAction.Promotion, run, Promotion: new PromotionRequest(uri, PromotedAt: promotedAt)));
    }

    [Fact]
    public async Task An_older_promotion_logged_late_does_not_move_the_champion_back()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new MlflowRunWriter(client, _store);
        var t = new DateTimeOffset(2026, 11, 28, 7, 0, 0, TimeSpan.Zero);
        var newer = await PromoteAsync(logger, Samples.Run("exec-new"), t);
        var older = await PromoteAsync(logger, Samples.Run("exec-old"), t.AddHours(-1)); // its outbox replayed late

        var model = _server.Models["retail-weekly-sales"];
        Assert.Equal(newer.ModelVersion, model.Aliases["champion"]);
        Assert.Equal(newer.ModelVersion, older.ChampionVersion);
        Assert.Equal("2026-11-28T06:00:00.000Z", model.Versions.Single(v => v.Number == older.ModelVersion).Tags["mlops.promoted_at"]);
    }

    [Fact]
    public async Task Replay_applies_runs_in_promotion_order_and_the_alias_ends_on_the_newest_promotion()
    {
        var deferred = new MlflowLogger(null, _store);
        var t = new DateTimeOffset(2026, 11, 28, 7, 0, 0, TimeSpan.Zero);
        // "exec-a" sorts first by name but was promoted last.
        foreach (var (id, at) in new[] { ("exec-a", t.AddHours(2)), ("exec-b", t) })
        {
            var run = Samples.Run(id);
            var uri = $"s3://artifacts/{id}/model.tar.gz";
            await Samples.PutModelAsync(_store, uri);
            await deferred.RunAsync(Samples.Training(run));
            await deferred.RunAsync(new MlflowLoggerInput(MlflowLoggerAction.Promotion, run, Promotion: new PromotionRequest(uri, PromotedAt: at)));
        }
        using var client = Samples.Client(_server.BaseUri);
        var entries = (await MlflowOutbox.ReadAllAsync(_store, new S3Uri("work", "runs/"))).Select(e => (e.Location.ToString(), e.Entry)).ToList();
        var results = await MlflowReplay.ReplayAsync(client, (_, _) => _store, entries);

        Assert.Equal(["exec-b", "exec-b", "exec-a", "exec-a"], results.Select(r => r.Entry.Input.Run.RunId));
        var model = _server.Models["retail-weekly-sales"];
        Assert.Equal("s3://artifacts/exec-a/model.tar.gz", model.Versions.Single(v => v.Number == model.Aliases["champion"]).Tags["sagemaker.model_artifacts"]);

        await MlflowReplay.ReplayAsync(client, (_, _) => _store, entries); // again: nothing moves
        Assert.Equal(2, model.Versions.Count);
        Assert.Equal("2", model.Aliases["champion"]);
    }

    [Fact]
    public async Task The_champion_is_an_MLflow_xgboost_model_logged_on_the_parent_through_the_artifact_proxy()
    {
        using var client = Samples.Client(_server.BaseUri);
        var logger = new MlflowRunWriter(client, _store);
        var run = Samples.Run();
        var output = await PromoteAsync(logger, run, DateTimeOffset.UnixEpoch);

        var parent = _server.Runs[output.ParentRunId!];
        var prefix = $"{parent.ExperimentId}/{parent.Id}/artifacts/model/";
        Assert.Equal(["MLmodel", "conda.yaml", "model.xgb", "python_env.yaml", "requirements.txt"],
            _server.Artifacts.Keys.Where(k => k.StartsWith(prefix)).Select(k => k[prefix.Length..]).Order(StringComparer.Ordinal));
        var mlmodel = Encoding.UTF8.GetString(_server.Artifacts[prefix + "MLmodel"]);
        Assert.Contains("  xgboost:\n    code: null\n    data: model.xgb\n    model_class: xgboost.core.Booster", mlmodel);
        Assert.Contains("loader_module: mlflow.xgboost", mlmodel);
        Assert.Contains($"run_id: {parent.Id}", mlmodel);
        Assert.Equal("binary xgboost model", Encoding.UTF8.GetString(_server.Artifacts[prefix + "model.xgb"]));
        Assert.Contains("xgboost==1.7.4", Encoding.UTF8.GetString(_server.Artifacts[prefix + "requirements.txt"]));

        var version = _server.Models["retail-weekly-sales"].Versions.Single();
        Assert.Equal($"mlflow-artifacts:/{parent.ExperimentId}/{parent.Id}/artifacts/model", version.Source);
        Assert.Equal($"s3://artifacts/{run.RunId}/model.tar.gz", version.Tags["sagemaker.model_artifacts"]);
        Assert.Contains("Weekly_Sales / scale", _server.Models["retail-weekly-sales"].Description);
    }

    [Fact]
    public async Task With_S3_artifact_storage_the_model_is_written_straight_into_the_runs_artifact_location()
    {
        _server.ServeArtifacts = false;
        _server.ArtifactRoot = "s3://mlflow-artifacts-bucket/tracking";
        using var client = Samples.Client(_server.BaseUri);
        var output = await PromoteAsync(new MlflowRunWriter(client, _store), Samples.Run(), DateTimeOffset.UnixEpoch);

        var parent = _server.Runs[output.ParentRunId!];
        await using var mlmodel = await _store.OpenReadAsync(S3Uri.Parse($"{parent.ArtifactUri}/model/MLmodel"));
        Assert.NotNull(mlmodel);
        Assert.Empty(_server.Artifacts);
        Assert.Equal($"{parent.ArtifactUri}/model", _server.Models["retail-weekly-sales"].Versions.Single().Source);
    }

    [Fact]
    public async Task Runs_carry_what_MLflow_users_expect()
    {
        using var client = Samples.Client(_server.BaseUri);
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero));
        var logger = new MlflowRunWriter(client, _store, clock);
        var run = Samples.Run() with { Data = Samples.Run().Data with { Fingerprint = new string('f', 64) } };
        var output = await PromoteAsync(logger, run, DateTimeOffset.UnixEpoch);

        var parent = _server.Runs[output.ParentRunId!];
        Assert.Equal("retraining", parent.Tags["mlflow.user"]);
        Assert.Equal("JOB", parent.Tags["mlflow.source.type"]);
        Assert.Equal("arn:aws:states:us-east-1:123456789012:stateMachine:retraining", parent.Tags["mlflow.source.name"]);
        Assert.Contains(run.ExecutionArn, parent.Tags["mlflow.note.content"]);
        var input = Assert.Single(parent.Inputs);
        Assert.Equal(new string('f', 36), input.Digest);
        Assert.Contains(new string('f', 64), input.Source);
        Assert.Equal("training", input.Tags["mlflow.data.context"]);
        Assert.All(output.ChildRunIds ?? [], id => Assert.Single(_server.Runs[id].Inputs));
        Assert.Contains("one parent run per retraining execution", _server.Experiments.Values.Single(e => e.Name == "retail-weekly-sales").Tags["mlflow.note.content"]);
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds(), parent.EndTime); // ends after its promotion was logged
    }

    [Fact]
    public async Task A_replay_error_names_the_outbox_file()
    {
        using var client = Samples.Client(_server.BaseUri);
        var entry = new OutboxEntry(1, DateTimeOffset.UnixEpoch, "down", new MlflowLoggerInput(MlflowLoggerAction.Evaluation, Samples.Run(), Evaluation: new EvaluationResult("promote")));
        var e = await Assert.ThrowsAsync<MlflowReplayFailed>(() => MlflowReplay.ReplayAsync(client, (_, _) => null, [("out/s3/work/runs/x/mlflow-outbox/evaluation.json", entry)]));
        Assert.StartsWith("Replaying out/s3/work/runs/x/mlflow-outbox/evaluation.json failed: MlflowResourceNotFound", e.Message);
    }

    [Fact]
    public void A_local_outbox_file_finds_the_folder_that_stands_for_S3()
    {
        var run = Samples.Run();
        var entry = new OutboxEntry(1, DateTimeOffset.UnixEpoch, "down", Samples.Training(run));
        var file = Path.Combine(_folder.Path, "s3", "work", "runs", run.RunId, "mlflow-outbox", "training.json");
        Assert.Equal(Path.GetFullPath(Path.Combine(_folder.Path, "s3")), MlflowOutbox.LocalRootOf(file, entry));
        Assert.Null(MlflowOutbox.LocalRootOf(Path.Combine(_folder.Path, "elsewhere", "training.json"), entry));
    }
}
