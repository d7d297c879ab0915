namespace MlOps.Serverless.Local.Run;

/// <summary>
/// Where local mode keeps things. Everything persistent lives under <see cref="Root"/> so successive runs
/// share a registry (the champion) and an MLflow store, the way one AWS account would:
/// <code>
/// {root}/s3/{bucket}/...        local S3 (raw uploads, run outputs, model artifacts)
/// {root}/sagemaker/             local SageMaker state (jobs, models, model packages)
/// {root}/mlflow/                local MLflow store (when no tracking server is given)
/// {root}/sample-data/           the generated sample data set
/// {root}/runs/{runId}/          one folder per run: inputs, history, report (with its chart), notifications
/// </code>
/// </summary>
public sealed record LocalLayout(string Root)
{
    public const string RawBucket = "mlops-raw";
    public const string WorkBucket = "mlops-work";
    public const string ArtifactBucket = "mlops-artifacts";
    /// <summary>A real region name: AWS's models refuse ARNs with any other (e.g. Lambda's FunctionName pattern).</summary>
    public const string Region = "eu-west-1";
    public const string Account = "000000000000";

    public string S3Root => Path.Combine(Root, "s3");
    public string SageMakerState => Path.Combine(Root, "sagemaker");
    public string SampleData => Path.Combine(Root, "sample-data");
    public string RunFolder(string runId) => Path.Combine(Root, "runs", runId);
}
