using System.Text.Json.Nodes;
using Amazon.CDK.Assertions;

namespace MlOps.Serverless.Infra.Tests;

[Collection(CdkCollection.Name)]
public sealed class StackResourceTests(DefaultStack stack)
{
    [Theory]
    [InlineData("AWS::S3::Bucket", 4)]
    [InlineData("AWS::Lambda::Function", 5)] // four retraining stages and the failure notifier's
    [InlineData("AWS::StepFunctions::StateMachine", 2)] // retraining and failure notifier
    [InlineData("AWS::Events::Rule", 3)] // schedule, upload, run failed
    [InlineData("AWS::SQS::Queue", 2)]
    [InlineData("AWS::Glue::Database", 1)]
    [InlineData("AWS::Glue::Table", 9)]
    [InlineData("AWS::Athena::WorkGroup", 1)]
    [InlineData("AWS::SageMaker::ModelPackageGroup", 1)]
    [InlineData("AWS::SNS::Topic", 1)]
    [InlineData("AWS::SNS::Subscription", 0)]
    // 5 function throttles, MLflow deferrals, 2 undelivered trigger events (failed, aborted and timed-out runs are announced by the failure notifier).
    [InlineData("AWS::CloudWatch::Alarm", 10)]
    [InlineData("AWS::Logs::MetricFilter", 1)]
    [InlineData("AWS::KMS::Key", 2)]
    [InlineData("AWS::SageMaker::Endpoint", 0)]
    // No CDK custom resources: they bring their own Lambda roles with "*" policies.
    [InlineData("Custom::S3BucketNotifications", 0)]
    [InlineData("Custom::LogRetention", 0)]
    public void Deploys_the_expected_number_of_each_resource(string type, int count) =>
        stack.Template.ResourceCountIs(type, count);

