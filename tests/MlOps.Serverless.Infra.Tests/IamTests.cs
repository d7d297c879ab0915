using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MlOps.Serverless.Infra.Tests;

[Collection(CdkCollection.Name)]
public sealed class IamTests(DefaultStack stack, FullFeaturedStack full, ExistingTopicStack existing)
{
    [Fact]
    public void No_policy_allows_a_wildcard_action_or_a_star_resource_outside_the_allow_list()
    {
        Assert.Empty(PolicyRules.Violations(stack.Json));
        Assert.Empty(PolicyRules.Violations(full.Json));
    }

    [Theory]
    [InlineData("sagemaker:CreateHyperParameterTuningJob")]
    [InlineData("sagemaker:DescribeHyperParameterTuningJob")]
    [InlineData("sagemaker:StopHyperParameterTuningJob")]
    [InlineData("sagemaker:ListTrainingJobsForHyperParameterTuningJob")]
    [InlineData("sagemaker:CreateTrainingJob")]
    [InlineData("sagemaker:DescribeTrainingJob")]
    [InlineData("sagemaker:StopTrainingJob")]
    [InlineData("sagemaker:CreateModel")]
    [InlineData("sagemaker:CreateTransformJob")]
    [InlineData("sagemaker:DescribeTransformJob")]
    [InlineData("sagemaker:StopTransformJob")]
    [InlineData("sagemaker:CreateModelPackage")]
    [InlineData("sagemaker:ListModelPackages")]
    [InlineData("sagemaker:DescribeModelPackage")]
    [InlineData("sagemaker:AddTags")]
    [InlineData("sagemaker:ListTags")]
    [InlineData("athena:GetDataCatalog")]
    [InlineData("lakeformation:GetDataAccess")]
    [InlineData("glue:BatchGetPartition")]
    [InlineData("events:PutTargets")]
    [InlineData("events:PutRule")]
    [InlineData("events:DescribeRule")]
    [InlineData("athena:StartQueryExecution")]
    [InlineData("athena:GetQueryExecution")]
    [InlineData("athena:StopQueryExecution")]
    [InlineData("athena:GetQueryResults")]
    [InlineData("glue:GetDatabase")]
    [InlineData("glue:GetTable")]
    [InlineData("glue:GetPartitions")]
    [InlineData("s3:GetObject")]
    [InlineData("s3:PutObject")]
    [InlineData("s3:ListBucket")]
    [InlineData("lambda:InvokeFunction")]
    [InlineData("sns:Publish")]
    [InlineData("kms:GenerateDataKey")]
    [InlineData("iam:PassRole")]
    public void State_machine_role_has_each_permission_its_integrations_need(string action) =>
        Assert.Contains(action, Actions(stack, StateMachineRole(stack)));

    [Fact]
    public void State_machine_role_grants_every_action_AWS_documents_for_each_integration_on_this_deployments_resources()
    {
        // The full-featured stack uses every integration of the definition (the endpoint ones included).
        var statements = Allows(full, StateMachineRole(full)).ToList();
        var integrations = IntegrationPermissions.TaskResources(full.Definition)
            .Select(r => r.Resource.StartsWith("${", StringComparison.Ordinal) ? "arn:aws:states:::lambda:invoke" : r.Resource).Distinct().ToList();
        Assert.NotEmpty(integrations);
        foreach (var integration in integrations)
        {
            Assert.True(IntegrationPermissions.DocumentedActions.TryGetValue(integration, out var documented), $"{integration}: no documented actions");
            foreach (var action in documented!)
            {
                var resources = Resources(statements, action);
                Assert.True(resources.Count > 0, $"{integration} needs {action} (AWS's IAM page for it), which the role does not grant");
                if (PolicyRules.StarResourceAllowList.ContainsKey(action)) continue;
                // Scoped: named resources, a deployment's name prefix, or a logical id, never a whole type or account.
                Assert.All(resources, r => Assert.DoesNotMatch(@"^\*$|:::\*$|:[a-z-]+/\*$", r));
            }
        }
    }

    [Theory]
    [InlineData("sagemaker:CreateEndpointConfig")]
    [InlineData("sagemaker:UpdateEndpoint")]
    [InlineData("sagemaker:DescribeEndpoint")]
    public void Endpoint_permissions_exist_only_with_the_endpoint_flag(string action)
    {
        Assert.DoesNotContain(action, Actions(stack, StateMachineRole(stack)));
        Assert.Contains(action, Actions(full, StateMachineRole(full)));
    }

