using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.StateMachines.Tests;

/// <summary>
/// Runs statemachines/retraining.asl.json on aws-local-stepfunctions with every Task state answered by a
/// script, and pins the path each case takes and what the execution ends with.
/// </summary>
public sealed class RetrainingPathTests
{
    private const string BestJob = "tune-test-run-1a2b3c4d-003-0f0e0d0c";
    private static readonly string[] HappyPrefix =
    [
        "PrepareRun", "QualityQuery", "QualityResults", "QualityVerdict", "BuildFeatures", "SplitData",
    ];

    private static async Task<ScriptedTasks> HappyScriptAsync(string decision = "promote", JsonObject? overrides = null)
    {
        var run = await TestRuns.RunRequestAsync(overrides: overrides);
        static string Query(string id) => $$$"""{"QueryExecution":{"QueryExecutionId":"{{{id}}}","Status":{"State":"SUCCEEDED"} } }""";
        var script = new ScriptedTasks()
            .Returns("PrepareRun", _ => ScriptedTasks.LambdaResponse(run))
            .Returns("QualityQuery", Query("q-quality"))
            .Returns("QualityResults", """{"ResultSet":{"Rows":[{"Data":[{"VarCharValue":"check"}]}]}}""")
            .Returns("QualityVerdict", _ => ScriptedTasks.LambdaResponse(JsonNode.Parse(
                """{"passed":true,"summary":"12 checks passed, 1 warning","reportUri":"s3://work/runs/test-run/quality/report.json","hardFailures":[],"warnings":[]}""")))
            .Returns("BuildFeatures", Query("q-features"));
        foreach (var split in new[] { "SplitTrain", "SplitValidation", "SplitTestFeatures", "SplitTestLabels", "SplitForecastFeatures" })
            script.Returns(split, Query("q-" + split));
        var bestJob = $$$"""
            {"TrainingJobName":"{{{BestJob}}}","TrainingJobArn":"arn:aws:sagemaker:us-east-1:123456789012:training-job/{{{BestJob}}}",
             "TrainingJobStatus":"Completed","HyperParameters":{"eta":"0.1","max_depth":"8"},
             "FinalMetricDataList":[{"MetricName":"validation:rmse","Value":2500.5}],
             "ModelArtifacts":{"S3ModelArtifacts":"s3://artifacts/runs/test-run/models/{{{BestJob}}}/output/model.tar.gz"}}
            """;
        return script
            .Returns("TuneHyperparameters", $$$"""
                {"HyperParameterTuningJobName":"tune-test-run-1a2b3c4d","HyperParameterTuningJobArn":"arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/tune-test-run-1a2b3c4d",
                 "HyperParameterTuningJobStatus":"Completed","TrainingJobStatusCounters":{"Completed":20},
                 "BestTrainingJob":{"TrainingJobName":"{{{BestJob}}}","FinalHyperParameterTuningJobObjectiveMetric":{"MetricName":"validation:rmse","Value":2500.5} } }
                """)
            .Returns("TrainSingleModel", bestJob)
            .Returns("ListTrainingJobs", $$$"""{"TrainingJobSummaries":[{"TrainingJobName":"{{{BestJob}}}","TrainingJobStatus":"Completed"}]}""")
            .Returns("DescribeBestTrainingJob", bestJob)
            .Returns("LogTraining", _ => ScriptedTasks.LambdaResponse(JsonNode.Parse("""{"status":"logged","parentRunId":"mlflow-parent"}""")))
            .Returns("CreateModel", """{"ModelArn":"arn:aws:sagemaker:us-east-1:123456789012:model/model-test-run"}""")
            .Returns("PredictTestPeriod", """{"TransformJobStatus":"Completed"}""")
            .Returns("EvaluationQuery", Query("q-evaluation"))
            .Returns("EvaluationResults", """{"ResultSet":{"Rows":[{"Data":[{"VarCharValue":"wmae"}]},{"Data":[{"VarCharValue":"1400.5"}]}]}}""")
            .Returns("FindChampion", """{"ModelPackageSummaryList":[]}""")
            .Returns("DescribeChampion", ChampionPackage())
            .Returns("CreateChampionModel", """{"ModelArn":"arn:aws:sagemaker:us-east-1:123456789012:model/model-champion-test-run"}""")
            .Returns("PredictChampionTestPeriod", """{"TransformJobName":"eval-champion-test-run-1a2b3c4d","TransformJobStatus":"Completed"}""")
            .Returns("EvaluationGate", _ => ScriptedTasks.LambdaResponse(JsonNode.Parse($$$"""
                {"decision":"{{{decision}}}","reasons":["WMAE 1,400.5 <= 0.9 x naive 1,851.0"],"summary":"challenger WMAE 1,400.5 vs naive 1,851.0",
                 "evaluationReportUri":"s3://work/runs/test-run/evaluation/evaluation.json","modelPackageProperties":{"wmae":"1400.5"}}
                """)))
            .Returns("LogEvaluation", _ => ScriptedTasks.LambdaResponse(JsonNode.Parse("""{"status":"logged","parentRunId":"mlflow-parent"}""")))
            .Returns("RegisterModelPackage", """{"ModelPackageArn":"arn:aws:sagemaker:us-east-1:123456789012:model-package/retail/2"}""")
            .Returns("LogPromotion", _ => ScriptedTasks.LambdaResponse(JsonNode.Parse("""{"status":"logged","modelVersion":"2"}""")))
            .Returns("PredictForecastWeeks", """{"TransformJobStatus":"Completed"}""")
            .Returns("ForecastSalesQuery", Query("q-forecast-sales"))
            .Returns("CreateEndpointConfig", """{"EndpointConfigArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/epc"}""")
            .Returns("UpdateEndpoint", """{"EndpointArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint/mlops"}""")
            .Returns("NotifyPromoted", """{"MessageId":"m-1"}""")
            .Returns("NotifyRejected", """{"MessageId":"m-2"}""")
            .Returns("NotifyCostEstimate", """{"MessageId":"m-4"}""");
    }

