using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Data.Tests.Catalog;

public class FeatureSetTests
{
    private const string Sql = "-- features\nSELECT a,\n  b FROM t";
    private static readonly ColumnDefinition[] Columns = [new("a", "int"), new("b", "double")];

    [Fact]
    public void The_version_names_this_builds_features_sql_and_column_list()
    {
        Assert.Matches("^fs-[0-9a-f]{12}$", FeatureSet.Version);
        Assert.Equal(FeatureSet.VersionOf(SqlTemplates.Source(SqlQuery.Features), DataCatalog.FeatureColumns), FeatureSet.Version);
        Assert.Equal(FeatureSet.Version, SqlTemplates.DefinitionSubstitutions()[FeatureSet.Placeholder]);
    }

    [Fact]
    public void Comments_and_layout_do_not_change_the_version()
    {
        Assert.Equal(FeatureSet.VersionOf(Sql, Columns), FeatureSet.VersionOf("SELECT a, b -- other comment\nFROM   t", Columns));
    }

    public static TheoryData<string, string, ColumnDefinition[]> Changes() => new()
    {
        { "the SQL", "SELECT a, b * 2 FROM t", Columns },
        { "a column's name", Sql, [new("a", "int"), new("c", "double")] },
        { "a column's type", Sql, [new("a", "int"), new("b", "int")] },
        { "the column order", Sql, [new("b", "double"), new("a", "int")] },
        { "a column added", Sql, [.. Columns, new("d", "double")] },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void Any_change_to_what_the_model_reads_changes_the_version(string change, string sql, ColumnDefinition[] columns)
    {
        Assert.True(FeatureSet.VersionOf(Sql, Columns) != FeatureSet.VersionOf(sql, columns), $"changing {change} kept the version");
    }
}
