using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Functions;
using MlOps.Serverless.Local.S3;
using MlOps.Serverless.Training.Gate;
using MlOps.Serverless.Training.Json;

namespace MlOps.Serverless.Functions.Tests;

public sealed class EvaluationGateTests : IDisposable
{
    private readonly TempFolder _folder = new();
    private readonly LocalFolderObjectStore _store;

    public EvaluationGateTests() => _store = new LocalFolderObjectStore(_folder.Path);

    public void Dispose() => _folder.Dispose();

    private static JsonObject ResultSet(params (string Column, string? Value)[] cells) => new()
    {
        ["Rows"] = new JsonArray(
            new JsonObject { ["Data"] = new JsonArray(cells.Select(c => (JsonNode)new JsonObject { ["VarCharValue"] = c.Column }).ToArray()) },
            new JsonObject { ["Data"] = new JsonArray(cells.Select(c => (JsonNode)(c.Value is null ? new JsonObject() : new JsonObject { ["VarCharValue"] = c.Value })).ToArray()) }),
        ["ResultSetMetadata"] = new JsonObject { ["ColumnInfo"] = new JsonArray() },
    };

    private const string FeatureSetVersion = "fs-0123456789ab";

    private static JsonObject Input(JsonObject evaluation, JsonObject champion, string runId = "run-1") => new()
    {
        ["featureSetVersion"] = FeatureSetVersion,
        ["run"] = JsonSerializer.SerializeToNode(TestData.Run(new GateSettings { MaxWmaeRatioToNaive = 0.8 }, runId), Core.Json.CoreJsonContext.Default.RunRequest),
        ["evaluation"] = evaluation,
        ["champion"] = champion,
        ["training"] = new JsonObject { ["bestTrainingJobName"] = "tune-run-1-003-abcdef12", ["modelArtifactUri"] = "s3://artifacts/runs/run-1/models/tune-run-1-003-abcdef12/output/model.tar.gz" },
        ["mlflow"] = new JsonObject { ["status"] = "logged", ["experimentId"] = "1", ["parentRunId"] = "mlflow-123" },
    };

    private static readonly (string, string?)[] GoodMetrics =
        [("wmae", "1400.5"), ("rmse", "3000"), ("mae", "1300"), ("naive_wmae", "1851"), ("naive_rmse", "4000"), ("naive_mae", "1700"), ("rows", "85000")];

    private async Task<JsonNode> HandleAsync(JsonObject input)
    {
        var function = new EvaluationGateFunction(_store, new StructuredLog("test", TextWriter.Null));
        var output = await function.Handle(new MemoryStream(Encoding.UTF8.GetBytes(input.ToJsonString())));
        return JsonNode.Parse(output)!;
    }

