namespace MlOps.Serverless.Infra.Tests;

/// <summary>All synthesising test classes share these two syntheses and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class CdkCollection : ICollectionFixture<DefaultStack>, ICollectionFixture<FullFeaturedStack>
{
    public const string Name = "cdk";
}
