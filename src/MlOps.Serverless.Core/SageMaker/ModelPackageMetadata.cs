namespace MlOps.Serverless.Core.SageMaker;

/// <summary>Keys of the CustomerMetadataProperties every registered model package carries that later runs read.</summary>
public static class ModelPackageMetadata
{
    /// <summary>The version of the feature set the model was trained on (see the data project's <c>FeatureSet</c>).</summary>
    public const string FeatureSetVersion = "featureSetVersion";
}