    private static Task<ExecutionResult> RunAsync(ScriptedTasks script, string input = "{}") =>
        TestDefinition.Runner().RunAsync(
            new ExecutionRequest(TestDefinition.Substituted(), JsonNode.Parse(input), "test-run",
                RetryIntervalOverridesMs: new Dictionary<string, int> { ["PrepareRun"] = 0, ["QualityVerdict"] = 0, ["LogTraining"] = 0, ["EvaluationGate"] = 0, ["PredictChampionTestPeriod"] = 0 }),
            script);

    private static List<string> Sequential(ExecutionResult result) =>
        result.StatesEntered.Where(s => !s.StartsWith("Split", StringComparison.Ordinal) || s == "SplitData").ToList();

    [Fact]
    public async Task Happy_path_tunes_evaluates_promotes_registers_predicts_and_notifies()
    {
        var script = await HappyScriptAsync();
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal([.. HappyPrefix, "NotifyCostEstimate", "TuningEnabled", "TuneHyperparameters", "ListTrainingJobs", "DescribeBestTrainingJob", "CollectTuningResult",
            "LogTraining", "CreateModel", "PredictTestPeriod", "FindChampion", "HasChampion", "NoChampion", "EvaluationQuery", "EvaluationResults",
            "EvaluationGate", "LogEvaluation", "PromoteOrReject", "RegisterModelPackage", "LogPromotion", "BatchPredictionsEnabled",
            "PredictForecastWeeks", "ForecastSalesQuery", "EndpointUpdateEnabled", "NotifyPromoted", "Promoted"], Sequential(result));
        Assert.Equal("promoted", (string?)result.Output!["outcome"]);
        Assert.Equal("arn:aws:sagemaker:us-east-1:123456789012:model-package/retail/2", (string?)result.Output["modelPackageArn"]);
        Assert.Equal(5, new[] { "SplitTrain", "SplitValidation", "SplitTestFeatures", "SplitTestLabels", "SplitForecastFeatures" }.Count(s => script.CallsTo(s) == 1));
    }

