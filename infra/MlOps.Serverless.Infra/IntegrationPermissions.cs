using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Infra;

/// <summary>What a state machine role may touch: the deployed resources its integrations act on.</summary>
/// <param name="ExecutionArns">The executions whose history may be read (the failure notifier: the retraining state machine's).</param>
public sealed record WorkflowTargets(
    Buckets Buckets,
    QueryEngine Queries,
    SageMakerResources SageMaker,
    IReadOnlyList<string> FunctionArns,
    string TopicArn,
    string? TopicKeyArn,
    IReadOnlyList<string>? ExecutionArns = null);

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
    public static IReadOnlyList<(string State, string Resource)> TaskResources(string definition) => AslStates.TaskResources(definition);

    /// <summary>The statements for every integration the definition uses; <paramref name="endpoint"/> gates the endpoint ones.</summary>
    public static IReadOnlyList<PolicyStatement> For(string definition, WorkflowTargets targets, Stack stack, bool endpoint)
    {
        var resources = TaskResources(definition);
        var unknown = Unmapped(definition);
        if (unknown.Count > 0)
            throw new InvalidConfiguration(
                $"The state machine definition uses integration(s) the CDK app has no IAM mapping for: {string.Join(", ", unknown)}. " +
                "Add them to IntegrationPermissions so the role grants exactly what they need.");
        var statements = new List<PolicyStatement>();
        foreach (var resource in resources.Select(r => r.Resource).Distinct().Order(StringComparer.Ordinal))
        {
            var granted = Statements(resource, targets, stack, endpoint).ToList();
            var missing = granted.Count == 0 ? new List<string>() : DocumentedActions[Normalize(resource)].Except(granted.SelectMany(g => g.Actions)).ToList();
            if (missing.Count > 0)
                throw new InvalidConfiguration(
                    $"The IAM mapping for {resource} does not grant {string.Join(", ", missing)}, which AWS documents for that integration.");
            statements.AddRange(granted);
        }
        return statements;
    }

    /// <summary>Task states whose integration has no IAM mapping, as <c>State (Resource)</c>.</summary>
    public static IReadOnlyList<string> Unmapped(string definition) =>
        TaskResources(definition).Where(r => !Mapping.ContainsKey(Normalize(r.Resource))).Select(r => $"{r.State} ({r.Resource})").ToList();

    /// <summary>Direct Lambda ARNs (<c>${...FunctionArn}</c>) are invocations like <c>lambda:invoke</c>.</summary>
    private static string Normalize(string resource) =>
        resource.StartsWith("${", StringComparison.Ordinal) && resource.EndsWith("FunctionArn}", StringComparison.Ordinal)
            ? States + "lambda:invoke"
            : resource;

    private delegate IEnumerable<PolicyStatement> Grant(WorkflowTargets t, Stack s, bool endpoint);

    private static IEnumerable<PolicyStatement> Statements(string resource, WorkflowTargets t, Stack s, bool endpoint) =>
        Mapping[Normalize(resource)](t, s, endpoint);

    /// <summary>What Athena does with the caller's credentials (athena-iam.html), less the DDL and bucket creation.</summary>
    private static readonly string[] AthenaDataActions =
    [
        "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket", "s3:ListBucketMultipartUploads", "s3:ListMultipartUploadParts",
        "s3:AbortMultipartUpload", "s3:PutObject",
        "glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition",
        "lakeformation:GetDataAccess",
    ];

    private static readonly string[] SyncRuleActions = ["events:PutTargets", "events:PutRule", "events:DescribeRule"];

    /// <summary>
    /// The IAM actions AWS documents for each integration pattern the definition uses, from the Step Functions
    /// developer guide's "IAM policies for ..." pages (the policies Step Functions' console generates). The
    /// role must grant each of them, on this deployment's resources (<see cref="Mapping"/>; checked in
    /// <see cref="For"/>). Left out of AWS's generic templates on purpose: Athena's Glue DDL actions
    /// (Create/Update/Delete database, table, partition: the queries run no DDL; tables come from the CDK app)
    /// and <c>s3:CreateBucket</c> (the result bucket is deployed).
    /// </summary>
    public static IReadOnlyDictionary<string, string[]> DocumentedActions { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        // https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html
        [States + "lambda:invoke"] = ["lambda:InvokeFunction"],

        // https://docs.aws.amazon.com/step-functions/latest/dg/athena-iam.html (StartQueryExecution, Run a Job)
        [States + "athena:startQueryExecution.sync"] =
        [
            "athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution", "athena:GetDataCatalog",
            .. AthenaDataActions,
        ],
        // same page, Request Response
        [States + "athena:startQueryExecution"] = ["athena:StartQueryExecution", "athena:GetDataCatalog", .. AthenaDataActions],
        // same page, GetQueryResults
        [States + "athena:getQueryResults"] = ["athena:GetQueryResults", "s3:GetObject"],

        // https://docs.aws.amazon.com/step-functions/latest/dg/sagemaker-iam.html
        // (each Create*: the action, ListTags, iam:PassRole where a role is passed; .sync adds Describe*, Stop* and
        // the EventBridge managed rule Step Functions uses to learn when the job ends; Tags in a request are AddTags)
        [States + "sagemaker:createHyperParameterTuningJob.sync"] =
        [
            "sagemaker:CreateHyperParameterTuningJob", "sagemaker:DescribeHyperParameterTuningJob", "sagemaker:StopHyperParameterTuningJob",
            "sagemaker:ListTrainingJobsForHyperParameterTuningJob", "sagemaker:ListTags", "sagemaker:AddTags", "iam:PassRole", .. SyncRuleActions,
        ],
        [States + "sagemaker:createTrainingJob.sync"] =
        [
            "sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopTrainingJob",
            "sagemaker:ListTags", "sagemaker:AddTags", "iam:PassRole", .. SyncRuleActions,
        ],
        [States + "sagemaker:createTransformJob.sync"] =
        [
            "sagemaker:CreateTransformJob", "sagemaker:DescribeTransformJob", "sagemaker:StopTransformJob",
            "sagemaker:ListTags", "sagemaker:AddTags", .. SyncRuleActions,
        ],
        [States + "sagemaker:createModel"] = ["sagemaker:CreateModel", "sagemaker:ListTags", "sagemaker:AddTags", "iam:PassRole"],
        [States + "sagemaker:createEndpointConfig"] = ["sagemaker:CreateEndpointConfig", "sagemaker:ListTags", "sagemaker:AddTags"],
        [States + "sagemaker:updateEndpoint"] = ["sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpoint", "sagemaker:ListTags"],

        // https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html#use-awssdk-integ-iam
        // (an aws-sdk integration needs the IAM action of the API it calls)
        [States + "aws-sdk:sagemaker:listTrainingJobsForHyperParameterTuningJob"] = ["sagemaker:ListTrainingJobsForHyperParameterTuningJob"],
        [States + "aws-sdk:sagemaker:describeTrainingJob"] = ["sagemaker:DescribeTrainingJob"],
        [States + "aws-sdk:sagemaker:listModelPackages"] = ["sagemaker:ListModelPackages"],
        [States + "aws-sdk:sagemaker:describeModelPackage"] = ["sagemaker:DescribeModelPackage"],
        [States + "aws-sdk:sagemaker:createModelPackage"] = ["sagemaker:CreateModelPackage"],

        // https://docs.aws.amazon.com/step-functions/latest/dg/sns-iam.html (an encrypted topic also needs its key)
        [States + "sns:publish"] = ["sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"],

        // AWS SDK integrations need the API's own action (supported-services-awssdk.html): the failure notifier reads a run's history.
        [States + "aws-sdk:sfn:getExecutionHistory"] = ["states:GetExecutionHistory"],
    };

    private static readonly Dictionary<string, Grant> Mapping = new(StringComparer.Ordinal)
    {
        [States + "lambda:invoke"] = (t, _, _) => [Allow(["lambda:InvokeFunction"], [.. t.FunctionArns, .. t.FunctionArns.Select(a => a + ":*")])],

        [States + "athena:startQueryExecution.sync"] = (t, s, _) => Athena(t, s, sync: true),
        [States + "athena:startQueryExecution"] = (t, s, _) => Athena(t, s, sync: false),
        [States + "athena:getQueryResults"] = (t, s, _) =>
        [
            Allow(["athena:GetQueryResults"], [WorkGroupArn(t, s)]),
            Allow(["s3:GetObject"], [t.Buckets.AthenaResults.ArnForObjects("*")]),
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
            Allow(["s3:GetObject"], [t.Buckets.Artifacts.ArnForObjects(Buckets.RunsPrefix + "*")]),
        ],
        [States + "sagemaker:createEndpointConfig"] = (_, s, endpoint) => endpoint
            ? [Allow(["sagemaker:CreateEndpointConfig"], SageMakerArns(s, "endpoint-config")), Tagging(s, "endpoint-config")]
            : [],
        [States + "sagemaker:updateEndpoint"] = (t, s, endpoint) => endpoint
            ?
            [
                Allow(["sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpoint"], [EndpointArn(t, s), .. SageMakerArns(s, "endpoint-config")]),
                Allow(["sagemaker:ListTags"], [EndpointArn(t, s)]),
            ]
            : [],

        [States + "sns:publish"] = (t, _, _) =>
        [
            Allow(["sns:Publish"], [t.TopicArn]),
            // An encrypted topic needs a data key (an existing topic may use a key the stack does not know).
            .. t.TopicKeyArn is { } key ? [Allow(["kms:GenerateDataKey", "kms:Decrypt"], [key])] : Array.Empty<PolicyStatement>(),
        ],

        [States + "aws-sdk:sfn:getExecutionHistory"] = (t, _, _) =>
            t.ExecutionArns is { Count: > 0 } executions
                ? [Allow(["states:GetExecutionHistory"], [.. executions])]
                : throw new InvalidConfiguration("sfn:getExecutionHistory needs the executions it may read (WorkflowTargets.ExecutionArns)."),
    };

    /// <summary>Athena runs the query with the caller's credentials: Glue metadata, the run's input copy and
    /// UNLOAD targets and the workgroup's result location.</summary>
    private static IEnumerable<PolicyStatement> Athena(WorkflowTargets t, Stack s, bool sync)
    {
        var buckets = t.Buckets;
        yield return Allow(
            sync ? ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:StopQueryExecution"] : ["athena:StartQueryExecution"],
            [WorkGroupArn(t, s)]);
        // The queries name the default Glue catalog (AwsDataCatalog).
        yield return Allow(["athena:GetDataCatalog"],
            [s.FormatArn(new ArnComponents { Service = "athena", Resource = "datacatalog", ResourceName = "AwsDataCatalog" })]);
        // Lake Formation vends data access for tables it governs; the action has no resource-level permissions.
        yield return Allow(["lakeformation:GetDataAccess"], ["*"]);
        yield return Allow(["glue:GetDatabase", "glue:GetDatabases", "glue:GetTable", "glue:GetTables",
                            "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"],
        [
            s.FormatArn(new ArnComponents { Service = "glue", Resource = "catalog" }),
            s.FormatArn(new ArnComponents { Service = "glue", Resource = "database", ResourceName = t.Queries.DatabaseName }),
            s.FormatArn(new ArnComponents { Service = "glue", Resource = "table", ResourceName = t.Queries.DatabaseName + "/*" }),
        ]);
        // The raw tables read the run's copy under runs/ (PrepareRun makes it), never the upload bucket.
        yield return Allow(["s3:GetBucketLocation"], [buckets.Work.BucketArn, buckets.AthenaResults.BucketArn]);
        yield return Buckets.List(buckets.Work, Buckets.RunsPrefix, "s3:ListBucket", "s3:ListBucketMultipartUploads");
        yield return Buckets.Objects(buckets.Work, Buckets.RunsPrefix,
            "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts");
        yield return Buckets.List(buckets.AthenaResults, "query-results/", "s3:ListBucket", "s3:ListBucketMultipartUploads");
        yield return Buckets.Objects(buckets.AthenaResults, "query-results/",
            "s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts");
    }

    private static PolicyStatement Allow(string[] actions, string[] resources) =>
        new(new PolicyStatementProps { Actions = actions, Resources = resources });

    /// <summary>Tags on create (<c>Tags</c> in the request) are authorised as <c>sagemaker:AddTags</c>; Step Functions'
    /// SageMaker integrations read them back with <c>sagemaker:ListTags</c> (AWS's templates: on "*"; here on the jobs).</summary>
    private static PolicyStatement Tagging(Stack s, params string[] types) =>
        Allow(["sagemaker:AddTags", "sagemaker:ListTags"], types.SelectMany(type => SageMakerArns(s, type)).Distinct().ToArray());

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
