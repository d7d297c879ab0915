using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Core.Tests.Configuration;

public sealed class ConfigurationOverridesTests
{
    private static Exception Error(string m) => new InvalidRunRequest(m);

    [Fact]
    public void Defaults_are_valid_and_match_the_seed()
    {
        var c = PipelineConfiguration.Defaults;
        Assert.Empty(ConfigurationValidator.Problems(c));
        Assert.Equal(("1.7-1", "Bayesian", 20, 4, "validation:mae"), (c.Training.XgboostVersion, c.Tuning.Strategy, c.Tuning.MaxJobs, c.Tuning.MaxParallelJobs, c.Tuning.ObjectiveMetric));
        Assert.True(c.Training.UseSpotInstances);
    }

    [Fact]
    public void Cli_pairs_parse_json_values_and_fall_back_to_strings()
    {
        var pairs = ConfigurationOverrides.FromPairs(["tuning.maxJobs=8", "tuning.strategy=Random", "tuning.enabled=false"], Error);
        var config = ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, pairs, "--set", Error);

        Assert.Equal((8, "Random", false), (config.Tuning.MaxJobs, config.Tuning.Strategy, config.Tuning.Enabled));
    }

    [Fact]
    public void Malformed_pair_is_rejected()
    {
        var error = Assert.Throws<InvalidRunRequest>(() => ConfigurationOverrides.FromPairs(["tuning.maxJobs"], Error));
        Assert.Contains("expected key=value", error.Message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var overrides = new JsonObject { ["tuning.maxJobs"] = 0, ["gate.maxWmaeRatioToNaive"] = -1 };
        var config = ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, overrides, "overrides", Error);
        var problems = ConfigurationValidator.Problems(config);

        Assert.Contains(problems, p => p.StartsWith("tuning.maxJobs"));
        Assert.Contains(problems, p => p.StartsWith("gate.maxWmaeRatioToNaive"));
    }
}