    [Fact]
    public async Task Tuning_job_request_carries_the_configured_ranges_channels_and_spot_settings()
    {
        var script = await HappyScriptAsync();
        await RunAsync(script);

        var request = script.InputOf("TuneHyperparameters")!;
        var config = request["HyperParameterTuningJobConfig"]!;
        Assert.Equal("Bayesian", (string?)config["Strategy"]);
        Assert.Equal(20, (int)config["ResourceLimits"]!["MaxNumberOfTrainingJobs"]!);
        Assert.Equal(4, (int)config["ResourceLimits"]!["MaxParallelTrainingJobs"]!);
        Assert.Equal("validation:mae", (string?)config["HyperParameterTuningJobObjective"]!["MetricName"]);
        Assert.Equal("0.01", (string?)config["ParameterRanges"]!["ContinuousParameterRanges"]![0]!["MinValue"]);
        var definition = request["TrainingJobDefinition"]!;
        Assert.True((bool)definition["EnableManagedSpotTraining"]!);
        Assert.Equal(7200, (int)definition["StoppingCondition"]!["MaxWaitTimeInSeconds"]!);
        Assert.Equal("s3://work/runs/test-run/train/r0/", (string?)definition["InputDataConfig"]![0]!["DataSource"]!["S3DataSource"]!["S3Uri"]);
        Assert.Equal("reg:squarederror", (string?)definition["StaticHyperParameters"]!["objective"]);
        // File mode hands the container the objects as stored: CompressionType only applies in Pipe mode.
        Assert.All(definition["InputDataConfig"]!.AsArray(), c => Assert.Null(c!["CompressionType"]));
        Assert.Equal("File", (string?)definition["AlgorithmSpecification"]!["TrainingInputMode"]);
        // One CheckpointConfig would be every trial's, and the container resumes from any checkpoint it finds there.
        Assert.Null(definition["CheckpointConfig"]);
    }

    [Fact]
    public async Task Model_package_client_token_is_32_hex_characters_from_the_execution_arn_whatever_the_execution_name()
    {
        var script = await HappyScriptAsync();
        await RunAsync(script);

        var token = (string?)script.InputOf("RegisterModelPackage")!["ClientToken"];
        Assert.Matches("^[0-9a-f]{32}$", token); // CreateModelPackage: 1-36 characters of [a-zA-Z0-9-]
    }

    [Fact]
    public async Task Gate_rejection_registers_nothing_and_notifies_the_reasons()
    {
        var script = await HappyScriptAsync(decision: "reject");
        var result = await RunAsync(script);

        Assert.True(result.Succeeded);
        Assert.Equal(["EvaluationGate", "LogEvaluation", "PromoteOrReject", "NotifyRejected", "Rejected"], Sequential(result).TakeLast(5));
        Assert.Equal(0, script.CallsTo("RegisterModelPackage"));
        Assert.Equal("rejected", (string?)result.Output!["outcome"]);
        Assert.Contains("challenger WMAE 1,400.5", (string?)script.InputOf("NotifyRejected")!["Message"]);
    }

    [Fact]
    public async Task Data_quality_failure_is_not_retried_and_ends_failed_with_the_original_error()
    {
        var cause = ScriptedTasks.LambdaErrorCause("DataQualityFailed", "duplicate_sales_keys: 12 > 0");
        var script = (await HappyScriptAsync()).Fails("QualityVerdict", "DataQualityFailed", cause);
        var result = await RunAsync(script);

        Assert.False(result.Succeeded);
        Assert.Equal("DataQualityFailed", result.Error);
        Assert.Equal(cause, result.Cause);
        Assert.Equal(1, script.CallsTo("QualityVerdict"));
        // The failed state is the execution's last: a redrive continues there (an EventBridge rule notifies).
        Assert.Equal("QualityVerdict", result.StatesEntered[^1]);
        Assert.Equal(0, script.CallsTo("BuildFeatures"));
    }

    [Fact]
    public async Task Invalid_run_request_fails_fast_at_prepare_run()
    {
        var script = (await HappyScriptAsync()).Fails("PrepareRun", "InvalidRunRequest",
            ScriptedTasks.LambdaErrorCause("InvalidRunRequest", "$.overrides: unknown configuration key 'tuning.maxJob'"));
        var result = await RunAsync(script, """{"overrides":{"tuning.maxJob":8}}""");

        Assert.Equal("InvalidRunRequest", result.Error);
        Assert.Equal(["PrepareRun"], result.StatesEntered);
        Assert.Equal(1, script.CallsTo("PrepareRun"));
    }

