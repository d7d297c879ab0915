using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Infra;

/// <summary>What the state machine role may touch: the deployed resources its integrations act on.</summary>
public sealed record WorkflowTargets(
    Storage Storage,
    QueryEngine Queries,
    SageMakerResources SageMaker,
    IReadOnlyList<string> FunctionArns,
    string TopicArn,
    string? TopicKeyArn);

/// <summary>
/// Derives the state machine role's policy from the Task states of the definition itself: each integration
/// (<c>Resource</c>) maps to exactly the IAM actions Step Functions documents for it, on the deployed
/// resources. An integration without a mapping fails the synth, so the role can never silently lag behind
/// the definition.
/// </summary>
public static class IntegrationPermissions
{
    private const string States = "arn:aws:states:::";

    /// <summary>Every Task state's <c>Resource</c> (also inside Parallel branches and Map processors), with the state name.</summary>
    public static IReadOnlyList<(string State, string Resource)> TaskResources(string definition)
    {
        var found = new List<(string, string)>();
        void Walk(JsonObject? states)
        {
            foreach (var (name, node) in states ?? [])
            {
                if (node is not JsonObject state) continue;
                if ((string?)state["Type"] == "Task" && state["Resource"] is JsonValue resource)
                    found.Add((name, (string)resource!));
                foreach (var branch in state["Branches"] as JsonArray ?? []) Walk(branch?["States"] as JsonObject);
                Walk(state["Iterator"]?["States"] as JsonObject);
                Walk(state["ItemProcessor"]?["States"] as JsonObject);
            }
        }
        Walk(JsonNode.Parse(definition)?["States"] as JsonObject);
        return found;
    }

    /// <summary>The statements for every integration the definition uses; <paramref name="endpoint"/> gates the endpoint ones.</summary>
    public static IReadOnlyList<PolicyStatement> For(string definition, WorkflowTargets targets, Stack stack, bool endpoint)
    {
        var resources = TaskResources(definition);
        var unknown = Unmapped(definition);
        if (unknown.Count > 0)
            throw new InvalidConfiguration(
                $"The state machine definition uses integration(s) the CDK app has no IAM mapping for: {string.Join(", ", unknown)}. " +
                "Add them to IntegrationPermissions so the role grants exactly what they need.");
        return resources.Select(r => r.Resource).Distinct().Order(StringComparer.Ordinal)
            .SelectMany(r => Statements(r, targets, stack, endpoint))
            .ToList();
    }

    /// <summary>Task states whose integration has no IAM mapping, as <c>State (Resource)</c>.</summary>
    public static IReadOnlyList<string> Unmapped(string definition) =>
        TaskResources(definition).Where(r => !Mapping.ContainsKey(Normalize(r.Resource))).Select(r => $"{r.State} ({r.Resource})").ToList();

    /// <summary>The integrations this app can grant (Task <c>Resource</c> values).</summary>
    public static IReadOnlyCollection<string> Supported => Mapping.Keys;

    /// <summary>Direct Lambda ARNs (<c>${...FunctionArn}</c>) are invocations like <c>lambda:invoke</c>.</summary>
    private static string Normalize(string resource) =>
        resource.StartsWith("${", StringComparison.Ordinal) && resource.EndsWith("FunctionArn}", StringComparison.Ordinal)
            ? States + "lambda:invoke"
            : resource;

    private delegate IEnumerable<PolicyStatement> Grant(WorkflowTargets t, Stack s, bool endpoint);

    private static IEnumerable<PolicyStatement> Statements(string resource, WorkflowTargets t, Stack s, bool endpoint) =>
        Mapping[Normalize(resource)](t, s, endpoint);

