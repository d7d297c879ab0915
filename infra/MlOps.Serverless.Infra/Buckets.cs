using Amazon.CDK;
using Amazon.CDK.AWS.IAM;
using Amazon.CDK.AWS.S3;
using Constructs;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The four buckets. Encryption is SSE-KMS with the AWS managed key <c>aws/s3</c>: every object is KMS-encrypted
/// (with CloudTrail-auditable key use), the functions' explicit <c>aws:kms</c> PutObject header lands on the
/// same key, and SageMaker, Athena and Lambda in this account can use it without a key policy to maintain.
/// Athena results are SSE-S3 (the workgroup enforces it; they expire after a few days).
/// </summary>
public sealed class Buckets : Construct
{
    public Bucket Raw { get; }
    public Bucket Work { get; }
    public Bucket Artifacts { get; }
    public Bucket AthenaResults { get; }

    public Buckets(Construct scope, string id, StackSettings settings) : base(scope, id)
    {
        Raw = DataBucket("Raw", versioned: true);
        // Native S3 → EventBridge switch, not the CDK's eventBridgeEnabled, which deploys a notification-handler
        // Lambda with s3:PutBucketNotification on "*".
        ((CfnBucket)Raw.Node.DefaultChild!).AddPropertyOverride(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", true);
        Work = DataBucket("Work", versioned: false,
            // A run's outputs (input copy, features, splits, predictions, reports) are kept for the retention period.
            new LifecycleRule { Id = "expire-run-outputs", Prefix = RunsPrefix, Expiration = Duration.Days(settings.RunRetentionDays) });
        Artifacts = DataBucket("Artifacts", versioned: true);
        AthenaResults = new Bucket(this, "AthenaResults", new BucketProps
        {
            Encryption = BucketEncryption.S3_MANAGED,
            BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
            EnforceSSL = true,
            ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED,
            // Retained like the others: deleting a non-empty bucket would fail the stack deletion.
            RemovalPolicy = RemovalPolicy.RETAIN,
            LifecycleRules =
            [
                new LifecycleRule
                {
                    Id = "expire-query-results",
                    Expiration = Duration.Days(settings.AthenaResultsExpirationDays),
                    AbortIncompleteMultipartUploadAfter = Duration.Days(1),
                },
            ],
        });
    }

    /// <summary>Where upload batches land: <c>incoming/{batchId}/...</c> (the upload convention).</summary>
    public const string RawPrefix = "incoming/";

    /// <summary>Run layout prefix in the work and artifact buckets (<c>runs/{runId}/...</c>).</summary>
    public const string RunsPrefix = "runs/";

    /// <summary>List (with versions, for the data fingerprint) and read the upload batches.</summary>
    public static PolicyStatement[] ReadRaw(Buckets buckets) =>
    [
        List(buckets.Raw, RawPrefix, "s3:ListBucket", "s3:ListBucketVersions"),
        Objects(buckets.Raw, RawPrefix, "s3:GetObject", "s3:GetObjectVersion"),
    ];

    /// <summary>Read and write the per-run objects of one bucket.</summary>
    public static PolicyStatement[] ReadWriteRuns(IBucket bucket) =>
    [
        List(bucket, RunsPrefix, "s3:ListBucket"),
        Objects(bucket, RunsPrefix, "s3:GetObject", "s3:PutObject"),
    ];

    public static PolicyStatement List(IBucket bucket, string prefix, params string[] actions) => new(new PolicyStatementProps
    {
        Actions = actions,
        Resources = [bucket.BucketArn],
        Conditions = new Dictionary<string, object>
        {
            ["StringLike"] = new Dictionary<string, object> { ["s3:prefix"] = new[] { prefix + "*" } },
        },
    });

    public static PolicyStatement Objects(IBucket bucket, string prefix, params string[] actions) => new(new PolicyStatementProps
    {
        Actions = actions,
        Resources = [bucket.ArnForObjects(prefix + "*")],
    });

    private Bucket DataBucket(string id, bool versioned, params LifecycleRule[] rules) => new(this, id, new BucketProps
    {
        Encryption = BucketEncryption.KMS_MANAGED,
        BucketKeyEnabled = true,
        BlockPublicAccess = BlockPublicAccess.BLOCK_ALL,
        EnforceSSL = true,
        Versioned = versioned,
        ObjectOwnership = ObjectOwnership.BUCKET_OWNER_ENFORCED,
        RemovalPolicy = RemovalPolicy.RETAIN,
        LifecycleRules =
        [
            new LifecycleRule { Id = "abort-incomplete-uploads", AbortIncompleteMultipartUploadAfter = Duration.Days(7) },
            .. versioned
                ? [new LifecycleRule { Id = "expire-old-versions", NoncurrentVersionExpiration = Duration.Days(90) }]
                : Array.Empty<LifecycleRule>(),
            .. rules,
        ],
    });
}
