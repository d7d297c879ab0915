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
    public void Max_parallel_jobs_defaults_to_at_most_max_jobs_unless_given()
    {
        var few = ConfigurationValidator.Validate(
            ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, new JsonObject { ["tuning.maxJobs"] = 2 }, "overrides", Error), Error);
        Assert.Equal(2, few.Tuning.MaxParallelJobs);
        Assert.Equal(4, PipelineConfiguration.Defaults.Tuning.MaxParallelJobs);

        var given = ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, new JsonObject { ["tuning.maxParallelJobs"] = 3 }, "overrides", Error);
        var later = ConfigurationOverrides.Apply(given, new JsonObject { ["tuning.maxJobs"] = 10 }, "overrides", Error);
        Assert.Equal(3, later.Tuning.MaxParallelJobs);

        var tooMany = ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, new JsonObject { ["tuning.maxJobs"] = 2, ["tuning.maxParallelJobs"] = 3 }, "overrides", Error);
        Assert.Contains("tuning.maxParallelJobs: expected at most tuning.maxJobs (2), got 3", ConfigurationValidator.Problems(tooMany));
    }

    [Fact]
    public void Grid_strategy_is_refused_because_the_ranges_are_numeric()
    {
        var config = ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, new JsonObject { ["tuning.strategy"] = "Grid" }, "overrides", Error);
        Assert.Contains(ConfigurationValidator.Problems(config), p => p.StartsWith("tuning.strategy: expected Bayesian, Random or Hyperband", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(100, false)]
    [InlineData(101, true)]
    public void More_tuning_jobs_than_one_page_of_training_jobs_is_refused(int maxJobs, bool refused)
    {
        var config = ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, new JsonObject { ["tuning.maxJobs"] = maxJobs }, "overrides", Error);
        Assert.Equal(refused, ConfigurationValidator.Problems(config).Any(p => p.StartsWith("tuning.maxJobs: expected an integer in [1, 100]", StringComparison.Ordinal)));
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

    [Theory]
    [InlineData("""{"tuning.eta.scaling":"Log"}""", "tuning.eta.scaling: expected Auto, Linear, Logarithmic or ReverseLogarithmic, got Log")]
    [InlineData("""{"tuning.alpha.scaling":"Logarithmic","tuning.alpha.min":0}""", "tuning.alpha.min: expected a value > 0 with Logarithmic scaling, got 0")]
    [InlineData("""{"tuning.numRound.scaling":"ReverseLogarithmic"}""", "tuning.numRound.scaling: expected Auto, Linear or Logarithmic")]
    [InlineData("""{"tuning.colsampleBytree.scaling":"ReverseLogarithmic","tuning.colsampleBytree.max":1}""", "tuning.colsampleBytree: expected 0 <= min and max < 1 with ReverseLogarithmic scaling")]
    public void Scalings_follow_sagemakers_range_rules(string overrides, string problem)
    {
        var config = ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, JsonNode.Parse(overrides)!.AsObject(), "overrides", Error);

        Assert.Contains(ConfigurationValidator.Problems(config), p => p.StartsWith(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void Eta_defaults_to_a_log_scale_and_can_be_set_back_to_linear()
    {
        Assert.Equal("Logarithmic", PipelineConfiguration.Defaults.Tuning.Eta.Scaling);
        var pairs = ConfigurationOverrides.FromPairs(["tuning.eta.scaling=Linear"], Error);
        var config = ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, pairs, "--set", Error);

        Assert.Equal(new ContinuousRange(0.01, 0.5, "Linear"), config.Tuning.Eta);
        Assert.Empty(ConfigurationValidator.Problems(config));
    }
}