    private static readonly Dictionary<string, Grant> Mapping = new(StringComparer.Ordinal)
    {
        [States + "lambda:invoke"] = (t, _, _) => [Allow(["lambda:InvokeFunction"], [.. t.FunctionArns, .. t.FunctionArns.Select(a => a + ":*")])],

        [States + "athena:startQueryExecution.sync"] = (t, s, _) => Athena(t, s, sync: true),
        [States + "athena:startQueryExecution"] = (t, s, _) => Athena(t, s, sync: false),
        [States + "athena:getQueryResults"] = (t, s, _) =>
        [
            Allow(["athena:GetQueryResults"], [WorkGroupArn(t, s)]),
            Allow(["s3:GetObject"], [t.Storage.AthenaResults.ArnForObjects("*")]),
        ],

        [States + "sagemaker:createHyperParameterTuningJob.sync"] = (t, s, _) =>
        [
            Allow(["sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob", "sagemaker:StopHyperParameterTuningJob",
                   "sagemaker:ListTrainingJobsForHyperParameterTuningJob"], SageMakerArns(s, "hyper-parameter-tuning-job")),
            Tagging(s, "hyper-parameter-tuning-job", "training-job"),
            ManagedRule(s, "StepFunctionsGetEventsForSageMakerTuningJobsRule"),
            PassExecutionRole(t),
        ],
        [States + "sagemaker:createTrainingJob.sync"] = (t, s, _) =>
        [
            Allow(["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob"], SageMakerArns(s, "training-job")),
            Tagging(s, "training-job"),
            ManagedRule(s, "StepFunctionsGetEventsForSageMakerTrainingJobsRule"),
            PassExecutionRole(t),
        ],
        [States + "sagemaker:createTransformJob.sync"] = (_, s, _) =>
        [
            Allow(["sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob"], SageMakerArns(s, "transform-job")),
            Tagging(s, "transform-job"),
            ManagedRule(s, "StepFunctionsGetEventsForSageMakerTransformJobsRule"),
        ],
        [States + "sagemaker:createModel"] = (t, s, _) =>
        [
            Allow(["sagemaker:CreateModel"], SageMakerArns(s, "model")),
            Tagging(s, "model"),
            PassExecutionRole(t),
        ],
        [States + "aws-sdk:sagemaker:listTrainingJobsForHyperParameterTuningJob"] = (_, s, _) =>
            [Allow(["sagemaker:ListTrainingJobsForHyperParameterTuningJob"], SageMakerArns(s, "hyper-parameter-tuning-job"))],
        [States + "aws-sdk:sagemaker:describeTrainingJob"] = (_, s, _) =>
            [Allow(["sagemaker:DescribeTrainingJob"], SageMakerArns(s, "training-job"))],
        // sagemaker:ListModelPackages has no resource-level permissions: "*" is the only valid resource.
        [States + "aws-sdk:sagemaker:listModelPackages"] = (_, _, _) => [Allow(["sagemaker:ListModelPackages"], ["*"])],
        [States + "aws-sdk:sagemaker:describeModelPackage"] = (t, s, _) =>
            [Allow(["sagemaker:DescribeModelPackage"], [ModelPackageArn(t, s)])],
        [States + "aws-sdk:sagemaker:createModelPackage"] = (t, s, _) =>
        [
            Allow(["sagemaker:CreateModelPackage"], [ModelPackageArn(t, s), ModelPackageGroupArn(t, s)]),
            Allow(["sagemaker:AddTags"], [ModelPackageArn(t, s)]),
            // SageMaker validates the model artifact with the caller's credentials.
            Allow(["s3:GetObject"], [t.Storage.Artifacts.ArnForObjects(Storage.RunsPrefix + "*")]),
        ],
        [States + "sagemaker:createEndpointConfig"] = (_, s, endpoint) => endpoint
            ? [Allow(["sagemaker:CreateEndpointConfig"], SageMakerArns(s, "endpoint-config")), Tagging(s, "endpoint-config")]
            : [],
        [States + "sagemaker:updateEndpoint"] = (t, s, endpoint) => endpoint
            ? [Allow(["sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpoint"], [EndpointArn(t, s), .. SageMakerArns(s, "endpoint-config")])]
            : [],

        [States + "sns:publish"] = (t, _, _) =>
        [
            Allow(["sns:Publish"], [t.TopicArn]),
            // An encrypted topic needs a data key (an existing topic may use a key the stack does not know).
            .. t.TopicKeyArn is { } key ? [Allow(["kms:GenerateDataKey", "kms:Decrypt"], [key])] : Array.Empty<PolicyStatement>(),
        ],
    };

