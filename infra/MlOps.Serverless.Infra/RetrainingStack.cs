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
    public Storage Storage { get; }
    public QueryEngine Queries { get; }
    public StageFunctions Functions { get; }
    public SageMakerResources SageMaker { get; }
    public Monitoring Monitoring { get; }
    public Workflow Workflow { get; }
    public Triggers Triggers { get; }
    public FailureNotifier FailureNotifier { get; }

    public RetrainingStack(Construct scope, string id, StackSettings settings, IStackProps? props = null) : base(scope, id, props)
    {
        Settings = settings;
        var definition = Workflow.LoadDefinition(settings.DefinitionPath);

        Storage = new Storage(this, "Storage", settings);
        Queries = new QueryEngine(this, "Queries", settings, Storage);
        Functions = new StageFunctions(this, "Stages", settings, Storage);
        SageMaker = new SageMakerResources(this, "SageMaker", settings, Storage);
        Monitoring = new Monitoring(this, "Monitoring", settings);

        var retrainingFunctions = StageSpec.Retraining.Select(stage => Functions[stage]).ToList();
        var targets = new WorkflowTargets(Storage, Queries, SageMaker,
            retrainingFunctions.Select(f => f.FunctionArn).ToList(), Monitoring.Topic.TopicArn, Monitoring.TopicKeyArn);
        Workflow = new Workflow(this, "Workflow", settings, definition, targets, Functions);
        Triggers = new Triggers(this, "Triggers", settings, Storage, Workflow.StateMachine);
        Monitoring.AddAlarms(settings, Workflow.StateMachine, Workflow.LogGroup, Functions, Triggers.DeadLetterQueues);
        // The stages read what the encrypted SageMaker jobs wrote (predictions, model artifacts).
        foreach (var function in retrainingFunctions)
            function.AddToRolePolicy(new Amazon.CDK.AWS.IAM.PolicyStatement(new Amazon.CDK.AWS.IAM.PolicyStatementProps
            {
                Actions = ["kms:Decrypt"],
                Resources = [SageMaker.JobKey.AttrArn],
            }));
        FailureNotifier = new FailureNotifier(this, "FailureNotifier", settings, Workflow.StateMachine,
            targets with { FunctionArns = [Functions[StageSpec.FailureNotifier].FunctionArn] });
        NagAcceptances.Apply(this);

        Output("StateMachineArn", Workflow.StateMachine.StateMachineArn, "Start a run: aws stepfunctions start-execution --state-machine-arn <this> --input '{\"batch\":\"<batchId>\"}'");
        Output("RawBucketName", Storage.Raw.BucketName, "Upload batches here (see UploadConvention)");
        Output("WorkBucketName", Storage.Work.BucketName, "Per-run data, reports and predictions: runs/{runId}/");
        Output("ArtifactBucketName", Storage.Artifacts.BucketName, "Model artifacts and checkpoints: runs/{runId}/");
        Output("AthenaResultsBucketName", Storage.AthenaResults.BucketName, "Athena query results (expire automatically)");
        Output("NotificationTopicArn", Monitoring.Topic.TopicArn, "Promoted, rejected and failed runs, and alarms");
        Output("ModelPackageGroupName", SageMaker.ModelPackageGroupName, "SageMaker model registry group");
        Output("GlueDatabaseName", Queries.DatabaseName, "Athena database with the raw and per-run tables");
        Output("AthenaWorkGroupName", Queries.WorkGroupName, "Athena workgroup of the workflow's queries");
        Output("UploadConvention", UploadConvention(Storage.Raw.BucketName), "How to upload a batch so that it starts a run");
    }

    /// <summary>The documented upload convention, with the deployed bucket name.</summary>
    public static string UploadConvention(string rawBucket) =>
        $"Upload s3://{rawBucket}/{Storage.RawPrefix}{{batchId}}/sales/*.csv, .../features/*.csv and .../stores/*.csv, " +
        $"then s3://{rawBucket}/{Storage.RawPrefix}{{batchId}}/manifest.json last: the manifest starts one run of that batch.";

    private void Output(string id, string value, string description) =>
        new CfnOutput(this, id, new CfnOutputProps { Value = value, Description = description });
}
