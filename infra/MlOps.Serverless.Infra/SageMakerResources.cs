using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.KMS;
using Amazon.CDK.AWS.Sagemaker;
using Constructs;
using MlOps.Serverless.Core.SageMaker;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The SageMaker side: the execution role the training, tuning, model and transform jobs run with, the model
/// package group (the registry), the KMS key of the jobs' volumes and outputs, and the name of the optional
/// real-time endpoint. Job and model names come from <see cref="JobNames"/>: <c>{prefix}-tune-</c>,
/// <c>{prefix}-train-</c>, <c>{prefix}-model-</c>, <c>{prefix}-eval-</c>, <c>{prefix}-forecast-</c>,
/// <c>{prefix}-epc-</c>, which the IAM policies scope to, so two deployments in one account cannot touch each other's jobs.
/// </summary>
public sealed class SageMakerResources : Construct
{
    public Role ExecutionRole { get; }
    /// <summary><c>{prefix}-weekly-sales-{first 8 characters of the stack id}</c>: a new group per stack generation.</summary>
    public string ModelPackageGroupName { get; }
    public string? EndpointName { get; }
    /// <summary>Encrypts training/transform volumes, model artifacts and transform output.</summary>
    public CfnKey JobKey { get; }
    /// <summary>Name starts of <see cref="JobNames"/> by SageMaker resource type, for this deployment's prefix.</summary>
    public IReadOnlyDictionary<string, string[]> NamePrefixes { get; }

    public static IReadOnlyDictionary<string, string[]> NamePrefixesFor(string prefix) =>
        JobNames.KindsByResourceType.ToDictionary(p => p.Key, p => p.Value.Select(kind => JobNames.Start(kind, prefix)).ToArray());

    public SageMakerResources(Construct scope, string id, StackSettings settings, Buckets buckets) : base(scope, id)
    {
        var stack = Stack.Of(this);
        NamePrefixes = NamePrefixesFor(settings.Prefix);
        // The group is retained with the stack (it is history, and SageMaker refuses to delete a group holding model
        // packages), so a fixed name would make the next deployment after `cdk destroy` fail with "already exists".
        // The stack id's first block differs per stack creation: each generation gets its own group.
        var generation = Fn.Select(0, Fn.Split("-", Fn.Select(2, Fn.Split("/", stack.StackId))));
        ModelPackageGroupName = $"{settings.Prefix}-weekly-sales-{generation}";
        EndpointName = settings.DeployEndpoint ? settings.EndpointName : null;

        var registry = new CfnModelPackageGroup(this, "ModelPackageGroup", new CfnModelPackageGroupProps
        {
            ModelPackageGroupName = ModelPackageGroupName,
            ModelPackageGroupDescription = "Weekly sales XGBoost models from the retraining workflow (approved = champion)",
        });
        registry.ApplyRemovalPolicy(RemovalPolicy.RETAIN);

        JobKey = Monitoring.NewKey(this, "JobKey", "Encrypts the retraining workflow's SageMaker volumes, model artifacts and transform output");

        ExecutionRole = new Role(this, "ExecutionRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("sagemaker.amazonaws.com"),
            Description = "SageMaker jobs of the retraining workflow: its buckets, the XGBoost image, logs and metrics",
        });

        GrantRunData(ExecutionRole, buckets);
        GrantJobKey(ExecutionRole, JobKey);
        GrantXgboostImage(ExecutionRole);
        GrantJobLogsAndMetrics(ExecutionRole, stack);
    }

    private static void GrantRunData(Role role, Buckets buckets)
    {
        // Channels (train/validation/test features) and transform output live in the work bucket; model
        // artifacts and checkpoints in the artifact bucket.
        foreach (var statement in Buckets.ReadWriteRuns(buckets.Work)) role.AddToPolicy(statement);
        foreach (var statement in Buckets.ReadWriteRuns(buckets.Artifacts)) role.AddToPolicy(statement);
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["s3:GetBucketLocation"],
            Resources = [buckets.Work.BucketArn, buckets.Artifacts.BucketArn],
        }));
    }

    private static void GrantJobKey(Role role, CfnKey jobKey)
    {
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "EncryptJobOutputs",
            Actions = JobKeyActions.ToArray(),
            Resources = [jobKey.AttrArn],
        }));
    }

    private void GrantXgboostImage(Role role)
    {
        // ecr:GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "EcrLogin",
            Actions = ["ecr:GetAuthorizationToken"],
            Resources = ["*"],
        }));
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "PullBuiltInXgboostImage",
            Actions = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            Resources = [XgboostRepositoryArn(this)],
        }));
    }

    private static void GrantJobLogsAndMetrics(Role role, Stack stack)
    {
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "JobLogs",
            Actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resources =
            [
                stack.FormatArn(new ArnComponents { Service = "logs", Resource = "log-group", ArnFormat = ArnFormat.COLON_RESOURCE_NAME, ResourceName = "/aws/sagemaker/*" }),
            ],
        }));
        // cloudwatch:PutMetricData has no resource-level permissions: "*", limited to SageMaker's namespaces.
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "JobMetrics",
            Actions = ["cloudwatch:PutMetricData"],
            Resources = ["*"],
            Conditions = new Dictionary<string, object>
            {
                ["StringLike"] = new Dictionary<string, object> { ["cloudwatch:namespace"] = "/aws/sagemaker/*" },
            },
        }));
    }

    /// <summary>What a role that creates, runs or reads the encrypted jobs' outputs needs on <see cref="JobKey"/>
    /// (SageMaker attaches the volume key through a grant).</summary>
    public static IReadOnlyList<string> JobKeyActions { get; } =
        ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"];

    /// <summary>
    /// <c>arn:{partition}:ecr:{region}:{xgboost account}:repository/sagemaker-xgboost</c>. The stack is
    /// environment-agnostic, so the account comes from a region → account mapping of
    /// <see cref="XgboostImageUris.Accounts"/> (deploying to an unmapped region fails at deploy time).
    /// </summary>
    public static string XgboostRepositoryArn(Construct scope)
    {
        var stack = Stack.Of(scope);
        string account;
        if (!Token.IsUnresolved(stack.Region))
        {
            XgboostImageUris.For(stack.Region, XgboostImageUris.DefaultVersion); // names the region if unsupported
            account = XgboostImageUris.Accounts[stack.Region];
        }
        else
        {
            var mapping = stack.Node.TryFindChild("XgboostImageAccounts") as CfnMapping ?? new CfnMapping(stack, "XgboostImageAccounts", new CfnMappingProps
            {
                Mapping = XgboostImageUris.Accounts.ToDictionary(
                    p => p.Key, p => (IDictionary<string, object>)new Dictionary<string, object> { ["account"] = p.Value }),
            });
            account = mapping.FindInMap(Aws.REGION, "account");
        }
        return stack.FormatArn(new ArnComponents
        {
            Service = "ecr",
            Account = account,
            Resource = "repository",
            ResourceName = XgboostImageUris.Repository,
        });
    }
}