    [Fact]
    public async Task Intrinsic_functions_keep_backslashes_and_quotes_as_step_functions_does()
    {
        // The interpreter used to strip every backslash from States.Format's result (a Windows path, an escaped quote).
        const string definition = """{"StartAt":"F","States":{"F":{"Type":"Pass","Parameters":{"m.$":"States.Format('Run failed: {}', $.v)"},"End":true}}}""";
        var input = new JsonObject { ["v"] = @"value 'abc' in C:\data\in.json is not a number" };
        var result = await TestDefinition.Runner().RunAsync(new ExecutionRequest(definition, input, "test-run"), new ScriptedTasks());

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal(@"Run failed: value 'abc' in C:\data\in.json is not a number", (string?)result.Output!["m"]);
    }

    [Fact]
    public async Task Transient_lambda_error_is_retried_then_the_run_succeeds()
    {
        var script = (await HappyScriptAsync()).Fails("QualityVerdict", "Lambda.TooManyRequestsException", "Rate exceeded", times: 1);
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal(2, script.CallsTo("QualityVerdict"));
        Assert.Contains(result.History, e => e.Type == "StateRetried" && e.StateName == "QualityVerdict");
    }

    [Fact]
    public async Task Lambda_service_errors_give_up_after_three_retries_and_fail_the_run()
    {
        var script = (await HappyScriptAsync()).Fails("EvaluationGate", "Lambda.ServiceException", "internal error");
        var result = await RunAsync(script);

        Assert.Equal("Lambda.ServiceException", result.Error);
        Assert.Equal(4, script.CallsTo("EvaluationGate"));
    }

    [Fact]
    public async Task Tuning_job_failure_fails_the_run_at_the_tuning_state()
    {
        const string cause = """{"HyperParameterTuningJobStatus":"Failed","FailureReason":"All training jobs failed"}""";
        var script = (await HappyScriptAsync()).Fails("TuneHyperparameters", "States.TaskFailed", cause);
        var result = await RunAsync(script);

        Assert.Equal("States.TaskFailed", result.Error);
        Assert.Equal(cause, result.Cause);
        Assert.Equal("TuneHyperparameters", result.StatesEntered[^1]);
        Assert.Equal(0, script.CallsTo("CreateModel"));
    }

    [Fact]
    public async Task Mlflow_logging_failure_defers_logging_and_the_run_still_promotes()
    {
        var script = (await HappyScriptAsync()).Fails("LogTraining", "MlflowUnavailable", "connection refused");
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Contains("MlflowDeferredTraining", result.StatesEntered);
        Assert.Equal("deferred", (string?)result.Output!["mlflow"]!["training"]!["result"]!["status"]);
        Assert.Equal("MlflowUnavailable", (string?)result.Output["mlflow"]!["training"]!["result"]!["error"]);
        Assert.Equal("promoted", (string?)result.Output["outcome"]);
    }

    [Fact]
    public async Task Tuning_disabled_runs_one_training_job_and_logs_it_without_a_tuning_job()
    {
        var script = await HappyScriptAsync(overrides: new JsonObject { ["tuning.enabled"] = false });
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Contains("TrainSingleModel", result.StatesEntered);
        Assert.DoesNotContain("TuneHyperparameters", result.StatesEntered);
        var training = script.InputOf("LogTraining")!["Payload"]!["training"]!;
        Assert.Null(training["tuningJob"]);
        Assert.Equal(BestJob, (string?)training["bestTrainingJob"]!["TrainingJobName"]);
        Assert.Equal("100", (string?)script.InputOf("TrainSingleModel")!["HyperParameters"]!["num_round"]);
    }

    [Fact]
    public async Task The_tuning_configuration_reaches_the_MLflow_logger()
    {
        var script = await HappyScriptAsync();
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        var config = script.InputOf("LogTraining")!["Payload"]!["tuningJobConfig"]!;
        var tuning = script.InputOf("TuneHyperparameters")!["HyperParameterTuningJobConfig"]!;
        foreach (var field in new[] { "Strategy", "HyperParameterTuningJobObjective", "ResourceLimits", "ParameterRanges", "TrainingJobEarlyStoppingType" })
            Assert.True(JsonNode.DeepEquals(tuning[field], config[field]), field);
        Assert.NotNull(config["ParameterRanges"]!["ContinuousParameterRanges"]);
    }

    private const string ChampionArn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/retail/1";
    private const string ChampionModelData = "s3://artifacts/runs/old-run/models/tune-old-001/output/model.tar.gz";