    [Fact]
    public void Endpoint_update_is_scoped_to_the_configured_endpoint()
    {
        var statement = Allows(full, StateMachineRole(full)).Single(s => CloudFormation.List(s["Action"]).Contains("sagemaker:UpdateEndpoint"));
        var resources = CloudFormation.List(statement["Resource"]);
        Assert.Contains("arn:aws:sagemaker:us-east-1:123456789012:endpoint/retail-weekly-sales", resources);
        Assert.All(resources, r => Assert.Matches(@":endpoint(-config)?/(retail-weekly-sales|retail-epc-\*)$", r));
    }

    [Fact]
    public void Pass_role_is_only_for_the_sagemaker_execution_role_and_only_to_sagemaker()
    {
        var passRole = CloudFormation.Statements(stack.Json)
            .Where(s => (string?)s.Statement["Effect"] == "Allow" && CloudFormation.List(s.Statement["Action"]).Contains("iam:PassRole"))
            .ToList();
        Assert.NotEmpty(passRole);
        var executionRole = stack.Resources("AWS::IAM::Role").Single(r => r.LogicalId.StartsWith("SageMakerExecutionRole", StringComparison.Ordinal)).LogicalId;
        foreach (var (owner, statement) in passRole)
        {
            Assert.Equal(["iam:PassRole"], CloudFormation.List(statement["Action"]));
            Assert.Equal([$"{executionRole}.Arn"], CloudFormation.List(statement["Resource"]));
            Assert.Equal("sagemaker.amazonaws.com", (string?)statement["Condition"]?["StringEquals"]?["iam:PassedToService"]);
        }
    }

    [Fact]
    public void Sagemaker_jobs_are_scoped_to_the_deployments_name_prefix()
    {
        foreach (var (deployment, prefix) in new[] { (stack, "mlops"), ((SynthesizedStack)full, "retail") })
            foreach (var statement in Allows(deployment, StateMachineRole(deployment)))
            {
                var actions = CloudFormation.List(statement["Action"]);
                if (!actions.Any(a => a.StartsWith("sagemaker:", StringComparison.Ordinal)) || actions.SequenceEqual(["sagemaker:ListModelPackages"])) continue;
                Assert.All(CloudFormation.List(statement["Resource"]), r => Assert.Matches(
                    $@"^arn:aws:sagemaker:us-east-1:123456789012:(hyper-parameter-tuning-job/{prefix}-tune-\*|training-job/{prefix}-(train|tune)-\*|model/{prefix}-model-\*|transform-job/{prefix}-(eval|forecast)-\*|endpoint-config/{prefix}-epc-\*|endpoint/{prefix}-weekly-sales|model-package/{prefix}-weekly-sales-5e1d2c3b/\*|model-package-group/{prefix}-weekly-sales-5e1d2c3b)$", r));
            }
    }

    [Fact]
    public void Job_names_the_run_preparation_makes_fall_under_the_scoped_arns()
    {
        var names = Core.SageMaker.JobNames.For("a-rather-long-execution-name-from-eventbridge_1234", "arn:x", stack.Settings.Prefix);
        var prefixes = stack.Stack.SageMaker.NamePrefixes;
        Assert.StartsWith(prefixes["hyper-parameter-tuning-job"][0], names.Tuning);
        Assert.True(names.Tuning.Length <= 32);
        Assert.Contains(prefixes["training-job"], p => names.Training.StartsWith(p, StringComparison.Ordinal));
        Assert.Contains(prefixes["training-job"], p => names.Tuning.StartsWith(p, StringComparison.Ordinal)); // the tuning job's trials
        Assert.StartsWith(prefixes["model"][0], names.Model);
        Assert.Contains(prefixes["transform-job"], p => names.Transform.StartsWith(p, StringComparison.Ordinal));
        Assert.Contains(prefixes["transform-job"], p => names.Forecast.StartsWith(p, StringComparison.Ordinal));
        Assert.StartsWith(prefixes["endpoint-config"][0], names.EndpointConfig);
        // The longest prefix still leaves a tuning job name within SageMaker's 32 characters.
        Assert.True(Core.SageMaker.JobNames.For("x", null, new string('p', Core.SageMaker.JobNames.MaxPrefixLength)).Tuning.Length <= 32);
    }