    /// <summary>Athena runs the query with the caller's credentials: Glue metadata, the run's input copy and
    /// UNLOAD targets and the workgroup's result location.</summary>
    private static IEnumerable<PolicyStatement> Athena(WorkflowTargets t, Stack s, bool sync)
    {
        var storage = t.Storage;
        yield return Allow(
            sync ? ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"] : ["athena:StartQueryExecution"],
            [WorkGroupArn(t, s)]);
        yield return Allow(["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"],
        [
            s.FormatArn(new ArnComponents { Service = "glue", Resource = "catalog" }),
            s.FormatArn(new ArnComponents { Service = "glue", Resource = "database", ResourceName = t.Queries.DatabaseName }),
            s.FormatArn(new ArnComponents { Service = "glue", Resource = "table", ResourceName = t.Queries.DatabaseName + "/*" }),
        ]);
        // The raw tables read the run's copy under runs/ (PrepareRun makes it), never the upload bucket.
        yield return Allow(["s3:GetBucketLocation"], [storage.Work.BucketArn, storage.AthenaResults.BucketArn]);
        yield return Storage.List(storage.Work, Storage.RunsPrefix, "s3:ListBucket", "s3:ListBucketMultipartUploads");
        yield return Storage.Objects(storage.Work, Storage.RunsPrefix,
            "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts");
        yield return Storage.List(storage.AthenaResults, "query-results/", "s3:ListBucket", "s3:ListBucketMultipartUploads");
        yield return Storage.Objects(storage.AthenaResults, "query-results/",
            "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts");
    }

    private static PolicyStatement Allow(string[] actions, string[] resources) =>
        new(new PolicyStatementProps { Actions = actions, Resources = resources });

    /// <summary>Tags on create (<c>Tags</c> in the request) are authorised as <c>sagemaker:AddTags</c>.</summary>
    private static PolicyStatement Tagging(Stack s, params string[] types) =>
        Allow(["sagemaker:AddTags"], types.SelectMany(type => SageMakerArns(s, type)).Distinct().ToArray());

    /// <summary>The .sync pattern: Step Functions creates and reads an EventBridge managed rule to learn when the job ends.</summary>
    private static PolicyStatement ManagedRule(Stack s, string rule) =>
        Allow(["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            [s.FormatArn(new ArnComponents { Service = "events", Resource = "rule", ResourceName = rule })]);

    private static PolicyStatement PassExecutionRole(WorkflowTargets t) => new(new PolicyStatementProps
    {
        Actions = ["iam:PassRole"],
        Resources = [t.SageMaker.ExecutionRole.RoleArn],
        Conditions = new Dictionary<string, object>
        {
            ["StringEquals"] = new Dictionary<string, object> { ["iam:PassedToService"] = "sagemaker.amazonaws.com" },
        },
    });

    /// <summary>Scoped to this deployment's name prefix (<see cref="SageMakerResources.NamePrefixes"/>).</summary>
    public static string[] SageMakerArns(Stack s, string type) =>
        ((RetrainingStack)s).SageMaker.NamePrefixes[type]
            .Select(prefix => s.FormatArn(new ArnComponents { Service = "sagemaker", Resource = type, ResourceName = prefix + "*" }))
            .ToArray();

    private static string WorkGroupArn(WorkflowTargets t, Stack s) =>
        s.FormatArn(new ArnComponents { Service = "athena", Resource = "workgroup", ResourceName = t.Queries.WorkGroupName });

    private static string ModelPackageArn(WorkflowTargets t, Stack s) =>
        s.FormatArn(new ArnComponents { Service = "sagemaker", Resource = "model-package", ResourceName = t.SageMaker.ModelPackageGroupName + "/*" });

    private static string ModelPackageGroupArn(WorkflowTargets t, Stack s) =>
        s.FormatArn(new ArnComponents { Service = "sagemaker", Resource = "model-package-group", ResourceName = t.SageMaker.ModelPackageGroupName });

    private static string EndpointArn(WorkflowTargets t, Stack s) =>
        s.FormatArn(new ArnComponents { Service = "sagemaker", Resource = "endpoint", ResourceName = t.SageMaker.EndpointName ?? "" });
}