    /// <summary>DescribeModelPackage's response for the champion (CustomerMetadataProperties and InferenceSpecification are optional in AWS's model).</summary>
    private static string ChampionPackage(string? featureSet = TestDefinition.FeatureSetVersion, bool metadata = true, bool model = true)
    {
        var package = new JsonObject { ["ModelPackageArn"] = ChampionArn, ["ModelPackageStatus"] = "Completed", ["CreationTime"] = "2026-11-20T06:00:00Z" };
        if (metadata)
        {
            var properties = new JsonObject { ["wmae"] = "1500" };
            if (featureSet is not null) properties["featureSetVersion"] = featureSet;
            package["CustomerMetadataProperties"] = properties;
        }
        if (model)
            package["InferenceSpecification"] = new JsonObject
            {
                ["Containers"] = new JsonArray(new JsonObject { ["Image"] = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", ["ModelDataUrl"] = ChampionModelData }),
                ["SupportedContentTypes"] = new JsonArray("text/csv"),
            };
        return package.ToJsonString();
    }

    private static async Task<ScriptedTasks> ChampionScriptAsync(string? package = null) =>
        (await HappyScriptAsync())
            .Returns("FindChampion", $$$"""{"ModelPackageSummaryList":[{"ModelPackageArn":"{{{ChampionArn}}}"}]}""")
            .Returns("DescribeChampion", package ?? ChampionPackage());

    private static readonly string[] ChampionScored =
    [
        "PredictTestPeriod", "FindChampion", "HasChampion", "DescribeChampion", "ChampionScorable", "ChampionFeatureSetMatches",
        "CreateChampionModel", "PredictChampionTestPeriod", "EvaluationQuery", "EvaluationResults", "EvaluationGate",
    ];

    [Fact]
    public async Task Champion_of_this_feature_set_is_scored_on_the_same_test_features_before_the_one_evaluation()
    {
        var script = await ChampionScriptAsync();
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        var path = Sequential(result);
        Assert.Equal(ChampionScored, path.Skip(path.IndexOf("PredictTestPeriod")).Take(ChampionScored.Length));

        var model = script.InputOf("CreateChampionModel")!;
        Assert.Equal(ChampionModelData, (string?)model["PrimaryContainer"]!["ModelDataUrl"]);
        Assert.Equal("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", (string?)model["PrimaryContainer"]!["Image"]);
        Assert.StartsWith("model-champion-test-run-", (string?)model["ModelName"]);
        Assert.Equal("arn:aws:iam::123456789012:role/mlops-sagemaker", (string?)model["ExecutionRoleArn"]);

        var challenger = script.InputOf("PredictTestPeriod")!;
        var champion = script.InputOf("PredictChampionTestPeriod")!;
        Assert.Equal((string?)model["ModelName"], (string?)champion["ModelName"]);
        Assert.StartsWith("eval-champion-test-run-", (string?)champion["TransformJobName"]);
        Assert.Equal(challenger["TransformInput"]!.ToJsonString(), champion["TransformInput"]!.ToJsonString());
        Assert.Equal(challenger["DataProcessing"]!.ToJsonString(), champion["DataProcessing"]!.ToJsonString());
        Assert.Equal("s3://work/runs/test-run/predictions/", (string?)challenger["TransformOutput"]!["S3OutputPath"]);
        Assert.Equal("s3://work/runs/test-run/champion-predictions/", (string?)champion["TransformOutput"]!["S3OutputPath"]);

        var gate = script.InputOf("EvaluationGate")!["Payload"]!;
        Assert.Equal(TestDefinition.FeatureSetVersion, (string?)gate["featureSetVersion"]);
        Assert.True((bool)gate["champion"]!["found"]!);
        Assert.Equal(ChampionArn, (string?)gate["champion"]!["modelPackageArn"]);
        Assert.Equal("1500", (string?)gate["champion"]!["package"]!["CustomerMetadataProperties"]!["wmae"]);
        Assert.Equal("scored", (string?)gate["champion"]!["scoring"]!["status"]);
        Assert.Equal("eval-champion-test-run-1a2b3c4d", (string?)gate["champion"]!["scoring"]!["transformJobName"]);
    }

    [Fact]
    public async Task Champion_of_another_feature_set_is_not_scored_and_the_gate_still_decides()
    {
        var script = await ChampionScriptAsync(ChampionPackage(featureSet: "fs-aaaaaaaaaaaa"));
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal(["DescribeChampion", "ChampionScorable", "ChampionFeatureSetMatches", "EvaluationQuery"],
            Sequential(result).SkipWhile(s => s != "DescribeChampion").Take(4));
        Assert.Equal(0, script.CallsTo("CreateChampionModel"));
        Assert.Equal(0, script.CallsTo("PredictChampionTestPeriod"));
        var champion = script.InputOf("EvaluationGate")!["Payload"]!["champion"]!;
        Assert.Equal("fs-aaaaaaaaaaaa", (string?)champion["package"]!["CustomerMetadataProperties"]!["featureSetVersion"]);
        Assert.Null(champion["scoring"]);
    }

    [Theory]
    [InlineData("no metadata", false, true)]
    [InlineData("no feature set", true, true)]
    [InlineData("no model", true, false)]
    public async Task Champion_package_without_optional_fields_is_described_without_failing_and_not_scored(string name, bool metadata, bool model)
    {
        var package = ChampionPackage(featureSet: name == "no feature set" ? null : TestDefinition.FeatureSetVersion, metadata: metadata, model: model);
        var script = await ChampionScriptAsync(package);
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{name}: {result.Error}: {result.Cause}");
        Assert.Equal(["DescribeChampion", "ChampionScorable", "EvaluationQuery"], Sequential(result).SkipWhile(s => s != "DescribeChampion").Take(3));
        Assert.Equal(0, script.CallsTo("CreateChampionModel"));
    }

    [Theory]
    [InlineData("CreateChampionModel", "SageMaker.ValidationException", "Could not find model data at s3://artifacts/runs/old-run/models/tune-old-001/output/model.tar.gz.")]
    [InlineData("PredictChampionTestPeriod", "States.TaskFailed", """{"TransformJobStatus":"Failed","FailureReason":"ClientError: not a gzip-compressed tar archive"}""")]
    public async Task Champion_that_cannot_be_scored_is_caught_and_the_run_goes_on_to_the_gate(string state, string error, string cause)
    {
        var script = (await ChampionScriptAsync()).Fails(state, error, cause);
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal(1, script.CallsTo(state));
        Assert.Equal([state, "ChampionNotScored", "EvaluationQuery"], Sequential(result).SkipWhile(s => s != state).Take(3));
        Assert.DoesNotContain("NotifyFailure", result.StatesEntered);
        var scoring = script.InputOf("EvaluationGate")!["Payload"]!["champion"]!["scoring"]!;
        Assert.Equal(("failed", error, cause), ((string?)scoring["status"], (string?)scoring["error"], (string?)scoring["cause"]));
        Assert.Equal("promoted", (string?)result.Output!["outcome"]);
    }

    [Fact]
    public async Task Throttled_champion_transform_is_retried_and_scored()
    {
        var script = (await ChampionScriptAsync()).Fails("PredictChampionTestPeriod", "SageMaker.ThrottlingException", "Rate exceeded", times: 1);
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal(2, script.CallsTo("PredictChampionTestPeriod"));
        Assert.Equal("scored", (string?)script.InputOf("EvaluationGate")!["Payload"]!["champion"]!["scoring"]!["status"]);
    }

    [Fact]
    public async Task Every_sagemaker_name_carries_the_redrive_count_and_later_states_use_the_name_created()
    {
        var endpoint = new JsonObject { ["predictions.updateEndpoint"] = true };
        var first = await HappyScriptAsync(overrides: endpoint);
        Assert.True((await RunAsync(first)).Succeeded);
        var redriven = await HappyScriptAsync(overrides: endpoint);
        var result = await TestDefinition.Runner().RunAsync(
            new ExecutionRequest(TestDefinition.Substituted(), JsonNode.Parse("{}"), "test-run", RedriveCount: 2), redriven);
        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");

        foreach (var (state, field) in new[] { ("TuneHyperparameters", "HyperParameterTuningJobName"), ("CreateModel", "ModelName"),
                     ("PredictTestPeriod", "TransformJobName"), ("PredictForecastWeeks", "TransformJobName") })
        {
            var name = (string)first.InputOf(state)![field]!;
            Assert.EndsWith("-r0", name);
            Assert.Equal(name[..^1] + "2", (string?)redriven.InputOf(state)![field]);
        }
        Assert.Equal((string?)redriven.InputOf("CreateModel")!["ModelName"], (string?)redriven.InputOf("PredictTestPeriod")!["ModelName"]);
        Assert.Equal((string?)redriven.InputOf("CreateModel")!["ModelName"], (string?)redriven.InputOf("CreateEndpointConfig")!["ProductionVariants"]![0]!["ModelName"]);
        Assert.Equal((string?)redriven.InputOf("CreateEndpointConfig")!["EndpointConfigName"], (string?)redriven.InputOf("UpdateEndpoint")!["EndpointConfigName"]);
    }

    [Fact]
    public async Task The_cost_estimate_is_published_before_training_starts()
    {
        var script = await HappyScriptAsync();
        var result = await RunAsync(script);

        var entered = result.StatesEntered.ToList();
        Assert.True(entered.IndexOf("NotifyCostEstimate") < entered.IndexOf("TuneHyperparameters"));
        var message = (string?)script.InputOf("NotifyCostEstimate")!["Message"];
        Assert.StartsWith("Run test-run starts training. Estimated cost at most $4.60", message);
        Assert.Contains("20 job(s) × 1 × ml.m5.xlarge", message);
    }

    [Fact]
    public async Task A_failed_cost_notification_never_fails_the_run()
    {
        var script = (await HappyScriptAsync()).Fails("NotifyCostEstimate", "SNS.AuthorizationErrorException", "not allowed");
        var result = await RunAsync(script);
        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal("promoted", (string?)result.Output!["outcome"]);
    }

    [Fact]
    public async Task An_ignored_upload_ends_successfully_with_the_reason_and_no_notification()
    {
        var script = (await HappyScriptAsync()).Fails("PrepareRun", "UploadIgnored",
            """{"errorMessage":"$.detail.object.key: 'incoming/b/sales/manifest.json' is a manifest.json inside a batch folder","errorType":"UploadIgnored"}""");
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal(["PrepareRun", "UploadIgnored"], result.StatesEntered);
        Assert.Equal("ignored", (string?)result.Output!["outcome"]);
        Assert.Contains("inside a batch folder", (string?)result.Output["reason"]!["errorMessage"]);
        Assert.Equal(0, script.CallsTo("NotifyFailure"));
    }

    [Fact]
    public async Task Sagemaker_requests_are_isolated_and_encrypted_with_the_job_key()
    {
        var script = await HappyScriptAsync();
        await RunAsync(script);

        var key = "mlops-sagemakerkmskeyarn";
        var definition = script.InputOf("TuneHyperparameters")!["TrainingJobDefinition"]!;
        Assert.True((bool)definition["EnableNetworkIsolation"]!);
        Assert.True((bool)definition["EnableInterContainerTrafficEncryption"]!);
        Assert.Equal(key, (string?)definition["OutputDataConfig"]!["KmsKeyId"]);
        Assert.Equal(key, (string?)definition["ResourceConfig"]!["VolumeKmsKeyId"]);
        Assert.True((bool)script.InputOf("CreateModel")!["EnableNetworkIsolation"]!);
        foreach (var transform in new[] { "PredictTestPeriod", "PredictForecastWeeks" })
        {
            Assert.Equal(key, (string?)script.InputOf(transform)!["TransformOutput"]!["KmsKeyId"]);
            Assert.Equal(key, (string?)script.InputOf(transform)!["TransformResources"]!["VolumeKmsKeyId"]);
        }
    }

    [Theory]
    [InlineData(true, 1, "FullyReplicated")]
    [InlineData(true, 3, "ShardedByS3Key")]
    [InlineData(false, 1, "FullyReplicated")]
    [InlineData(false, 2, "ShardedByS3Key")]
    public async Task Training_channels_are_sharded_when_training_uses_more_than_one_instance(bool tuning, int instances, string distribution)
    {
        var script = await HappyScriptAsync(overrides: new JsonObject { ["tuning.enabled"] = tuning, ["training.instanceCount"] = instances });
        await RunAsync(script);

        var request = tuning ? script.InputOf("TuneHyperparameters")!["TrainingJobDefinition"]! : script.InputOf("TrainSingleModel")!;
        Assert.Equal(instances, (int)request["ResourceConfig"]!["InstanceCount"]!);
        Assert.All(request["InputDataConfig"]!.AsArray(), channel =>
            Assert.Equal(distribution, (string?)channel!["DataSource"]!["S3DataSource"]!["S3DataDistributionType"]));
    }
}
