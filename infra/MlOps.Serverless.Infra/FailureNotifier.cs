using Amazon.CDK;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Infra;

/// <summary>
/// A run that ends FAILED, TIMED_OUT or ABORTED is announced on the topic (<see cref="FailureNotification"/>): the
/// EventBridge rule <c>{prefix}-run-failed</c> on the retraining execution's status starts the Express failure notifier
/// (<c>statemachines/failure-notifier.asl.json</c>), which reads the execution's history, has the FailureNotifier stage
/// name the state that failed with the error and the plain message, and publishes that. The definition has no failure
/// branch, so the state that failed stays the execution's last state and a redrive continues from it.
/// </summary>
public sealed class FailureNotifier : Construct
{
    private static readonly string[] FailedStatuses = ["FAILED", "TIMED_OUT", "ABORTED"];

    public StateMachine StateMachine { get; }
    public Role Role { get; }
    public Rule Rule { get; }

    /// <param name="targets">The notifier's function, the topic and its key; the executions it reads are set here.</param>
    public FailureNotifier(Construct scope, string id, StackSettings settings, StateMachine retraining, WorkflowTargets targets) : base(scope, id)
    {
        var stack = Stack.Of(this);
        var definitionPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(settings.DefinitionPath))!, FailureNotification.DefinitionFileName);
        var definition = RetrainingStateMachine.LoadDefinition(definitionPath);
        var executions = RetrainingExecutions(stack, settings);
        targets = targets with { ExecutionArns = [executions] };

        Role = new Role(this, "Role", new RoleProps
        {
            AssumedBy = new ServicePrincipal("states.amazonaws.com"),
            Description = "Failure notifier: reads the retraining runs' history, invokes its stage, publishes to the topic",
        });
        foreach (var statement in IntegrationPermissions.For(definition, targets, stack, endpoint: false))
            Role.AddToPolicy(statement);

        var substitutions = RetrainingStateMachine.FillPlaceholders(definition, new Dictionary<string, string>
        {
            ["FailureNotifierFunctionArn"] = targets.FunctionArns.Single(),
            ["NotificationTopicArn"] = targets.TopicArn,
        });
        // Express executions keep no history of their own: the log is where a notifier failure shows.
        (StateMachine, _) = RetrainingStateMachine.Logged(this, settings, "failure-notifier", StateMachineType.EXPRESS, definition, substitutions, Role);

        Rule = RunFailedRule(settings, retraining);
        // The target's role (made by the CDK) may start this state machine and nothing else; the input is the whole event.
        Rule.AddTarget(new SfnStateMachine(StateMachine));
    }

    /// <summary>The retraining state machine's executions only (its name is the prefix's).</summary>
    private static string RetrainingExecutions(Stack stack, StackSettings settings)
    {
        return stack.FormatArn(new ArnComponents
        {
            Service = "states",
            Resource = "execution",
            ResourceName = $"{settings.Prefix}-retraining:*",
            ArnFormat = ArnFormat.COLON_RESOURCE_NAME,
        });
    }

    private Rule RunFailedRule(StackSettings settings, StateMachine retraining)
    {
        return new Rule(this, "RunFailed", new RuleProps
        {
            RuleName = $"{settings.Prefix}-run-failed",
            Description = "Starts the failure notifier for failed, timed-out and aborted retraining runs",
            EventPattern = new EventPattern
            {
                Source = ["aws.states"],
                DetailType = ["Step Functions Execution Status Change"],
                Detail = new Dictionary<string, object>
                {
                    ["status"] = FailedStatuses,
                    ["stateMachineArn"] = new[] { retraining.StateMachineArn },
                },
            },
        });
    }
}
