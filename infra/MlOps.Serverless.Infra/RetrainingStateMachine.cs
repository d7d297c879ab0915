using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.KMS;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The Standard state machine, from the ASL file with its <c>${Placeholder}</c>s filled by CloudFormation's
/// DefinitionSubstitutions, and its role derived from the definition's integrations.
/// </summary>
public sealed class RetrainingStateMachine : Construct
{
    public StateMachine StateMachine { get; }
    public Role Role { get; }
    /// <summary>The execution log (level ALL); the MLflow deferral alarm counts states in it.</summary>
    public LogGroup LogGroup { get; }
    /// <summary>The placeholder values as passed to CloudFormation (JSON-string-escaped; ARNs are tokens here).</summary>
    public IReadOnlyDictionary<string, string> Substitutions { get; }

    public RetrainingStateMachine(Construct scope, string id, StackSettings settings, string definition, WorkflowTargets targets, StageFunctions functions) : base(scope, id)
    {
        var stack = Stack.Of(this);
        Substitutions = FillPlaceholders(definition, Values(targets, functions));

        Role = new Role(this, "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("states.amazonaws.com"),
            Description = "Retraining state machine: exactly the integrations its definition uses",
        });
        foreach (var statement in IntegrationPermissions.For(definition, targets, stack, settings.DeployEndpoint))
            Role.AddToPolicy(statement);
        GrantJobKey(Role, targets.SageMaker.JobKey);

        // Execution data is safe to log: secrets never travel in state payloads (the MLflow stage reads its
        // credentials from SSM itself), and payloads carry S3 pointers, not data.
        (StateMachine, LogGroup) = Logged(this, settings, "retraining", StateMachineType.STANDARD, definition, Substitutions, Role);
    }

    /// <summary>
    /// A state machine of this deployment, <c>{prefix}-{name}</c>, traced and logging every event with its data to its
    /// own log group (construct ids "StateMachine" and "Logs" under <paramref name="scope"/>).
    /// </summary>
    public static (StateMachine StateMachine, LogGroup LogGroup) Logged(Construct scope, StackSettings settings, string name,
        StateMachineType type, string definition, IReadOnlyDictionary<string, string> substitutions, Role role)
    {
        var logGroup = new LogGroup(scope, "Logs", new LogGroupProps
        {
            // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy small (Step Functions docs).
            LogGroupName = $"/aws/vendedlogs/states/{settings.Prefix}-{name}",
            Retention = StageFunctions.Retention(settings.LogRetentionDays),
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        var stateMachine = new StateMachine(scope, "StateMachine", new StateMachineProps
        {
            StateMachineName = $"{settings.Prefix}-{name}",
            StateMachineType = type,
            DefinitionBody = DefinitionBody.FromString(definition),
            DefinitionSubstitutions = new Dictionary<string, string>(substitutions),
            Role = role,
            TracingEnabled = true,
            Logs = new LogOptions { Destination = logGroup, Level = LogLevel.ALL, IncludeExecutionData = true },
        });
        return (stateMachine, logGroup);
    }

    private static void GrantJobKey(Role role, CfnKey jobKey)
    {
        // The jobs' volumes and outputs are encrypted with the job key: the creating call hands it to SageMaker (a grant),
        // and Athena (evaluation) and CreateModelPackage read what the jobs wrote.
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "ReadJobOutputs",
            Actions = ["kms:Decrypt", "kms:DescribeKey"],
            Resources = [jobKey.AttrArn],
        }));
        role.AddToPolicy(new PolicyStatement(new PolicyStatementProps
        {
            Sid = "HandJobKeyToSageMaker",
            Actions = ["kms:CreateGrant"],
            Resources = [jobKey.AttrArn],
            Conditions = new Dictionary<string, object>
            {
                ["Bool"] = new Dictionary<string, object> { ["kms:GrantIsForAWSResource"] = "true" },
            },
        }));
    }

    /// <summary>Reads the ASL file, failing with the path when it is missing.</summary>
    public static string LoadDefinition(string path)
    {
        var full = Path.GetFullPath(path);
        return File.Exists(full)
            ? File.ReadAllText(full)
            : throw new InvalidConfiguration($"context 'definitionPath': the state machine definition {full} does not exist (run cdk from the repository root)");
    }

    /// <summary>Every value the stack can provide, by placeholder name (unescaped).</summary>
    public static Dictionary<string, string> Values(WorkflowTargets targets, StageFunctions functions)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["RawBucket"] = targets.Buckets.Raw.BucketName,
            ["WorkBucket"] = targets.Buckets.Work.BucketName,
            ["ArtifactBucket"] = targets.Buckets.Artifacts.BucketName,
            ["AthenaWorkGroup"] = targets.Queries.WorkGroupName,
            ["GlueDatabase"] = targets.Queries.DatabaseName,
            ["SageMakerRoleArn"] = targets.SageMaker.ExecutionRole.RoleArn,
            ["SageMakerKmsKeyArn"] = targets.SageMaker.JobKey.AttrArn,
            ["ModelPackageGroupName"] = targets.SageMaker.ModelPackageGroupName,
            // Without the endpoint flag the name is still defined, but the role cannot touch it.
            ["EndpointName"] = targets.SageMaker.EndpointName ?? "endpoint-disabled",
            ["NotificationTopicArn"] = targets.TopicArn,
        };
        foreach (var (stage, function) in functions.Functions) values[stage.Placeholder] = function.FunctionArn;
        foreach (var (placeholder, value) in SqlTemplates.DefinitionSubstitutions()) values[placeholder] = value;
        return values;
    }

    /// <summary>
    /// The substitutions the definition uses, escaped for their place inside JSON strings. A placeholder the
    /// stack cannot fill fails the synth here, not the deployment.
    /// </summary>
    public static Dictionary<string, string> FillPlaceholders(string definition, IReadOnlyDictionary<string, string> values)
    {
        var placeholders = DefinitionTemplate.Placeholders(definition);
        var missing = placeholders.Where(p => !values.ContainsKey(p)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
            throw new InvalidConfiguration(
                $"The state machine definition uses placeholder(s) the CDK stack does not fill: {string.Join(", ", missing.Select(m => "${" + m + "}"))}. " +
                $"The stack provides: {string.Join(", ", values.Keys.Order(StringComparer.Ordinal))}");
        return placeholders.Order(StringComparer.Ordinal)
            .ToDictionary(p => p, p => DefinitionTemplate.EscapeForJsonString(values[p]), StringComparer.Ordinal);
    }
}
