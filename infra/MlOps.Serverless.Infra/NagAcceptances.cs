using Amazon.CDK;
using Constructs;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The cdk-nag findings (AwsSolutions, Serverless, NIST 800-53 R5, HIPAA Security) that stay, each accepted with
/// its reason. cdk-nag for .NET is not a dependency here, so the acceptances are written as the metadata cdk-nag's
/// <c>NagSuppressions.addResourceSuppressions</c> writes (<c>cdk_nag.rules_to_suppress</c>): running the rule packs
/// over this stack reports only new findings.
/// </summary>
public static class NagAcceptances
{
    public sealed record Acceptance(string[] RuleIds, string Reason, Func<CfnResource, bool> AppliesTo);

    private static Func<CfnResource, bool> Type(params string[] types) => r => types.Contains(r.CfnResourceType, StringComparer.Ordinal);

    public static IReadOnlyList<Acceptance> All { get; } =
    [
        new(["AwsSolutions-IAM5", "NIST.800.53.R5-IAMNoInlinePolicy", "HIPAA.Security-IAMNoInlinePolicy"],
            "Wildcards are object keys under this deployment's prefixes (runs/*, incoming/*), SageMaker names under this " +
            "deployment's name prefix ({prefix}-tune-*, ...), Lambda versions (:*), and the actions that have no resource-level " +
            "permissions (ecr:GetAuthorizationToken, cloudwatch:PutMetricData with a namespace condition, sagemaker:ListModelPackages). " +
            "Inline policies: each role belongs to one function or service and is deleted with it.",
            Type("AWS::IAM::Policy")),
        new(["AwsSolutions-S1", "NIST.800.53.R5-S3BucketLoggingEnabled", "HIPAA.Security-S3BucketLoggingEnabled",
             "NIST.800.53.R5-S3BucketReplicationEnabled", "HIPAA.Security-S3BucketReplicationEnabled"],
            "Access is audited with CloudTrail (S3 data events where the account enables them); server access logs would need a " +
            "fifth, unencrypted-by-design bucket. Cross-region replication is a disaster-recovery choice of the account, not of this stack.",
            Type("AWS::S3::Bucket")),
        new(["NIST.800.53.R5-S3BucketVersioningEnabled", "HIPAA.Security-S3BucketVersioningEnabled",
             "NIST.800.53.R5-S3DefaultEncryptionKMS", "HIPAA.Security-S3DefaultEncryptionKMS"],
            "The work and Athena-results buckets hold re-computable, expiring run outputs (versioning would keep every UNLOAD file); " +
            "Athena results are SSE-S3, which the workgroup enforces; the raw and artifact buckets are versioned and SSE-KMS.",
            Type("AWS::S3::Bucket")),
        new(["AwsSolutions-L1", "Serverless-LambdaLatestVersion"],
            "The functions run on dotnet10, the newest .NET managed runtime; CDK 2.160 has no constant for it, so the rule cannot see it.",
            Type("AWS::Lambda::Function")),
        new(["Serverless-LambdaDLQ", "Serverless-LambdaAsyncFailureDestination"],
            "Step Functions invokes the functions synchronously and catches every error (the run's failure notification); " +
            "a dead-letter queue or failure destination only applies to asynchronous invocations.",
            Type("AWS::Lambda::Function")),
        new(["NIST.800.53.R5-LambdaConcurrency", "HIPAA.Security-LambdaConcurrency", "NIST.800.53.R5-LambdaInsideVPC", "HIPAA.Security-LambdaInsideVPC"],
            "A run invokes each function a few times, one at a time; throttling alarms watch the account pool. The functions " +
            "call only AWS APIs and the MLflow server over TLS, so a VPC would add NAT cost and no isolation.",
            Type("AWS::Lambda::Function")),
        new(["NIST.800.53.R5-CloudWatchLogGroupEncrypted", "HIPAA.Security-CloudWatchLogGroupEncrypted"],
            "Log groups are encrypted by CloudWatch Logs with its own keys; no secrets or data rows are logged (payloads carry S3 pointers).",
            Type("AWS::Logs::LogGroup")),
        new(["AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"],
            "These queues are the triggers' dead-letter queues themselves; their messages raise the Undelivered alarms.",
            Type("AWS::SQS::Queue")),
        new(["AwsSolutions-SNS3"],
            "Only CloudWatch alarms and the state machine publish to the topic, both through AWS APIs over TLS; subscribers are e-mail.",
            Type("AWS::SNS::Topic")),
        new(["NIST.800.53.R5-SageMakerEndpointConfigurationKMSKeyConfigured", "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured"],
            "The endpoint configuration is created by the workflow with the job key (CreateEndpointConfig KmsKeyId), not by CloudFormation.",
            Type("AWS::SageMaker::Endpoint")),
    ];

    /// <summary>Adds the <c>cdk_nag</c> metadata to every resource of <paramref name="scope"/> an acceptance applies to.</summary>
    public static void Apply(IConstruct scope)
    {
        foreach (var resource in scope.Node.FindAll().OfType<CfnResource>())
        {
            var rules = All.Where(a => a.AppliesTo(resource))
                .SelectMany(a => a.RuleIds.Select(id => (object)new Dictionary<string, object> { ["id"] = id, ["reason"] = a.Reason }))
                .ToArray();
            if (rules.Length > 0)
                resource.AddMetadata("cdk_nag", new Dictionary<string, object> { ["rules_to_suppress"] = rules });
        }
    }
}
