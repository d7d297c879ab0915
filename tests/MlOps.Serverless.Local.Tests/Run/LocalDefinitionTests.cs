using System.Text.RegularExpressions;
using MlOps.Serverless.Local.Run;

namespace MlOps.Serverless.Local.Tests.Run;

public sealed class LocalDefinitionTests
{
    // CreateModelPackageGroup's ModelPackageGroupName constraint.
    private static readonly Regex SageMakerName = new("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$");

    [Fact]
    public void The_sample_data_has_its_own_model_package_group()
    {
        Assert.Equal("retail-weekly-sales-sample", LocalDefinition.ModelPackageGroupFor(null));
    }

    [Fact]
    public void Each_data_folder_gets_a_stable_group_of_its_own()
    {
        var real = LocalDefinition.ModelPackageGroupFor("/data/one/retail-data-analytics");

        Assert.StartsWith("retail-weekly-sales-retail-data-analytics-", real);
        Assert.Equal(real, LocalDefinition.ModelPackageGroupFor("/data/one/retail-data-analytics/"));
        Assert.NotEqual(real, LocalDefinition.ModelPackageGroupFor("/data/two/retail-data-analytics"));
        Assert.NotEqual(real, LocalDefinition.ModelPackageGroupFor(null));
    }

    [Theory]
    [InlineData("/data/Retail Data (2012) — copy")]
    [InlineData("/data/a-very-long-folder-name-that-goes-on-and-on-well-past-what-sagemaker-accepts-for-a-name")]
    [InlineData("/data/---")]
    public void Group_names_are_valid_sagemaker_names(string folder)
    {
        var name = LocalDefinition.ModelPackageGroupFor(folder);

        Assert.Matches(SageMakerName, name);
        Assert.True(name.Length <= 63, name);
    }

    [Fact]
    public void The_definition_registers_into_the_group_it_is_built_for()
    {
        var definition = LocalDefinition.Build("retail-weekly-sales-sample");

        Assert.Contains("\"ModelPackageGroupName\": \"retail-weekly-sales-sample\"", definition);
        Assert.DoesNotContain("${ModelPackageGroupName}", definition);
    }

    [Fact]
    public void Each_data_source_registers_its_own_MLflow_model_unless_the_overrides_name_one()
    {
        var sample = LocalWorkflow.WithRegisteredModel(null, LocalDefinition.ModelPackageGroupFor(null));
        var real = LocalWorkflow.WithRegisteredModel(new System.Text.Json.Nodes.JsonObject { ["tuning.maxJobs"] = 8 }, LocalDefinition.ModelPackageGroupFor("/data/retail"));
        Assert.Equal("retail-weekly-sales-sample", (string?)sample["mlflow.registeredModelName"]);
        Assert.StartsWith("retail-weekly-sales-retail", (string?)real["mlflow.registeredModelName"]);
        Assert.Equal(8, (int?)real["tuning.maxJobs"]);
        var chosen = LocalWorkflow.WithRegisteredModel(System.Text.Json.Nodes.JsonNode.Parse("""{"mlflow":{"registeredModelName":"mine"}}""")!.AsObject(), "group");
        Assert.False(chosen.ContainsKey("mlflow.registeredModelName"));
    }
}
