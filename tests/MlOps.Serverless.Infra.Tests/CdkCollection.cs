namespace MlOps.Serverless.Infra.Tests;

/// <summary>All synthesising test classes share these syntheses and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class CdkCollection : ICollectionFixture<DefaultStack>, ICollectionFixture<FullFeaturedStack>, ICollectionFixture<ExistingTopicStack>
{
    public const string Name = "cdk";
}
