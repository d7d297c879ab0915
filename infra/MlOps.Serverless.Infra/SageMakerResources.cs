using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.Sagemaker;
using Constructs;
using MlOps.Serverless.Core.SageMaker;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The SageMaker side: the execution role the training, tuning, model and transform jobs run with, the model
/// package group (the registry), and the name of the optional real-time endpoint.
/// Job and model names come from <see cref="JobNames"/>: <c>tune-</c>, <c>train-</c>, <c>model-</c>,
/// <c>eval-</c>, <c>forecast-</c>, <c>epc-</c> prefixes, which the IAM policies scope to.
/// </summary>
public sealed class SageMakerResources : Construct
{
    public Role ExecutionRole { get; }
    public string ModelPackageGroupName { get; }
    public string? EndpointName { get; }

    /// <summary>Name prefixes of <see cref="JobNames"/> by SageMaker resource type (tuning jobs start the training jobs they create).</summary>
    public static IReadOnlyDictionary<string, string[]> NamePrefixes { get; } = new Dictionary<string, string[]>
    {
        ["hyper-parameter-tuning-job"] = ["tune-"],
        ["training-job"] = ["train-", "tune-"],
        ["model"] = ["model-"],
        ["transform-job"] = ["eval-", "forecast-"],
        ["endpoint-config"] = ["epc-"],
    };

    public SageMakerResources(Construct scope, string id, StackSettings settings, Storage storage) : base(scope, id)
    {
        var stack = Stack.Of(this);
        ModelPackageGroupName = $"{settings.Prefix}-weekly-sales";
        EndpointName = settings.DeployEndpoint ? settings.EndpointName : null;

        var registry = new CfnModelPackageGroup(this, "ModelPackageGroup", new CfnModelPackageGroupProps
        {
            ModelPackageGroupName = ModelPackageGroupName,
            ModelPackageGroupDescription = "Weekly sales XGBoost models from the retraining workflow (approved = champion)",
        });
        // The registry is history (and SageMaker refuses to delete a group that holds model packages).
        registry.ApplyRemovalPolicy(RemovalPolicy.RETAIN);

        ExecutionRole = new Role(this, "ExecutionRole", new RoleProps
        {
            AssumedBy = new ServicePrincipal("sagemaker.amazonaws.com"),
            Description = "SageMaker jobs of the retraining workflow: its buckets, the XGBoost image, logs and metrics",
        });

        // Channels (train/validation/test features) and transform output live in the work bucket; model
        // artifacts and checkpoints in the artifact bucket.
        foreach (var statement in Storage.ReadWriteRuns(storage.Work)) ExecutionRole.AddToPolicy(statement);
        foreach (var statement in Storage.ReadWriteRuns(storage.Artifacts)) ExecutionRole.AddToPolicy(statement);
        ExecutionRole.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Actions = ["s3:GetBucketLocation"],
            Resources = [storage.Work.BucketArn, storage.Artifacts.BucketArn],
        }));

        // ecr:GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
        ExecutionRole.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "EcrLogin",
            Actions = ["ecr:GetAuthorizationToken"],
            Resources = ["*"],
        }));
        ExecutionRole.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "PullBuiltInXgboostImage",
            Actions = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            Resources = [XgboostRepositoryArn(this)],
        }));
        ExecutionRole.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "JobLogs",
            Actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            Resources =
            [
                stack.FormatArn(new ArnComponents { Service = "logs", Resource = "log-group", ArnFormat = ArnFormat.COLON_RESOURCE_NAME, ResourceName = "/aws/sagemaker/*" }),
            ],
        }));
        // cloudwatch:PutMetricData has no resource-level permissions: "*", limited to SageMaker's namespaces.
        ExecutionRole.AddToPolicy(new PolicyStatement(new PolicyStatementProps
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