    [Fact]
    public async Task Lambda_promotes_without_champion_and_returns_camel_case_decision_with_registry_metadata()
    {
        var output = await HandleAsync(Input(ResultSet(GoodMetrics), new JsonObject { ["found"] = false }));

        Assert.Equal("promote", output["decision"]!.GetValue<string>());
        Assert.Equal(1400.5, output["challenger"]!["wmae"]!.GetValue<double>());
        Assert.Equal(85000, output["challenger"]!["rows"]!.GetValue<long>());
        Assert.Equal(1851, output["baseline"]!["wmae"]!.GetValue<double>());
        Assert.Null(output["champion"]);
        var properties = output["modelPackageProperties"]!.AsObject();
        Assert.Equal("1400.5", properties["wmae"]!.GetValue<string>());
        Assert.Equal("arn:aws:states:local:000000000000:execution:mlops-retraining:run-1", properties["executionArn"]!.GetValue<string>());
        Assert.Equal("run-1", properties["runId"]!.GetValue<string>());
        Assert.Equal("fingerprint-abc", properties["dataFingerprint"]!.GetValue<string>());
        Assert.Equal("tune-run-1-003-abcdef12", properties["trainingJobName"]!.GetValue<string>());
        Assert.Equal("mlflow-123", properties["mlflowRunId"]!.GetValue<string>());
        Assert.All(properties, p => Assert.Equal(JsonValueKind.String, p.Value!.GetValueKind()));
        Assert.Equal("s3://work/runs/run-1/evaluation/evaluation.json", output["evaluationReportUri"]!.GetValue<string>());
        Assert.Contains("1,400.5", output["summary"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_is_written_in_model_metrics_statistics_style()
    {
        await HandleAsync(Input(ResultSet(GoodMetrics), new JsonObject { ["found"] = false }));

        var report = JsonNode.Parse(await TestData.ReadAsync(_store, "s3://work/runs/run-1/evaluation/evaluation.json"))!;
        Assert.Equal(1400.5, report["regression_metrics"]!["wmae"]!["value"]!.GetValue<double>());
        Assert.Equal(1851, report["naive_baseline_metrics"]!["wmae"]!["value"]!.GetValue<double>());
        Assert.Equal("promote", report["decision"]!.GetValue<string>());
    }

    /// <summary>The champion as DescribeChampion and PredictChampionTestPeriod leave it at <c>$.champion</c>.</summary>
    private static JsonObject ScoredChampion(string storedWmae) => new()
    {
        ["found"] = true,
        ["modelPackageArn"] = "arn:aws:sagemaker:local:000000000000:model-package/retail/4",
        ["package"] = new JsonObject
        {
            ["ModelPackageArn"] = "arn:aws:sagemaker:local:000000000000:model-package/retail/4",
            ["CreationTime"] = "2026-11-20T06:00:00.000Z",
            ["CustomerMetadataProperties"] = new JsonObject { ["wmae"] = storedWmae, ["featureSetVersion"] = FeatureSetVersion },
            ["InferenceSpecification"] = new JsonObject
            {
                ["Containers"] = new JsonArray(new JsonObject { ["Image"] = "xgboost:1.7-1", ["ModelDataUrl"] = "s3://artifacts/runs/old/models/m/output/model.tar.gz" }),
            },
        },
        ["scoring"] = new JsonObject { ["status"] = "scored", ["transformJobName"] = "eval-champion-run-1" },
    };

    private static readonly (string, string?)[] ChampionSameRows = [("champion_wmae", "1300"), ("champion_rmse", "2900"), ("champion_mae", "1250"), ("champion_rows", "85000")];

    [Fact]
    public async Task Lambda_rejects_when_the_champion_is_better_on_the_same_rows_and_quotes_the_three_numbers()
    {
        var output = await HandleAsync(Input(ResultSet([.. GoodMetrics, .. ChampionSameRows]), ScoredChampion(storedWmae: "2000")));

        Assert.Equal("reject", output["decision"]!.GetValue<string>());
        Assert.Equal(1300, output["champion"]!["wmae"]!.GetValue<double>());
        Assert.Equal(85000, output["champion"]!["rows"]!.GetValue<long>());
        Assert.Equal(2000, output["champion"]!["storedWmae"]!.GetValue<double>());
        Assert.Contains(output["reasons"]!.AsArray(), r => r!.GetValue<string>().Contains("WMAE 1,400.5 is not below 1,300", StringComparison.Ordinal));
        Assert.Equal("reject: WMAE on the same 85,000 test rows: challenger 1,400.5 vs champion 1,300 vs naive 1,851 " +
                     "(the champion's stored WMAE on its own test weeks: 2,000)", output["summary"]!.GetValue<string>());
    }

    [Fact]
    public async Task Every_package_records_the_feature_set_it_was_trained_on()
    {
        var output = await HandleAsync(Input(ResultSet(GoodMetrics), new JsonObject { ["found"] = false }));

        Assert.Equal(FeatureSetVersion, output["modelPackageProperties"]!["featureSetVersion"]!.GetValue<string>());
    }

    [Fact]
    public async Task Evaluation_report_holds_the_champion_on_the_same_rows_beside_its_stored_figure()
    {
        await HandleAsync(Input(ResultSet([.. GoodMetrics, .. ChampionSameRows]), ScoredChampion(storedWmae: "2000")));

        var report = JsonNode.Parse(await TestData.ReadAsync(_store, "s3://work/runs/run-1/evaluation/evaluation.json"))!;
        Assert.Equal(1300, report["champion"]!["wmae"]!.GetValue<double>());
        Assert.Equal(2000, report["champion"]!["storedWmae"]!.GetValue<double>());
        Assert.True(report["champion"]!["comparable"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_failed_champion_transform_is_not_comparable_and_the_run_goes_on()
    {
        var champion = ScoredChampion(storedWmae: "1");
        champion["scoring"] = new JsonObject
        {
            ["status"] = "failed", ["error"] = "States.TaskFailed",
            ["cause"] = """{"TransformJobStatus":"Failed","FailureReason":"ClientError: model.tar.gz is not a gzip-compressed tar archive"}""",
        };
        var output = await HandleAsync(Input(ResultSet(GoodMetrics), champion));

        Assert.Equal("promote", output["decision"]!.GetValue<string>());
        Assert.False(output["champion"]!["comparable"]!.GetValue<bool>());
        Assert.Contains("champion not comparable (its model could not be scored on this run's test weeks (States.TaskFailed: ClientError: model.tar.gz is not a gzip-compressed tar archive))",
            output["summary"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Null_metric_cells_reject_without_breaking_the_output()
    {
        var metrics = GoodMetrics.Select(m => m.Item1 == "wmae" ? (m.Item1, (string?)null) : m).ToArray();
        var output = await HandleAsync(Input(ResultSet(metrics), new JsonObject { ["found"] = false }));

        Assert.Equal("reject", output["decision"]!.GetValue<string>());
        Assert.Null(output["challenger"]!["wmae"]);
        Assert.False(output["modelPackageProperties"]!.AsObject().ContainsKey("wmae"));
    }

    [Fact]
    public async Task Metadata_values_are_cut_to_sagemaker_limits()
    {
        var longRun = new string('r', 80);
        var input = Input(ResultSet(GoodMetrics), new JsonObject { ["found"] = false }, runId: longRun);
        input["training"]!["modelArtifactUri"] = "s3://artifacts/" + new string('k', 400);
        var output = await HandleAsync(input);

        Assert.All(output["modelPackageProperties"]!.AsObject(), p => Assert.True(p.Value!.GetValue<string>().Length <= 256, p.Key));
    }

    [Fact]
    public async Task Result_set_without_a_metrics_row_is_an_invalid_stage_input()
    {
        var evaluation = new JsonObject { ["Rows"] = new JsonArray(new JsonObject { ["Data"] = new JsonArray() }) };
        await Assert.ThrowsAsync<InvalidStageInput>(() => HandleAsync(Input(evaluation, new JsonObject { ["found"] = false })));
    }

    [Fact]
    public void Gate_contracts_round_trip_through_the_source_generated_context()
    {
        var output = new GateOutput(GateDecision.Reject, ["r"], new MetricSet(1, 2, 3, 4), new MetricSet(5, 6, 7),
            new ChampionSummary("arn", true, null, 8, 9, 10, 4, 11, "fs-1"),
            new Dictionary<string, string> { ["wmae"] = "1" }, "s3://b/k", "s");
        var json = JsonSerializer.Serialize(output, TrainingJsonContext.Default.GateOutput);
        Assert.Contains("\"decision\":\"reject\"", json, StringComparison.Ordinal);
        var back = JsonSerializer.Deserialize(json, TrainingJsonContext.Default.GateOutput)!;
        Assert.Equal(output.Challenger, back.Challenger);
        Assert.Equal(output.Champion, back.Champion);
    }
}
