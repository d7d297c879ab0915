using System.Text.Json.Nodes;

namespace MlOps.Serverless.Infra.Tests;

[Collection(CdkCollection.Name)]
public sealed class IamTests(DefaultStack stack, FullFeaturedStack full)
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
        Assert.All(resources, r => Assert.Matches(@":endpoint(-config)?/(retail-weekly-sales|epc-\*)$", r));
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
    public void Sagemaker_jobs_are_scoped_to_the_workflow_name_prefixes()
    {
        foreach (var statement in Allows(stack, StateMachineRole(stack)))
        {
            var actions = CloudFormation.List(statement["Action"]);
            if (!actions.Any(a => a.StartsWith("sagemaker:", StringComparison.Ordinal)) || actions.SequenceEqual(["sagemaker:ListModelPackages"])) continue;
            Assert.All(CloudFormation.List(statement["Resource"]), r => Assert.Matches(
                @"^arn:aws:sagemaker:us-east-1:123456789012:(hyper-parameter-tuning-job/tune-\*|training-job/(train|tune)-\*|model/model-\*|transform-job/(eval|forecast)-\*|model-package/mlops-weekly-sales/\*|model-package-group/mlops-weekly-sales)$", r));
        }
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
        var functions = stack.Resources("AWS::Lambda::Function").Select(f => $"{f.LogicalId}.Arn").ToHashSet();
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
    [InlineData("PrepareRunFunction", new[] { "s3:ListBucket", "s3:ListBucketVersions", "s3:GetObject", "s3:GetObjectVersion" })]
    [InlineData("DataQualityVerdictFunction", new[] { "s3:ListBucket", "s3:ListBucketVersions", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject" })]
    [InlineData("MlflowLoggingFunction", new[] { "s3:ListBucket", "s3:GetObject", "s3:PutObject" })]
    [InlineData("EvaluationGateFunction", new[] { "s3:ListBucket", "s3:GetObject", "s3:PutObject" })]
    public void Each_stage_role_has_only_its_logs_tracing_and_data_permissions(string className, string[] data)
    {
        var role = FunctionRole(stack, className);
        var expected = new[] { "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords" }.Concat(data);
        Assert.Equal(expected.Order(), Actions(stack, role).Order());
        Assert.Empty(stack.Resources("AWS::IAM::Role").Single(r => r.LogicalId == role).Resource["Properties"]!["ManagedPolicyArns"]?.AsArray() ?? []);
    }

    [Fact]
    public void Stage_roles_write_only_under_runs_and_read_raw_only_under_incoming()
    {
        foreach (var className in new[] { "PrepareRunFunction", "DataQualityVerdictFunction", "MlflowLoggingFunction", "EvaluationGateFunction" })
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
                "ecr:GetDownloadUrlForLayer", "logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents",
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
        var statements = Allows(full, FunctionRole(full, "MlflowLoggingFunction")).ToList();
        var mlflow = statements.Where(s => CloudFormation.List(s["Action"]).Any(a => a.StartsWith("sagemaker-mlflow:", StringComparison.Ordinal))).ToList();
        var statement = Assert.Single(mlflow);
        Assert.Equal([FullFeaturedStack.MlflowArn], CloudFormation.List(statement["Resource"]));
        Assert.Equal(
            new[] { "CreateExperiment", "CreateModelVersion", "CreateRegisteredModel", "CreateRun", "GetExperimentByName",
                "GetModelVersion", "GetModelVersionByAlias", "GetRegisteredModel", "LogBatch", "LogInputs", "SearchModelVersions", "SearchRuns",
                "SetExperimentTag", "SetRegisteredModelAlias", "UpdateRegisteredModel", "UpdateRun" }.Select(a => "sagemaker-mlflow:" + a),
            CloudFormation.List(statement["Action"]).Order());
        Assert.DoesNotContain(statements, s => CloudFormation.List(s["Action"]).Any(a => a.StartsWith("sagemaker-mlflow:", StringComparison.Ordinal)) && s != statement);
        Assert.DoesNotContain(Allows(stack, FunctionRole(stack, "MlflowLoggingFunction")),
            s => CloudFormation.List(s["Action"]).Any(a => a.StartsWith("sagemaker-mlflow:", StringComparison.Ordinal) || a.StartsWith("ssm:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Mlflow_credentials_are_readable_as_that_one_parameter_decrypted_only_through_ssm()
    {
        var statements = Allows(full, FunctionRole(full, "MlflowLoggingFunction")).ToList();
        Assert.Equal(["arn:aws:ssm:us-east-1:123456789012:parameter/retail/mlflow/credentials"], Resources(statements, "ssm:GetParameter"));
        var decrypt = statements.Single(s => CloudFormation.List(s["Action"]).SequenceEqual(["kms:Decrypt"]));
        Assert.Equal("ssm.us-east-1.amazonaws.com", CloudFormation.Resolve(decrypt["Condition"]!["StringEquals"]!["kms:ViaService"]));
        var env = full.Resources("AWS::Lambda::Function")
            .Single(f => ((string?)f.Resource["Properties"]!["Handler"])!.Contains("MlflowLoggingFunction", StringComparison.Ordinal))
            .Resource["Properties"]!["Environment"]!["Variables"]!;
        Assert.Equal(FullFeaturedStack.MlflowArn, (string?)env["MLFLOW_TRACKING_URI"]);
        Assert.Equal("/retail/mlflow/credentials", (string?)env["MLFLOW_CREDENTIALS_PARAMETER"]);
    }

    internal static string StateMachineRole(SynthesizedStack s) =>
        CloudFormation.Resolve(s.Single("AWS::StepFunctions::StateMachine").Resource["Properties"]!["RoleArn"]).Split('.')[0];

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