    [Fact]
    public void Every_bucket_is_encrypted_private_ssl_only_and_retained()
    {
        var policies = stack.Resources("AWS::S3::BucketPolicy").ToList();
        foreach (var (id, bucket) in stack.Resources("AWS::S3::Bucket"))
        {
            Assert.Equal("Retain", (string?)bucket["DeletionPolicy"]);
            Assert.Equal("Retain", (string?)bucket["UpdateReplacePolicy"]);
            var properties = bucket["Properties"]!;
            var sse = properties["BucketEncryption"]!["ServerSideEncryptionConfiguration"]![0]!["ServerSideEncryptionByDefault"]!;
            Assert.Contains((string?)sse["SSEAlgorithm"], new[] { "aws:kms", "AES256" });
            var block = properties["PublicAccessBlockConfiguration"]!.AsObject();
            foreach (var flag in new[] { "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets" })
                Assert.True((bool?)block[flag], $"{id}: {flag}");

            var policy = policies.Single(p => CloudFormation.Resolve(p.Resource["Properties"]!["Bucket"]) == id).Resource;
            var denies = policy["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray().Select(s => s!.AsObject())
                .Where(s => (string?)s["Effect"] == "Deny"
                            && s["Condition"]?["Bool"]?["aws:SecureTransport"]?.ToString() == "false"
                            && CloudFormation.List(s["Action"]).Contains("s3:*"));
            Assert.Single(denies);
        }
    }

    [Fact]
    public void Model_registry_is_retained_with_the_stack_deleted() =>
        Assert.Equal("Retain", (string?)stack.Single("AWS::SageMaker::ModelPackageGroup").Resource["DeletionPolicy"]);

    [Fact]
    public void Raw_bucket_is_versioned_and_sends_events_to_EventBridge()
    {
        var raw = stack.Json["Resources"]![stack.Resources("AWS::S3::Bucket").Single(b => b.LogicalId.StartsWith("StorageRaw", StringComparison.Ordinal)).LogicalId]!["Properties"]!;
        Assert.Equal("Enabled", (string?)raw["VersioningConfiguration"]!["Status"]);
        Assert.True((bool?)raw["NotificationConfiguration"]!["EventBridgeConfiguration"]!["EventBridgeEnabled"]);
    }

    [Fact]
    public void Athena_results_expire_and_the_workgroup_enforces_an_encrypted_result_location()
    {
        var (resultsId, results) = stack.Resources("AWS::S3::Bucket").Single(b => b.LogicalId.StartsWith("StorageAthenaResults", StringComparison.Ordinal));
        var rules = results["Properties"]!["LifecycleConfiguration"]!["Rules"]!.AsArray();
        Assert.Contains(rules, r => (int?)r!["ExpirationInDays"] == stack.Settings.AthenaResultsExpirationDays);

        var configuration = stack.Single("AWS::Athena::WorkGroup").Resource["Properties"]!["WorkGroupConfiguration"]!;
        Assert.True((bool?)configuration["EnforceWorkGroupConfiguration"]);
        Assert.Equal("SSE_S3", (string?)configuration["ResultConfiguration"]!["EncryptionConfiguration"]!["EncryptionOption"]);
        Assert.StartsWith($"s3://{resultsId}/", CloudFormation.Resolve(configuration["ResultConfiguration"]!["OutputLocation"]));
    }

    [Theory]
    [InlineData("PrepareRunFunction", 60)]
    [InlineData("DataQualityVerdictFunction", 120)]
    [InlineData("MlflowLoggerFunction", 300)]
    [InlineData("EvaluationGateFunction", 120)]
    public void Each_stage_is_a_dotnet10_arm64_function_with_json_logs_and_tracing(string className, int timeout) =>
        stack.Template.HasResourceProperties("AWS::Lambda::Function", new Dictionary<string, object>
        {
            ["Handler"] = $"MlOps.Serverless.Functions::MlOps.Serverless.Functions.{className}::Handle",
            ["Runtime"] = "dotnet10",
            ["Architectures"] = new[] { "arm64" },
            ["Timeout"] = timeout,
            ["LoggingConfig"] = Match.ObjectLike(new Dictionary<string, object> { ["LogFormat"] = "JSON", ["ApplicationLogLevel"] = "INFO" }),
            ["TracingConfig"] = new Dictionary<string, object> { ["Mode"] = "Active" },
        });

    [Fact]
    public void Every_function_log_group_has_a_retention()
    {
        var groups = stack.Resources("AWS::Logs::LogGroup").ToList();
        Assert.Equal(7, groups.Count); // five functions and the two state machines
        Assert.All(groups, g => Assert.Equal(30, (int?)g.Resource["Properties"]!["RetentionInDays"]));
    }

    [Fact]
    public void Prepare_run_gets_the_buckets_the_batch_convention_and_the_deployment_settings()
    {
        var env = Environment("PrepareRunFunction");
        Assert.Equal("incoming/", env["RAW_PREFIX"]);
        Assert.Equal("current", env["CURRENT_BATCH"]);
        Assert.StartsWith("StorageRaw", env["RAW_BUCKET"]);
        Assert.StartsWith("StorageWork", env["WORK_BUCKET"]);
        Assert.StartsWith("StorageArtifacts", env["ARTIFACT_BUCKET"]);
        var settings = JsonNode.Parse(env["PIPELINE_SETTINGS"])!.AsObject();
        Assert.Equal("1.7-1", (string?)settings["training.xgboostVersion"]);
    }

    [Fact]
    public void Without_a_tracking_server_the_mlflow_stage_gets_no_mlflow_settings()
    {
        var env = Environment("MlflowLoggerFunction");
        Assert.False(env.ContainsKey("MLFLOW_TRACKING_URI"));
        Assert.False(env.ContainsKey("MLFLOW_CREDENTIALS_PARAMETER"));
    }

    [Fact]
    public void Raw_tables_read_the_runs_copy_of_the_upload_as_csv_strings_projected_by_run_id()
    {
        foreach (var name in new[] { "raw_sales", "raw_features", "raw_stores" })
        {
            var input = Table(name);
            var parameters = input["Parameters"]!;
            Assert.Equal("true", (string?)parameters["projection.enabled"]);
            Assert.Equal("injected", (string?)parameters["projection.run_id.type"]);
            Assert.Equal("1", (string?)parameters["skip.header.line.count"]);
            // Exact lineage: the copy PrepareRun made of the fingerprinted versions, never incoming/.
            Assert.Matches(@"^s3://StorageWork\w+/runs/\$\{run_id\}/input/\w+/$", CloudFormation.Resolve(parameters["storage.location.template"]));
            Assert.Equal("run_id", (string?)input["PartitionKeys"]![0]!["Name"]);
            var storage = input["StorageDescriptor"]!;
            Assert.Equal("org.apache.hadoop.hive.serde2.OpenCSVSerde", (string?)storage["SerdeInfo"]!["SerializationLibrary"]);
            Assert.All(storage["Columns"]!.AsArray(), c => Assert.Equal("string", (string?)c!["Type"]));
        }
    }

    [Theory]
    [InlineData("features", "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")]
    [InlineData("test_labels", "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe")]
    [InlineData("predictions", "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe")]
    [InlineData("champion_predictions", "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe")]
    public void Run_tables_live_in_the_work_bucket_projected_by_run_id(string name, string serde)
    {
        var input = Table(name);
        Assert.Equal("injected", (string?)input["Parameters"]!["projection.run_id.type"]);
        Assert.Matches(@"^s3://StorageWork\w+/runs/\$\{run_id\}/[a-z-]+/(r\$\{attempt\}/)?$", CloudFormation.Resolve(input["Parameters"]!["storage.location.template"]));
        Assert.Equal(serde, (string?)input["StorageDescriptor"]!["SerdeInfo"]!["SerializationLibrary"]);
    }

    [Theory]
    [InlineData("features")]
    [InlineData("test_labels")]
    [InlineData("forecast_sales")]
    public void Unload_tables_are_projected_by_run_and_attempt_so_a_query_reads_the_attempt_it_names(string name)
    {
        var input = Table(name);
        Assert.Equal("injected", (string?)input["Parameters"]!["projection.attempt.type"]);
        Assert.Matches(@"^s3://StorageWork\w+/runs/\$\{run_id\}/[a-z-]+/r\$\{attempt\}/$", CloudFormation.Resolve(input["Parameters"]!["storage.location.template"]));
        Assert.Equal(["run_id", "attempt"], input["PartitionKeys"]!.AsArray().Select(k => (string?)k!["Name"]));
        Assert.All(input["PartitionKeys"]!.AsArray(), k => Assert.Equal("string", (string?)k!["Type"]));
    }

    [Fact]
    public void State_machine_is_standard_traced_and_logs_everything_to_its_log_group()
    {
        var properties = stack.RetrainingMachine.Resource["Properties"]!;
        Assert.Equal("STANDARD", (string?)properties["StateMachineType"]);
        Assert.True((bool?)properties["TracingConfiguration"]!["Enabled"]);
        var logging = properties["LoggingConfiguration"]!;
        Assert.Equal("ALL", (string?)logging["Level"]);
        Assert.True((bool?)logging["IncludeExecutionData"]);
        Assert.Single(logging["Destinations"]!.AsArray());
    }

    [Fact]
    public void Alarms_cover_what_the_workflow_cannot_report_itself_and_page_the_topic()
    {
        var topic = stack.Single("AWS::SNS::Topic").LogicalId;
        var alarms = stack.Resources("AWS::CloudWatch::Alarm").Select(a => a.Resource["Properties"]!).ToList();
        Assert.All(alarms, a => Assert.Equal([topic], CloudFormation.List(a["AlarmActions"])));
        var metrics = alarms.Select(a => $"{a["Namespace"]}/{a["MetricName"]}").ToList();
        // Failed, timed-out and aborted executions are announced by the failure notification rule, not by alarms.
        Assert.DoesNotContain("AWS/States/ExecutionsAborted", metrics);
        Assert.DoesNotContain("AWS/States/ExecutionsTimedOut", metrics);
        Assert.Equal(5, metrics.Count(m => m == "AWS/Lambda/Throttles"));
        Assert.Contains($"{Monitoring.MetricNamespace}/{Monitoring.MlflowDeferralsMetric}", metrics);
        Assert.Equal(2, metrics.Count(m => m == "AWS/SQS/ApproximateNumberOfMessagesVisible"));
    }

    [Fact]
    public void A_failed_run_alerts_once_through_its_failure_notification_not_through_an_alarm_too()
    {
        var metrics = stack.Resources("AWS::CloudWatch::Alarm").Select(a => (string?)a.Resource["Properties"]!["MetricName"]).ToList();
        // The failure notification rule starts the notifier, which publishes the failed state, error and message; a stage
        // error ends as such a failure.
        Assert.DoesNotContain("ExecutionsFailed", metrics);
        Assert.DoesNotContain("Errors", metrics);
        var rule = stack.Resources("AWS::Events::Rule").Single(r => ((string?)r.Resource["Properties"]!["Name"])?.EndsWith("-run-failed", StringComparison.Ordinal) == true);
        Assert.Equal(stack.FailureNotifierMachine.LogicalId, CloudFormation.Resolve(rule.Resource["Properties"]!["Targets"]![0]!["Arn"]));
    }

    [Fact]
    public void A_failed_run_that_could_not_be_announced_pages_the_topic()
    {
        var topic = stack.Single("AWS::SNS::Topic").LogicalId;
        var alarms = stack.Resources("AWS::CloudWatch::Alarm").Select(a => a.Resource["Properties"]!).ToList();

        // The notifier failed or timed out: a math alarm over its own executions (not the retraining machine's).
        var notifier = alarms.Single(a => ((string?)a["AlarmName"])?.EndsWith("-FailureNotifierFailed", StringComparison.Ordinal) == true);
        var stats = notifier["Metrics"]!.AsArray().Where(m => m!["MetricStat"] is not null).Select(m => m!["MetricStat"]!["Metric"]!).ToList();
        Assert.Equal(["ExecutionsFailed", "ExecutionsTimedOut"], stats.Select(m => (string?)m["MetricName"]).Order());
        Assert.All(stats, m => Assert.Equal(stack.FailureNotifierMachine.LogicalId, CloudFormation.Resolve(m["Dimensions"]![0]!["Value"])));
        Assert.Equal([topic], CloudFormation.List(notifier["AlarmActions"]));

        // The rule could not start the notifier.
        var rule = stack.Resources("AWS::Events::Rule").Single(r => ((string?)r.Resource["Properties"]!["Name"])?.EndsWith("-run-failed", StringComparison.Ordinal) == true);
        var invocations = alarms.Single(a => (string?)a["MetricName"] == "FailedInvocations");
        Assert.Equal("AWS/Events", (string?)invocations["Namespace"]);
        Assert.Equal(rule.LogicalId, CloudFormation.Resolve(invocations["Dimensions"]![0]!["Value"]));
    }

    [Fact]
    public void Mlflow_deferrals_are_counted_from_the_execution_log()
    {
        var filter = stack.Single("AWS::Logs::MetricFilter").Resource["Properties"]!;
        var executionLog = stack.Resources("AWS::Logs::LogGroup").Single(l => l.LogicalId.StartsWith("WorkflowLogs", StringComparison.Ordinal)).LogicalId;
        Assert.Equal(executionLog, CloudFormation.Resolve(filter["LogGroupName"]));
        var pattern = (string)filter["FilterPattern"]!;
        Assert.Contains("$.type = \"PassStateEntered\"", pattern);
        Assert.Contains("$.details.name = \"MlflowDeferred*\"", pattern);
        // Every deferral state of the definition matches the pattern's name.
        var deferrals = JsonNode.Parse(stack.Definition)!["States"]!.AsObject().Where(p => p.Key.StartsWith("MlflowDeferred", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(deferrals);
        Assert.All(deferrals, d => Assert.Equal("Pass", (string?)d.Value!["Type"]));
    }

    [Fact]
    public void Synth_warns_that_nobody_receives_alerts_without_an_email_or_a_topic()
    {
        var warnings = Annotations.FromStack(stack.Stack).FindWarning("*", Match.StringLikeRegexp("No one receives alarms or run notifications"));
        Assert.Single(warnings);
    }

    [Fact]
    public void Run_outputs_and_athena_results_expire_after_their_retention()
    {
        var work = stack.Resources("AWS::S3::Bucket").Single(b => b.LogicalId.StartsWith("StorageWork", StringComparison.Ordinal)).Resource;
        Assert.Contains(work["Properties"]!["LifecycleConfiguration"]!["Rules"]!.AsArray(),
            r => (string?)r!["Prefix"] == "runs/" && (int?)r["ExpirationInDays"] == 90 && (string?)r["Status"] == "Enabled");
    }

    [Fact]
    public void Athena_workgroup_cancels_queries_over_the_bytes_scanned_cutoff() =>
        Assert.Equal(10_000_000_000, (long?)stack.Single("AWS::Athena::WorkGroup").Resource["Properties"]!["WorkGroupConfiguration"]!["BytesScannedCutoffPerQuery"]);

    [Fact]
    public void Model_package_group_name_carries_the_prefix_and_the_stack_generation_so_destroy_then_deploy_works()
    {
        var name = CloudFormation.Resolve(stack.Single("AWS::SageMaker::ModelPackageGroup").Resource["Properties"]!["ModelPackageGroupName"]);
        // The stack id differs per stack creation; its first block names this generation's group.
        Assert.Equal("mlops-weekly-sales-5e1d2c3b", name);
        Assert.StartsWith(stack.Settings.Prefix + "-", name);
    }

    [Fact]
    public void Prepare_run_gets_the_guardrails_and_the_name_prefix()
    {
        var env = Environment("PrepareRunFunction");
        Assert.Equal("mlops", env["NAME_PREFIX"]);
        var caps = JsonNode.Parse(env["GUARDRAILS"])!;
        Assert.Equal(50, (int?)caps["maxTuningJobs"]);
        Assert.Contains("ml.m5.xlarge", caps["allowedInstanceTypes"]!.AsArray().Select(t => (string?)t));
    }

    [Fact]
    public void Remaining_nag_findings_are_accepted_in_metadata_with_a_reason()
    {
        var accepted = stack.Json["Resources"]!.AsObject()
            .SelectMany(r => r.Value!["Metadata"]?["cdk_nag"]?["rules_to_suppress"]?.AsArray() ?? [])
            .Select(s => (Id: (string?)s!["id"], Reason: (string?)s["reason"])).ToList();
        foreach (var rule in new[] { "AwsSolutions-IAM5", "AwsSolutions-S1", "AwsSolutions-L1", "AwsSolutions-SQS3", "Serverless-LambdaDLQ",
                     "NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-CloudWatchLogGroupEncrypted" })
            Assert.Contains(accepted, a => a.Id == rule);
        Assert.All(accepted, a => Assert.True(a.Reason is { Length: > 40 }, $"{a.Id} has no reason"));
        // Every IAM policy carries the IAM5 acceptance (its wildcards are scoped; the reason says how).
        Assert.All(stack.Resources("AWS::IAM::Policy"), p => Assert.Contains(p.Resource["Metadata"]!["cdk_nag"]!["rules_to_suppress"]!.AsArray(),
            s => (string?)s!["id"] == "AwsSolutions-IAM5"));
    }

    [Theory]
    [InlineData("StateMachineArn")]
    [InlineData("RawBucketName")]
    [InlineData("WorkBucketName")]
    [InlineData("ArtifactBucketName")]
    [InlineData("NotificationTopicArn")]
    [InlineData("UploadConvention")]
    public void Outputs_what_operators_need(string output) => Assert.NotNull(stack.Json["Outputs"]![output]);

    [Fact]
    public void Upload_convention_output_names_the_raw_bucket_the_data_folders_and_the_marker()
    {
        var text = CloudFormation.Resolve(stack.Json["Outputs"]!["UploadConvention"]!["Value"]);
        Assert.Matches(@"s3://StorageRaw\w+/incoming/\{batchId\}/sales/\*\.csv", text);
        Assert.Contains("features/*.csv", text);
        Assert.Contains("stores/*.csv", text);
        Assert.Contains("/incoming/{batchId}/manifest.json last", text);
    }

    private Dictionary<string, string> Environment(string className)
    {
        var function = stack.Resources("AWS::Lambda::Function")
            .Single(f => ((string?)f.Resource["Properties"]!["Handler"])!.EndsWith($".{className}::Handle", StringComparison.Ordinal));
        return function.Resource["Properties"]!["Environment"]!["Variables"]!.AsObject()
            .ToDictionary(p => p.Key, p => CloudFormation.Resolve(p.Value));
    }

    private JsonNode Table(string name) => stack.Resources("AWS::Glue::Table")
        .Select(t => t.Resource["Properties"]!["TableInput"]!)
        .Single(t => (string?)t["Name"] == name);
}
