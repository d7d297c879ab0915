using Amazon.CDK;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.SQS;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;
using MlOps.Serverless.Core.Runs;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The two automatic ways a run starts. Both pass the EventBridge event itself as the execution input (the
/// prepare-run stage recognises "Scheduled Event" and "Object Created"), with retries and a dead-letter queue.
/// </summary>
public sealed class Triggers : Construct
{
    public Rule ScheduleRule { get; }
    public Rule UploadRule { get; }
    public IReadOnlyList<(string Name, Queue Queue)> DeadLetterQueues { get; }

    /// <summary>The marker object whose creation starts a run: <c>incoming/{batchId}/manifest.json</c>.</summary>
    public static string MarkerKeyPattern => $"{Buckets.RawPrefix}*/{RunPreparationSettings.ManifestName}";

    public Triggers(Construct scope, string id, StackSettings settings, Buckets buckets, IStateMachine stateMachine) : base(scope, id)
    {
        var scheduleDlq = DeadLetterQueue("ScheduleDeadLetters");
        ScheduleRule = new Rule(this, "Schedule", new RuleProps
        {
            Description = "Starts a retraining run on the deployment's schedule",
            Schedule = Schedule.Expression(settings.Schedule),
            Enabled = settings.ScheduleEnabled,
        });
        ScheduleRule.AddTarget(Target(stateMachine, scheduleDlq));

        var uploadDlq = DeadLetterQueue("UploadDeadLetters");
        UploadRule = new Rule(this, "Upload", new RuleProps
        {
            Description = $"Starts a retraining run when an upload's marker {MarkerKeyPattern} is created in the raw bucket",
            EventPattern = new EventPattern
            {
                Source = ["aws.s3"],
                DetailType = ["Object Created"],
                Detail = new Dictionary<string, object>
                {
                    ["bucket"] = new Dictionary<string, object> { ["name"] = new[] { buckets.Raw.BucketName } },
                    // Only the marker, never the CSVs of the same upload: one upload, one run.
                    ["object"] = new Dictionary<string, object>
                    {
                        ["key"] = new object[] { new Dictionary<string, object> { ["wildcard"] = MarkerKeyPattern } },
                    },
                },
            },
        });
        UploadRule.AddTarget(Target(stateMachine, uploadDlq));

        DeadLetterQueues = [("Schedule", scheduleDlq), ("Upload", uploadDlq)];
    }

    private static SfnStateMachine Target(IStateMachine stateMachine, Queue deadLetters) => new(stateMachine, new SfnStateMachineProps
    {
        // No Input: the execution input is the event itself, which the prepare-run stage accepts as is.
        DeadLetterQueue = deadLetters,
        RetryAttempts = 8,
        MaxEventAge = Duration.Hours(6),
    });

    private Queue DeadLetterQueue(string id) => new(this, id, new QueueProps
    {
        // SSE-SQS: EventBridge can deliver to it without a KMS key policy.
        Encryption = QueueEncryption.SQS_MANAGED,
        EnforceSSL = true,
        RetentionPeriod = Duration.Days(14),
    });
}