    [Fact]
    public void Jobs_encrypt_with_the_stacks_job_key_which_the_creator_hands_over_only_to_aws_resources()
    {
        var jobKey = stack.Resources("AWS::KMS::Key").Single(k => k.LogicalId.StartsWith("SageMakerJobKey", StringComparison.Ordinal)).LogicalId;
        Assert.Equal($"{jobKey}.Arn", CloudFormation.Resolve(stack.RetrainingMachine.Resource["Properties"]!["DefinitionSubstitutions"]!["SageMakerKmsKeyArn"]));
        var statements = Allows(stack, StateMachineRole(stack)).ToList();
        var grant = statements.Single(s => CloudFormation.List(s["Action"]).SequenceEqual(["kms:CreateGrant"]));
        Assert.Equal([$"{jobKey}.Arn"], CloudFormation.List(grant["Resource"]));
        Assert.Equal("true", grant["Condition"]!["Bool"]!["kms:GrantIsForAWSResource"]!.ToString());
        var role = stack.Resources("AWS::IAM::Role").Single(r => r.LogicalId.StartsWith("SageMakerExecutionRole", StringComparison.Ordinal)).LogicalId;
        Assert.Equal([$"{jobKey}.Arn"], Resources(Allows(stack, role).ToList(), "kms:GenerateDataKey"));
    }

    [Fact]
    public void An_existing_topic_receives_the_runs_notifications_and_the_alarms()
    {
        Assert.Empty(existing.Resources("AWS::SNS::Topic"));
        Assert.Equal([ExistingTopicStack.TopicArn], Resources(Allows(existing, StateMachineRole(existing)).ToList(), "sns:Publish"));
        Assert.Equal([ExistingTopicStack.TopicKeyArn], Resources(Allows(existing, StateMachineRole(existing)).ToList(), "kms:GenerateDataKey")
            .Where(r => !r.Contains("JobKey", StringComparison.Ordinal)).ToList());
        Assert.All(existing.Resources("AWS::CloudWatch::Alarm"), a => Assert.Equal([ExistingTopicStack.TopicArn], CloudFormation.List(a.Resource["Properties"]!["AlarmActions"])));
        Assert.Empty(Amazon.CDK.Assertions.Annotations.FromStack(existing.Stack).FindWarning("*", Amazon.CDK.Assertions.Match.StringLikeRegexp("No one receives")));
    }

    [Fact]
    public void Sync_integrations_may_manage_only_the_step_functions_sagemaker_rules()
    {
        var rules = Allows(stack, StateMachineRole(stack))
            .Where(s => CloudFormation.List(s["Action"]).Any(a => a.StartsWith("events:", StringComparison.Ordinal)))
            .SelectMany(s => CloudFormation.List(s["Resource"])).ToList();
        Assert.Equal(3, rules.Count); // tuning, training, transform
        Assert.All(rules, r => Assert.Matches(@"^arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForSageMaker\w+JobsRule$", r));
    }

    [Fact]
    public void State_machine_invokes_exactly_the_four_stage_functions()
    {
        var functions = stack.Resources("AWS::Lambda::Function")
            .Where(f => !((string?)f.Resource["Properties"]!["Handler"])!.EndsWith(".FailureNotifierFunction::Handle", StringComparison.Ordinal))
            .Select(f => $"{f.LogicalId}.Arn").ToHashSet();
        Assert.Equal(4, functions.Count);
        var resources = Allows(stack, StateMachineRole(stack))
            .Where(s => CloudFormation.List(s["Action"]).Contains("lambda:InvokeFunction"))
            .SelectMany(s => CloudFormation.List(s["Resource"])).ToHashSet();
        Assert.Equal(functions.Concat(functions.Select(f => f + ":*")).ToHashSet(), resources);
    }

    [Fact]
    public void Athena_glue_and_sns_permissions_name_the_deployed_resources()
    {
        var statements = Allows(stack, StateMachineRole(stack)).ToList();
        Resources(statements, "athena:StartQueryExecution").ForEach(r => Assert.Equal("arn:aws:athena:us-east-1:123456789012:workgroup/mlops-retraining", r));
        Resources(statements, "glue:GetTable").ForEach(r => Assert.Matches(@"^arn:aws:glue:us-east-1:123456789012:(catalog|database/mlops_retraining|table/mlops_retraining/\*)$", r));
        Assert.Equal([stack.Single("AWS::SNS::Topic").LogicalId], Resources(statements, "sns:Publish"));
    }

