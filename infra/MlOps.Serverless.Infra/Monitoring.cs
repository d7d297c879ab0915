using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.CloudWatch.Actions;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.KMS;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.SNS.Subscriptions;
using Amazon.CDK.AWS.SQS;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The notification topic and the alarms that publish to it. The topic is encrypted with its own KMS key:
/// CloudWatch alarms cannot publish to a topic under the AWS managed <c>aws/sns</c> key, whose policy cannot
/// grant them. The key policy lists its actions explicitly (the CDK default grants <c>kms:*</c>).
/// </summary>
public sealed class Monitoring : Construct
{
    public Topic Topic { get; }
    public CfnKey TopicKey { get; }

    /// <summary>Key administration and use, delegated to IAM in this account (CloudFormation manages the key through it).</summary>
    public static IReadOnlyList<string> AccountKeyActions { get; } =
    [
        "kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:GetKeyRotationStatus", "kms:EnableKeyRotation",
        "kms:DisableKeyRotation", "kms:ListResourceTags", "kms:TagResource", "kms:UntagResource", "kms:UpdateKeyDescription",
        "kms:EnableKey", "kms:DisableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
        "kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant",
        "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo",
    ];

    public Monitoring(Construct scope, string id, StackSettings settings) : base(scope, id)
    {
        var stack = Stack.Of(this);
        // In a key policy "Resource": "*" means this key and nothing else.
        var keyPolicy = new PolicyDocument(new PolicyDocumentProps
        {
            Statements =
            [
                new PolicyStatement(new PolicyStatementProps
                {
                    Sid = "AccountManagesAndUsesKeyThroughIam",
                    Principals = [new AccountRootPrincipal()],
                    Actions = AccountKeyActions.ToArray(),
                    Resources = ["*"],
                }),
                PublishesToTopic("CloudWatchAlarmsPublishToTopic", "cloudwatch.amazonaws.com", stack),
                PublishesToTopic("EventBridgeFailureNotificationsPublishToTopic", "events.amazonaws.com", stack),
            ],
        });
        TopicKey = new CfnKey(this, "TopicKey", new CfnKeyProps
        {
            Description = "Encrypts the retraining workflow's notification topic",
            EnableKeyRotation = true,
            KeyPolicy = keyPolicy,
            PendingWindowInDays = 7,
        });
        TopicKey.ApplyRemovalPolicy(RemovalPolicy.DESTROY);

        Topic = new Topic(this, "Topic", new TopicProps
        {
            TopicName = $"{settings.Prefix}-retraining-notifications",
            DisplayName = "Retraining workflow",
            MasterKey = Key.FromKeyArn(this, "TopicKeyRef", TopicKey.AttrArn),
        });
        if (settings.NotificationEmail is { } email)
            Topic.AddSubscription(new EmailSubscription(email));
    }

    public string TopicKeyArn => TopicKey.AttrArn;

    /// <summary>A service of this account may use the key to publish to the encrypted topic.</summary>
    private static PolicyStatement PublishesToTopic(string sid, string service, Stack stack) => new(new PolicyStatementProps
    {
        Sid = sid,
        Principals = [new ServicePrincipal(service)],
        Actions = ["kms:Decrypt", "kms:GenerateDataKey"],
        Resources = ["*"],
        Conditions = new Dictionary<string, object>
        {
            ["StringEquals"] = new Dictionary<string, object> { ["aws:SourceAccount"] = stack.Account },
        },
    });

    /// <summary>
    /// A run that ends FAILED, TIMED_OUT or ABORTED is announced on the topic by an EventBridge rule on the
    /// execution's status (<see cref="FailureNotification"/>): the definition has no failure branch, so the state
    /// that failed stays the execution's last state and a redrive continues from it.
    /// </summary>
    public Rule AddFailureNotification(StackSettings settings, StateMachine stateMachine)
    {
        var rule = new Rule(this, "RunFailed", new RuleProps
        {
            RuleName = $"{settings.Prefix}-run-failed",
            Description = "Announces failed, timed-out and aborted retraining runs on the notification topic",
            EventPattern = new EventPattern
            {
                Source = ["aws.states"],
                DetailType = ["Step Functions Execution Status Change"],
                Detail = new Dictionary<string, object>
                {
                    ["status"] = new[] { "FAILED", "TIMED_OUT", "ABORTED" },
                    ["stateMachineArn"] = new[] { stateMachine.StateMachineArn },
                },
            },
        });
        var message = FailureNotification.Template
            .Replace("<name>", EventField.FromPath("$.detail.name"), StringComparison.Ordinal)
            .Replace("<status>", EventField.FromPath("$.detail.status"), StringComparison.Ordinal)
            .Replace("<error>", EventField.FromPath("$.detail.error"), StringComparison.Ordinal)
            .Replace("<cause>", EventField.FromPath("$.detail.cause"), StringComparison.Ordinal);
        rule.AddTarget(new SnsTopic(Topic, new SnsTopicProps { Message = RuleTargetInput.FromText(message) }));
        return rule;
    }

    /// <summary>Failed and timed-out executions, each stage's errors and undeliverable trigger events page the topic.</summary>
    public void AddAlarms(StackSettings settings, StateMachine stateMachine, StageFunctions functions, IEnumerable<(string Name, Queue Queue)> deadLetterQueues)
    {
        var action = new SnsAction(Topic);
        void Alarm(string id, string description, Metric metric)
        {
            var alarm = new Alarm(this, id, new AlarmProps
            {
                AlarmName = $"{settings.Prefix}-{id}",
                AlarmDescription = description,
                Metric = metric,
                Threshold = 1,
                EvaluationPeriods = 1,
                ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                TreatMissingData = TreatMissingData.NOT_BREACHING,
            });
            alarm.AddAlarmAction(action);
        }

        var period = new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" };
        Alarm("ExecutionsFailed", "A retraining execution failed", stateMachine.MetricFailed(period));
        Alarm("ExecutionsTimedOut", "A retraining execution timed out", stateMachine.MetricTimedOut(period));
        foreach (var (stage, function) in functions.Functions)
            Alarm($"{stage.Id}Errors", $"The {stage.Id} stage function raised errors", function.MetricErrors(period));
        foreach (var (name, queue) in deadLetterQueues)
            Alarm($"{name}Undelivered", $"The {name} trigger could not start an execution (event in the dead-letter queue)",
                queue.MetricApproximateNumberOfMessagesVisible(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Maximum" }));
    }
}
