using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.CloudWatch.Actions;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.KMS;
using Amazon.CDK.AWS.Lambda;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.SNS.Subscriptions;
using Amazon.CDK.AWS.SQS;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The notification topic and the alarms that publish to it: the stack's own topic, or an existing one
/// (<c>notificationTopicArn</c>). The own topic is encrypted with its own KMS key: CloudWatch alarms cannot publish to
/// a topic under the AWS managed <c>aws/sns</c> key, whose policy cannot grant them. The key policy lists its actions
/// explicitly (the CDK default grants <c>kms:*</c>). Without an e-mail address or an existing topic nobody receives
/// anything, and the synth says so.
/// </summary>
public sealed class Monitoring : Construct
{

    public ITopic Topic { get; }
    /// <summary>The key encrypting <see cref="Topic"/>, when known (the own topic's key, or <c>notificationTopicKeyArn</c>).</summary>
    public string? TopicKeyArn { get; }

    /// <summary>Namespace of the workflow's own metrics (from the execution log).</summary>
    public const string MetricNamespace = "MlOps/Retraining";
    public const string MlflowDeferralsMetric = "MlflowDeferrals";

    public const string NoRecipientWarning =
        "No one receives alarms or run notifications: set -c notificationEmail=<address> (subscribed to the stack's topic) " +
        "and/or -c notificationTopicArn=<existing SNS topic ARN>. See docs/deploy.md, \"Alerts\".";

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
        if (settings.NotificationEmail is null && settings.NotificationTopicArn is null)
            Annotations.Of(this).AddWarning(NoRecipientWarning);

        if (settings.NotificationTopicArn is { } existing)
        {
            // The topic's owner subscribes people and lets CloudWatch publish (docs/deploy.md, "Alerts").
            Topic = Amazon.CDK.AWS.SNS.Topic.FromTopicArn(this, "Topic", existing);
            TopicKeyArn = settings.NotificationTopicKeyArn;
            if (settings.NotificationEmail is { } address) Topic.AddSubscription(new EmailSubscription(address));
            return;
        }

        PolicyStatement PublishToTopic(string sid, string service) => new(new PolicyStatementProps
        {
            Sid = sid,
            Principals = [new ServicePrincipal(service)],
            Actions = ["kms:Decrypt", "kms:GenerateDataKey"],
            Resources = ["*"],
            Conditions = new Dictionary<string, object>
            {
                ["StringEquals"] = new Dictionary<string, object> { ["aws:SourceAccount"] = Stack.Of(this).Account },
            },
        });
        var topicKey = NewKey(this, "TopicKey", "Encrypts the retraining workflow's notification topic",
            PublishToTopic("CloudWatchAlarmsPublishToTopic", "cloudwatch.amazonaws.com"));
        TopicKeyArn = topicKey.AttrArn;

        var topic = new Topic(this, "Topic", new TopicProps
        {
            TopicName = $"{settings.Prefix}-retraining-notifications",
            DisplayName = "Retraining workflow",
            MasterKey = Key.FromKeyArn(this, "TopicKeyRef", topicKey.AttrArn),
        });
        if (settings.NotificationEmail is { } email)
            topic.AddSubscription(new EmailSubscription(email));
        Topic = topic;
    }

    /// <summary>A customer managed key whose policy delegates to IAM in this account (plus <paramref name="extra"/>); deleted with the stack after 7 days.</summary>
    public static CfnKey NewKey(Construct scope, string id, string description, params PolicyStatement[] extra)
    {
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
                .. extra,
            ],
        });
        var key = new CfnKey(scope, id, new CfnKeyProps
        {
            Description = description,
            EnableKeyRotation = true,
            KeyPolicy = keyPolicy,
            PendingWindowInDays = 7,
        });
        key.ApplyRemovalPolicy(RemovalPolicy.DESTROY);
        return key;
    }

    /// <summary>
    /// One alert per problem. A failed, timed-out or aborted execution is not an alarm: the failure notification
    /// (<see cref="FailureNotifier"/>) already sends one message with the state that failed, the error and the message, and the stage
    /// functions' errors end as such failures. What the workflow cannot report itself pages the topic: Lambda
    /// throttling, MLflow logging deferred to the outbox, trigger events that never started an execution, and a failed
    /// run that could not be announced (the notifier's own failure, or its rule not starting it).
    /// </summary>
    public void AddAlarms(StackSettings settings, ILogGroup executionLog, StageFunctions functions,
        IEnumerable<(string Name, Queue Queue)> deadLetterQueues, FailureNotifier notifier)
    {
        var action = new SnsAction(Topic);
        void Alarm(string id, string description, IMetric metric)
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
        foreach (var (stage, function) in functions.Functions)
            Alarm($"{stage.Id}Throttles", $"Lambda throttled the {stage.Id} stage function (the workflow retries; repeated throttling delays or fails runs)",
                function.MetricThrottles(period));

        // Step Functions logs every state entered (level ALL): an MlflowDeferred* Pass state means a payload waits in the outbox.
        var deferrals = new MetricFilter(this, "MlflowDeferralsFilter", new MetricFilterProps
        {
            LogGroup = executionLog,
            FilterPattern = FilterPattern.All(
                FilterPattern.StringValue("$.type", "=", "PassStateEntered"),
                FilterPattern.StringValue("$.details.name", "=", "MlflowDeferred*")),
            MetricNamespace = MetricNamespace,
            MetricName = MlflowDeferralsMetric,
            MetricValue = "1",
            DefaultValue = 0,
        });
        Alarm("MlflowDeferrals", "MLflow logging was deferred to the run's outbox (MLflow unreachable or refusing); replay it with `mlops mlflow replay`",
            deferrals.Metric(period));

        // The notifier announces failed runs; if it fails itself, nothing else would.
        Alarm("FailureNotifierFailed", "A failed run could not be announced: the failure notifier failed or timed out (read its log group, then the run's execution history)",
            new MathExpression(new MathExpressionProps
            {
                Expression = "failed + timedOut",
                UsingMetrics = new Dictionary<string, IMetric>
                {
                    ["failed"] = notifier.StateMachine.MetricFailed(period),
                    ["timedOut"] = notifier.StateMachine.MetricTimedOut(period),
                },
                Period = period.Period,
            }));
        Alarm("RunFailedRuleFailedInvocations", "A failed run could not be announced: the run-failed rule could not start the failure notifier",
            new Metric(new MetricProps
            {
                Namespace = "AWS/Events",
                MetricName = "FailedInvocations",
                DimensionsMap = new Dictionary<string, string> { ["RuleName"] = notifier.Rule.RuleName },
                Period = period.Period,
                Statistic = "Sum",
            }));

        foreach (var (name, queue) in deadLetterQueues)
            Alarm($"{name}Undelivered", $"The {name} trigger could not start an execution (event in the dead-letter queue)",
                queue.MetricApproximateNumberOfMessagesVisible(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Maximum" }));
    }
}
