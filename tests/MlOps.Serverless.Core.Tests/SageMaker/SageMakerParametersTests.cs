using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.SageMaker;

namespace MlOps.Serverless.Core.Tests.SageMaker;

public sealed class SageMakerParametersTests
{
    [Fact]
    public void Seed_ranges_become_sagemaker_string_ranges()
    {
        var p = SageMakerParameters.From(PipelineConfiguration.Defaults, "us-east-1", "run-1");

        Assert.Equal(["num_round:50-150", "max_depth:5-15"], p.ParameterRanges.IntegerParameterRanges.Select(r => $"{r.Name}:{r.MinValue}-{r.MaxValue}"));
        Assert.Equal(["eta:0.01-0.5", "colsample_bytree:0.01-0.5", "alpha:1-20"], p.ParameterRanges.ContinuousParameterRanges.Select(r => $"{r.Name}:{r.MinValue}-{r.MaxValue}"));
        Assert.DoesNotContain("eta", p.StaticHyperParameters.Keys);
        Assert.Equal("reg:squarederror", p.StaticHyperParameters["objective"]);
        Assert.Equal("0.1", p.HyperParameters["eta"]);
        Assert.Equal(7200, p.StoppingCondition.MaxWaitTimeInSeconds);
    }

    [Fact]
    public void Eta_is_searched_on_a_log_scale_and_the_other_ranges_as_sagemaker_chooses()
    {
        var p = SageMakerParameters.From(PipelineConfiguration.Defaults, "us-east-1", "run-1");

        Assert.Equal(["num_round:Auto", "max_depth:Auto"], p.ParameterRanges.IntegerParameterRanges.Select(r => $"{r.Name}:{r.ScalingType}"));
        Assert.Equal(["eta:Logarithmic", "colsample_bytree:Auto", "alpha:Auto"], p.ParameterRanges.ContinuousParameterRanges.Select(r => $"{r.Name}:{r.ScalingType}"));
    }

    [Fact]
    public void A_configured_scaling_reaches_the_tuning_job()
    {
        var config = PipelineConfiguration.Defaults with
        {
            Tuning = PipelineConfiguration.Defaults.Tuning with { Eta = new(0.05, 0.3, "Linear"), Alpha = new(0.5, 50, "Logarithmic") },
        };
        var ranges = SageMakerParameters.From(config, "us-east-1", "run-1").ParameterRanges.ContinuousParameterRanges;

        Assert.Equal(("0.05", "0.3", "Linear"), (ranges[0].MinValue, ranges[0].MaxValue, ranges[0].ScalingType));
        Assert.Equal("Logarithmic", ranges[2].ScalingType);
    }

    [Theory]
    [InlineData("validation:mae", "rmse,mae")]
    [InlineData("validation:rmse", "mae,rmse")]
    public void Training_reads_the_weight_column_and_evaluates_the_tuning_objective_last(string objectiveMetric, string evalMetric)
    {
        var config = PipelineConfiguration.Defaults with { Tuning = new TuningSettings { ObjectiveMetric = objectiveMetric } };
        var p = SageMakerParameters.From(config, "us-east-1", "run-1");

        // The train/validation splits put the WMAE weight second; the tuner's trials and the single job both need it.
        Assert.Equal("1", p.StaticHyperParameters["csv_weights"]);
        Assert.Equal("1", p.HyperParameters["csv_weights"]);
        // The container early-stops a single job on the last metric, so the objective's metric goes last.
        Assert.Equal(evalMetric, p.StaticHyperParameters["eval_metric"]);
        Assert.Equal(evalMetric, p.HyperParameters["eval_metric"]);
    }

    [Fact]
    public void Without_spot_training_there_is_no_max_wait()
    {
        var config = PipelineConfiguration.Defaults with { Training = new TrainingSettings { UseSpotInstances = false } };
        Assert.Null(SageMakerParameters.From(config, "us-east-1", "r").StoppingCondition.MaxWaitTimeInSeconds);
    }

    [Theory]
    [InlineData("run-1")]
    [InlineData("a-very-long-execution-name-that-goes-on-and-on-well-past-every-sagemaker-limit-xyz")]
    [InlineData("weird__name__with__underscores")]
    [InlineData("---")]
    public void Job_names_fit_sagemaker_limits_and_differ_per_run(string runId)
    {
        var names = JobNames.For(runId);

        // With the attempt suffix the definition appends on the 1000th redrive, the longest it can get.
        Assert.InRange((names.Tuning + "-r1000").Length, 1, 32);
        foreach (var name in new[] { names.Tuning, names.Training, names.Model, names.Transform, names.Forecast, names.EndpointConfig, names.ChampionModel, names.ChampionTransform })
        {
            Assert.Matches("^[a-zA-Z0-9](-*[a-zA-Z0-9])*$", name + "-r1000");
            Assert.InRange((name + "-r1000").Length, 1, 63);
        }
        Assert.NotEqual(names.Tuning, JobNames.For(runId + "x").Tuning);
        // The champion's model and transform fall under the model-/eval- prefixes the IAM policies allow.
        Assert.StartsWith("model-champion-", names.ChampionModel);
        Assert.StartsWith("eval-champion-", names.ChampionTransform);
        Assert.NotEqual(names.Model, names.ChampionModel);
        Assert.NotEqual(names.Transform, names.ChampionTransform);
    }

    [Fact]
    public void Same_named_executions_of_two_state_machines_get_different_jobs_and_a_retry_the_same()
    {
        const string first = "arn:aws:states:us-east-1:123456789012:execution:team-a-retraining:weekly-2026-11-27";
        const string second = "arn:aws:states:us-east-1:123456789012:execution:team-b-retraining:weekly-2026-11-27";

        var a = JobNames.For("weekly-2026-11-27", first);

        Assert.NotEqual(a.Tuning, JobNames.For("weekly-2026-11-27", second).Tuning);
        Assert.NotEqual(a.Model, JobNames.For("weekly-2026-11-27", second).Model);
        Assert.Equal(a, JobNames.For("weekly-2026-11-27", first));
        Assert.StartsWith("tune-weekly-2026-", a.Tuning); // 26 characters: 32 less the attempt suffix
    }

    [Theory]
    [InlineData(1, "FullyReplicated")]
    [InlineData(2, "ShardedByS3Key")]
    [InlineData(4, "ShardedByS3Key")]
    public void Training_channels_are_sharded_across_instances_beyond_one(int instances, string distribution)
    {
        var config = PipelineConfiguration.Defaults with { Training = PipelineConfiguration.Defaults.Training with { InstanceCount = instances } };
        Assert.Equal(distribution, SageMakerParameters.From(config, "us-east-1", "r").DataDistribution);
    }

    [Fact]
    public void A_deployment_prefix_leads_every_name_within_the_limits()
    {
        var names = JobNames.For("a-long-execution-name-started-by-eventbridge_0123456789", "arn:x", "team-forecasting");
        foreach (var name in new[] { names.Tuning, names.Training, names.Model, names.Transform, names.Forecast, names.EndpointConfig })
        {
            Assert.StartsWith("team-forecasting-", name);
            Assert.Matches("^[a-zA-Z0-9](-*[a-zA-Z0-9])*$", name);
        }
        Assert.StartsWith("team-forecasting-tune-", names.Tuning);
        Assert.InRange(names.Tuning.Length, 1, 32);
        Assert.StartsWith("team-forecasting-epc-", names.EndpointConfig);
    }
}
