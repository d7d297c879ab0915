using System.Security.Cryptography;
using System.Text;
using MlOps.Serverless.Core.SageMaker;

namespace MlOps.Serverless.Data.Catalog;

/// <summary>
/// The version of the feature set a model is trained on: derived from the features SQL (comments and layout
/// ignored) and the feature column list (names, types, order). A model reads its features by position, so a
/// model of another version cannot score this version's feature files; every model package records the
/// version it was trained on (<see cref="ModelPackageMetadata.FeatureSetVersion"/> in CustomerMetadataProperties).
/// </summary>
public static class FeatureSet
{
    /// <summary>The definition placeholder (<c>${FeatureSetVersion}</c>) that carries <see cref="Version"/>.</summary>
    public const string Placeholder = "FeatureSetVersion";

    private static readonly Lazy<string> Current = new(() => VersionOf(SqlTemplates.Source(SqlQuery.Features), DataCatalog.FeatureColumns));

    /// <summary>The version of this build's features SQL and <see cref="DataCatalog.FeatureColumns"/>.</summary>
    public static string Version => Current.Value;

    /// <summary><c>fs-</c> and 12 hex digits of SHA-256 over the compacted SQL and the columns' <c>name:type</c> in order.</summary>
    public static string VersionOf(string featuresSql, IEnumerable<ColumnDefinition> columns)
    {
        var definition = SqlTemplates.Compact(featuresSql) + "\n" + string.Join(",", columns.Select(c => $"{c.Name}:{c.Type}"));
        return "fs-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(definition)))[..12];
    }
}
