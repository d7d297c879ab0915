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
            .Returns("DescribeChampion", """{"ModelPackageArn":"arn:aws:sagemaker:us-east-1:123456789012:model-package/retail/1","CustomerMetadataProperties":{"wmae":"1500"}}""")
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
            .Returns("NotifyFailure", """{"MessageId":"m-3"}""");
    }

    private static Task<ExecutionResult> RunAsync(ScriptedTasks script, string input = "{}") =>
        TestDefinition.Runner().RunAsync(
            new ExecutionRequest(TestDefinition.Substituted(), JsonNode.Parse(input), "test-run",
                RetryIntervalOverridesMs: new Dictionary<string, int> { ["PrepareRun"] = 0, ["QualityVerdict"] = 0, ["LogTraining"] = 0, ["EvaluationGate"] = 0 }),
            script);

    private static List<string> Sequential(ExecutionResult result) =>
        result.StatesEntered.Where(s => !s.StartsWith("Split", StringComparison.Ordinal) || s == "SplitData").ToList();

    [Fact]
    public async Task Happy_path_tunes_evaluates_promotes_registers_predicts_and_notifies()
    {
        var script = await HappyScriptAsync();
        var result = await RunAsync(script);

        Assert.True(result.Succeeded, $"{result.Error}: {result.Cause}");
        Assert.Equal([.. HappyPrefix, "TuningEnabled", "TuneHyperparameters", "ListTrainingJobs", "DescribeBestTrainingJob", "CollectTuningResult",
            "LogTraining", "CreateModel", "PredictTestPeriod", "EvaluationQuery", "EvaluationResults", "FindChampion", "HasChampion", "NoChampion",
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
        Assert.Equal("s3://work/runs/test-run/train/", (string?)definition["InputDataConfig"]![0]!["DataSource"]!["S3DataSource"]!["S3Uri"]);
        Assert.Equal("Gzip", (string?)definition["InputDataConfig"]![1]!["CompressionType"]);
        Assert.Equal("reg:squarederror", (string?)definition["StaticHyperParameters"]!["objective"]);
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
        Assert.Equal(["QualityVerdict", "DescribeFailure", "ParseFailureCause", "FailureMessage", "LambdaErrorMessage", "NotifyFailure", "RunFailed"], result.StatesEntered.TakeLast(7));
        Assert.EndsWith(" failed: DataQualityFailed: duplicate_sales_keys: 12 > 0", (string?)script.InputOf("NotifyFailure")!["Message"]);
        Assert.Equal(0, script.CallsTo("BuildFeatures"));
    }

    [Fact]
    public async Task Invalid_run_request_fails_fast_and_notifies()
    {
        var script = (await HappyScriptAsync()).Fails("PrepareRun", "InvalidRunRequest",
            ScriptedTasks.LambdaErrorCause("InvalidRunRequest", "$.overrides: unknown configuration key 'tuning.maxJob'"));
        var result = await RunAsync(script, """{"overrides":{"tuning.maxJob":8}}""");

        Assert.Equal("InvalidRunRequest", result.Error);
        Assert.Equal(["PrepareRun", "DescribeFailure", "ParseFailureCause", "FailureMessage", "LambdaErrorMessage", "NotifyFailure", "RunFailed"], result.StatesEntered);
        Assert.Equal(1, script.CallsTo("PrepareRun"));
    }

    [Fact]
    public async Task The_failure_notification_shows_a_lambda_errors_message_without_json_escapes_or_lost_backslashes()
    {
        // .NET's serializer writes ' as \u0027; the interpreter used to strip every backslash from States.Format's result.
        var cause = ScriptedTasks.LambdaErrorCause("InvalidRunRequest", @"value 'abc' in C:\data\in.json is not a number");
        Assert.Contains("\\u0027abc\\u0027", cause);
        var script = (await HappyScriptAsync()).Fails("PrepareRun", "InvalidRunRequest", cause);
        var result = await RunAsync(script);

        Assert.Equal(cause, result.Cause);
        Assert.EndsWith(@" failed: InvalidRunRequest: value 'abc' in C:\data\in.json is not a number", (string?)script.InputOf("NotifyFailure")!["Message"]);
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
    public async Task Tuning_job_failure_is_caught_notified_and_fails_the_run()
    {
        const string cause = """{"HyperParameterTuningJobStatus":"Failed","FailureReason":"All training jobs failed"}""";
        var script = (await HappyScriptAsync()).Fails("TuneHyperparameters", "States.TaskFailed", cause);
        var result = await RunAsync(script);

        Assert.Equal("States.TaskFailed", result.Error);
        Assert.Equal(cause, result.Cause);
        Assert.Equal(["TuneHyperparameters", "DescribeFailure", "ParseFailureCause", "FailureMessage", "JobFailureMessage", "NotifyFailure", "RunFailed"],
            result.StatesEntered.TakeLast(7));
        Assert.EndsWith(" failed: States.TaskFailed: All training jobs failed", (string?)script.InputOf("NotifyFailure")!["Message"]);
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
    public async Task Existing_champion_is_described_and_handed_to_the_gate()
    {
        var script = (await HappyScriptAsync()).Returns("FindChampion",
            """{"ModelPackageSummaryList":[{"ModelPackageArn":"arn:aws:sagemaker:us-east-1:123456789012:model-package/retail/1"}]}""");
        var result = await RunAsync(script);

        Assert.Contains("DescribeChampion", result.StatesEntered);
        var champion = script.InputOf("EvaluationGate")!["Payload"]!["champion"]!;
        Assert.True((bool)champion["found"]!);
        Assert.Equal("1500", (string?)champion["customerMetadataProperties"]!["wmae"]);
    }

    [Fact]
    public async Task Notification_failure_still_ends_the_run_with_the_original_error()
    {
        var script = (await HappyScriptAsync())
            .Fails("BuildFeatures", "States.TaskFailed", "query failed")
            .Fails("NotifyFailure", "SNS.AuthorizationErrorException", "not allowed");
        var result = await RunAsync(script);

        Assert.Equal("States.TaskFailed", result.Error);
        Assert.Equal("query failed", result.Cause);
    }
}