    [Theory]
    // PrepareRun copies the upload into runs/; the others read the copy; all read what the encrypted jobs wrote.
    [InlineData("PrepareRunFunction", new[] { "s3:ListBucket", "s3:ListBucketVersions", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "kms:Decrypt" })]
    [InlineData("DataQualityVerdictFunction", new[] { "s3:ListBucket", "s3:GetObject", "s3:PutObject", "kms:Decrypt" })]
    [InlineData("MlflowLoggerFunction", new[] { "s3:ListBucket", "s3:GetObject", "s3:PutObject", "kms:Decrypt" })]
    [InlineData("EvaluationGateFunction", new[] { "s3:ListBucket", "s3:GetObject", "s3:PutObject", "kms:Decrypt" })]
    public void Each_stage_role_has_only_its_logs_tracing_and_data_permissions(string className, string[] data)
    {
        var role = FunctionRole(stack, className);
        var expected = new[] { "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords" }.Concat(data);
        Assert.Equal(expected.Order(), Actions(stack, role).Order());
        Assert.Empty(stack.Resources("AWS::IAM::Role").Single(r => r.LogicalId == role).Resource["Properties"]!["ManagedPolicyArns"]?.AsArray() ?? []);
    }

    [Fact]
    public void Mlflow_logger_reads_exactly_the_per_round_curves_in_the_artifacts_bucket_and_writes_nothing_there()
    {
        var statements = Allows(stack, FunctionRole(stack, "MlflowLoggerFunction")).ToList();
        var artifacts = statements.SelectMany(s => CloudFormation.List(s["Resource"]).Select(r => (Statement: s, Resource: r)))
            .Where(p => p.Resource.StartsWith("StorageArtifacts", StringComparison.Ordinal)).ToList();
        Assert.Contains(artifacts, p => Regex.IsMatch(p.Resource, @"^StorageArtifacts\w+\.Arn/runs/\*/models/\*/output/metric-curves\.json$")
            && CloudFormation.List(p.Statement["Action"]).SequenceEqual(["s3:GetObject"]));
        Assert.All(artifacts, p => Assert.DoesNotContain("s3:PutObject", CloudFormation.List(p.Statement["Action"])));
        Assert.All(artifacts.Where(p => CloudFormation.List(p.Statement["Action"]).Contains("s3:GetObject")),
            p => Assert.EndsWith("/output/metric-curves.json", p.Resource));
    }

    [Fact]
    public void Stage_roles_write_only_under_runs_and_read_raw_only_under_incoming()
    {
        foreach (var className in new[] { "PrepareRunFunction", "DataQualityVerdictFunction", "MlflowLoggerFunction", "EvaluationGateFunction" })
            foreach (var statement in Allows(stack, FunctionRole(stack, className)))
            {
                var actions = CloudFormation.List(statement["Action"]);
                if (actions.Contains("s3:PutObject"))
                    Assert.All(CloudFormation.List(statement["Resource"]), r => Assert.Matches(@"^StorageWork\w+\.Arn/runs/\*$", r));
                if (actions.Contains("s3:GetObjectVersion"))
                    Assert.All(CloudFormation.List(statement["Resource"]), r => Assert.Matches(@"^StorageRaw\w+\.Arn/incoming/\*$", r));
            }
    }

    [Fact]
    public void Sagemaker_execution_role_reaches_its_buckets_the_xgboost_image_and_its_logs_only()
    {
        var role = stack.Resources("AWS::IAM::Role").Single(r => r.LogicalId.StartsWith("SageMakerExecutionRole", StringComparison.Ordinal)).LogicalId;
        Assert.Equal(
            new[] { "cloudwatch:PutMetricData", "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetAuthorizationToken",
                "ecr:GetDownloadUrlForLayer", "kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents",
                "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:PutObject" },
            Actions(stack, role).Order());
        var statements = Allows(stack, role).ToList();
        Assert.Equal(["arn:aws:ecr:us-east-1:map:us-east-1:repository/sagemaker-xgboost"], Resources(statements, "ecr:BatchGetImage"));
        Assert.Equal(["arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/*"], Resources(statements, "logs:PutLogEvents"));
        Assert.All(Resources(statements, "s3:PutObject"), r => Assert.Matches(@"^Storage(Work|Artifacts)\w+\.Arn/runs/\*$", r));
    }

