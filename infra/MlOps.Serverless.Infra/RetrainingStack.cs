using Amazon.CDK;
using Constructs;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The whole retraining workflow in one environment-agnostic stack: buckets, Glue/Athena, the stage
/// functions, SageMaker role and registry, the state machine, its triggers and its alarms.
/// </summary>
public sealed class RetrainingStack : Stack
{
    public StackSettings Settings { get; }
    public Buckets Buckets { get; }
    public QueryEngine Queries { get; }
    public StageFunctions Functions { get; }
    public SageMakerResources SageMaker { get; }
    public Monitoring Monitoring { get; }
    public RetrainingStateMachine RetrainingStateMachine { get; }
    public Triggers Triggers { get; }
    public FailureNotifier FailureNotifier { get; }

    public RetrainingStack(Construct scope, string id, StackSettings settings, IStackProps? props = null) : base(scope, id, props)
    {
        Settings = settings;
        var definition = RetrainingStateMachine.LoadDefinition(settings.DefinitionPath);

        Buckets = new Buckets(this, "Storage", settings);
        Queries = new QueryEngine(this, "Queries", settings, Buckets);
        Functions = new StageFunctions(this, "Stages", settings, Buckets);
        SageMaker = new SageMakerResources(this, "SageMaker", settings, Buckets);
        Monitoring = new Monitoring(this, "Monitoring", settings);

        var retrainingFunctions = StageSpec.Retraining.Select(stage => Functions[stage]).ToList();
        var targets = new WorkflowTargets(Buckets, Queries, SageMaker,
            retrainingFunctions.Select(f => f.FunctionArn).ToList(), Monitoring.Topic.TopicArn, Monitoring.TopicKeyArn);
        RetrainingStateMachine = new RetrainingStateMachine(this, "Workflow", settings, definition, targets, Functions);
        Triggers = new Triggers(this, "Triggers", settings, Buckets, RetrainingStateMachine.StateMachine);
        // The stages read what the encrypted SageMaker jobs wrote (predictions, model artifacts).
        foreach (var function in retrainingFunctions)
            function.AddToRolePolicy(new Amazon.CDK.AWS.IAM.PolicyStatement(new Amazon.CDK.AWS.IAM.PolicyStatementProps
            {
                Actions = ["kms:Decrypt"],
                Resources = [SageMaker.JobKey.AttrArn],
            }));
        FailureNotifier = new FailureNotifier(this, "FailureNotifier", settings, RetrainingStateMachine.StateMachine,
            targets with { FunctionArns = [Functions[StageSpec.FailureNotifier].FunctionArn] });
        Monitoring.AddAlarms(settings, RetrainingStateMachine.LogGroup, Functions, Triggers.DeadLetterQueues, FailureNotifier);
        NagAcceptances.Apply(this);

        Output("StateMachineArn", RetrainingStateMachine.StateMachine.StateMachineArn, "Start a run: aws stepfunctions start-execution --state-machine-arn <this> --input '{\"batch\":\"<batchId>\"}'");
        Output("RawBucketName", Buckets.Raw.BucketName, "Upload batches here (see UploadConvention)");
        Output("WorkBucketName", Buckets.Work.BucketName, "Per-run data, reports and predictions: runs/{runId}/");
        Output("ArtifactBucketName", Buckets.Artifacts.BucketName, "Model artifacts and checkpoints: runs/{runId}/");
        Output("AthenaResultsBucketName", Buckets.AthenaResults.BucketName, "Athena query results (expire automatically)");
        Output("NotificationTopicArn", Monitoring.Topic.TopicArn, "Promoted, rejected and failed runs, and alarms");
        Output("ModelPackageGroupName", SageMaker.ModelPackageGroupName, "SageMaker model registry group");
        Output("GlueDatabaseName", Queries.DatabaseName, "Athena database with the raw and per-run tables");
        Output("AthenaWorkGroupName", Queries.WorkGroupName, "Athena workgroup of the workflow's queries");
        Output("UploadConvention", UploadConvention(Buckets.Raw.BucketName), "How to upload a batch so that it starts a run");
    }

    /// <summary>The documented upload convention, with the deployed bucket name.</summary>
    public static string UploadConvention(string rawBucket) =>
        $"Upload s3://{rawBucket}/{Buckets.RawPrefix}{{batchId}}/sales/*.csv, .../features/*.csv and .../stores/*.csv, " +
        $"then s3://{rawBucket}/{Buckets.RawPrefix}{{batchId}}/manifest.json last: the manifest starts one run of that batch.";

    private void Output(string id, string value, string description) =>
        new CfnOutput(this, id, new CfnOutputProps { Value = value, Description = description });
}
