using MlOps.Serverless.Core.SageMaker;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Run;

/// <summary>The deployed definition with local values for its substitutions (what the CDK app fills in the cloud).</summary>
public static class LocalDefinition
{
    public const string GlueDatabase = "mlops";
    public const string WorkGroup = "primary";
    public const string ModelPackageGroupPrefix = "retail-weekly-sales";
    public const string SampleModelPackageGroup = ModelPackageGroupPrefix + "-sample";

    public static string FunctionArn(string function) => $"arn:aws:lambda:{LocalLayout.Region}:{LocalLayout.Account}:function:{function}";

    /// <summary>
    /// One model package group per data source (the sample, or a folder), as if each were its own deployment: the
    /// gate compares a challenger with the group's champion, and a champion scored on other data would judge it
    /// on numbers that are not comparable (a sample-data champion rejected every real-data run).
    /// </summary>
    public static string ModelPackageGroupFor(string? dataDirectory)
    {
        if (dataDirectory is null) return SampleModelPackageGroup;
        var path = Path.GetFullPath(dataDirectory).TrimEnd(Path.DirectorySeparatorChar);
        // SageMaker: at most 63 characters, letters, digits and single hyphens.
        return SageMakerNames.Compose(ModelPackageGroupPrefix, SageMakerNames.Slug(Path.GetFileName(path).ToLowerInvariant()),
            SageMakerNames.Hash(path), 63);
    }

    public static IReadOnlyDictionary<string, string> Values(string modelPackageGroup)
    {
        var values = new Dictionary<string, string>(SqlTemplates.DefinitionSubstitutions())
        {
            ["RawBucket"] = LocalLayout.RawBucket,
            ["WorkBucket"] = LocalLayout.WorkBucket,
            ["ArtifactBucket"] = LocalLayout.ArtifactBucket,
            ["AthenaWorkGroup"] = WorkGroup,
            ["GlueDatabase"] = GlueDatabase,
            ["SageMakerRoleArn"] = $"arn:aws:iam::{LocalLayout.Account}:role/mlops-sagemaker-local",
            ["SageMakerKmsKeyArn"] = $"arn:aws:kms:{LocalLayout.Region}:{LocalLayout.Account}:key/00000000-0000-4000-8000-000000000000",
            ["ModelPackageGroupName"] = modelPackageGroup,
            ["NotificationTopicArn"] = $"arn:aws:sns:{LocalLayout.Region}:{LocalLayout.Account}:mlops-notifications",
            ["EndpointName"] = "mlops-local-endpoint",
        };
        foreach (var stage in StageSpec.All)
            values[stage.Placeholder] = FunctionArn(stage.Id);
        return values;
    }

    public static string Build(string modelPackageGroup) => DefinitionTemplate.Substitute(DefinitionFile.LoadTemplate(), Values(modelPackageGroup));

    public const string FailureNotifierName = "mlops-failure-notifier";

    /// <summary>The deployed failure notifier's definition, with the local function and topic.</summary>
    public static string BuildFailureNotifier() =>
        DefinitionTemplate.Substitute(DefinitionFile.LoadTemplate(FailureNotification.DefinitionFileName), Values(SampleModelPackageGroup));
}