    [Fact]
    public void Xgboost_image_accounts_are_mapped_for_every_region_of_the_sdk_map()
    {
        var mapping = stack.Json["Mappings"]!["XgboostImageAccounts"]!.AsObject();
        Assert.Equal(Core.SageMaker.XgboostImageUris.Accounts.Keys.Order(), mapping.Select(p => p.Key).Order());
        Assert.Equal("683313688378", (string?)mapping["us-east-1"]!["account"]);
    }

    [Fact]
    public void Managed_mlflow_gets_exactly_the_sagemaker_mlflow_actions_it_calls_on_that_server()
    {
        var statements = Allows(full, FunctionRole(full, "MlflowLoggerFunction")).ToList();
        var mlflow = statements.Where(s => CloudFormation.List(s["Action"]).Any(a => a.StartsWith("sagemaker-mlflow:", StringComparison.Ordinal))).ToList();
        var statement = Assert.Single(mlflow);
        Assert.Equal([FullFeaturedStack.MlflowArn], CloudFormation.List(statement["Resource"]));
        Assert.Equal(
            new[] { "CreateExperiment", "CreateModelVersion", "CreateRegisteredModel", "CreateRun", "GetExperimentByName",
                "GetModelVersion", "GetModelVersionByAlias", "GetRegisteredModel", "LogBatch", "LogInputs", "SearchModelVersions", "SearchRuns",
                "SetExperimentTag", "SetRegisteredModelAlias", "UpdateRegisteredModel", "UpdateRun" }.Select(a => "sagemaker-mlflow:" + a),
            CloudFormation.List(statement["Action"]).Order());
        Assert.DoesNotContain(statements, s => CloudFormation.List(s["Action"]).Any(a => a.StartsWith("sagemaker-mlflow:", StringComparison.Ordinal)) && s != statement);
        Assert.DoesNotContain(Allows(stack, FunctionRole(stack, "MlflowLoggerFunction")),
            s => CloudFormation.List(s["Action"]).Any(a => a.StartsWith("sagemaker-mlflow:", StringComparison.Ordinal) || a.StartsWith("ssm:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Mlflow_credentials_are_readable_as_that_one_parameter_decrypted_only_through_ssm()
    {
        var statements = Allows(full, FunctionRole(full, "MlflowLoggerFunction")).ToList();
        Assert.Equal(["arn:aws:ssm:us-east-1:123456789012:parameter/retail/mlflow/credentials"], Resources(statements, "ssm:GetParameter"));
        var decrypt = statements.Single(s => CloudFormation.List(s["Action"]).SequenceEqual(["kms:Decrypt"]) && s["Condition"] is not null);
        Assert.Equal("ssm.us-east-1.amazonaws.com", CloudFormation.Resolve(decrypt["Condition"]!["StringEquals"]!["kms:ViaService"]));
        var env = full.Resources("AWS::Lambda::Function")
            .Single(f => ((string?)f.Resource["Properties"]!["Handler"])!.Contains("MlflowLoggerFunction", StringComparison.Ordinal))
            .Resource["Properties"]!["Environment"]!["Variables"]!;
        Assert.Equal(FullFeaturedStack.MlflowArn, (string?)env["MLFLOW_TRACKING_URI"]);
        Assert.Equal("/retail/mlflow/credentials", (string?)env["MLFLOW_CREDENTIALS_PARAMETER"]);
    }

    internal static string StateMachineRole(SynthesizedStack s) =>
        CloudFormation.Resolve(s.RetrainingMachine.Resource["Properties"]!["RoleArn"]).Split('.')[0];

    internal static string FunctionRole(SynthesizedStack s, string className) =>
        CloudFormation.Resolve(s.Resources("AWS::Lambda::Function")
            .Single(f => ((string?)f.Resource["Properties"]!["Handler"])!.EndsWith($".{className}::Handle", StringComparison.Ordinal))
            .Resource["Properties"]!["Role"]).Split('.')[0];

    private static IEnumerable<JsonObject> Allows(SynthesizedStack s, string role) => CloudFormation.AllowStatementsOf(s.Json, role);

    private static HashSet<string> Actions(SynthesizedStack s, string role) =>
        Allows(s, role).SelectMany(st => CloudFormation.List(st["Action"])).ToHashSet();

    private static List<string> Resources(IEnumerable<JsonObject> statements, string action) =>
        statements.Where(s => CloudFormation.List(s["Action"]).Contains(action)).SelectMany(s => CloudFormation.List(s["Resource"])).Distinct().ToList();
}
