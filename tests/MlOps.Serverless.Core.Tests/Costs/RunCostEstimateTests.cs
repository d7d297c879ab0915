using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Costs;

namespace MlOps.Serverless.Core.Tests.Costs;

public sealed class RunCostEstimateTests
{
    [Fact]
    public void Default_configuration_is_twenty_ml_m5_xlarge_hours_at_list_price_with_the_spot_discount_beside_it()
    {
        var estimate = RunCostEstimate.For(PipelineConfiguration.Defaults, batchBytes: 13_000_000);

        Assert.Equal(20, estimate.TrainingJobs);
        Assert.Equal(20.0, estimate.MaxInstanceHours, 6);       // 20 jobs × 1 instance × 3600 s
        Assert.Equal(4.60, estimate.TrainingOnDemandUsd, 6);    // × $0.23/h
        Assert.Equal(4.14, estimate.SpotDiscountUpToUsd, 6);    // up to 90 % less with managed spot, shown, not subtracted
        Assert.Equal(8 * 13_000_000L, estimate.AthenaBytesScanned);
        Assert.Equal(8 * 13e6 / 1e12 * 5, estimate.AthenaUsd, 9);
        Assert.Equal(50 / 1000.0 * 0.025 + 6 / 1e6 * 0.20, estimate.OrchestrationUsd, 9);
        Assert.Equal(estimate.TrainingOnDemandUsd + estimate.AthenaUsd + estimate.OrchestrationUsd, estimate.TotalUsd, 9);
        Assert.Contains("20 job(s) × 1 × ml.m5.xlarge", estimate.Summary);
        Assert.Contains("$4.60 on-demand", estimate.Summary);
        Assert.Contains("up to $4.14 less with managed spot", estimate.Summary);
    }

    [Fact]
    public void Small_batches_are_billed_at_athenas_ten_megabyte_minimum_per_query() =>
        Assert.Equal(8 * 10_000_000L, RunCostEstimate.For(PipelineConfiguration.Defaults, batchBytes: 1_000).AthenaBytesScanned);

    [Fact]
    public void A_single_training_job_on_demand_counts_one_job_and_no_spot_discount()
    {
        var config = PipelineConfiguration.Defaults with
        {
            Tuning = PipelineConfiguration.Defaults.Tuning with { Enabled = false },
            Training = PipelineConfiguration.Defaults.Training with { UseSpotInstances = false, InstanceCount = 2, InstanceType = "ml.c5.2xlarge", MaxRuntimeSeconds = 1800 },
        };
        var estimate = RunCostEstimate.For(config, 0);
        Assert.Equal(1, estimate.TrainingJobs);
        Assert.Equal(1.0, estimate.MaxInstanceHours, 6);
        Assert.Equal(0.408, estimate.TrainingOnDemandUsd, 6);
        Assert.Equal(0, estimate.SpotDiscountUpToUsd);
        Assert.DoesNotContain("spot", estimate.Summary);
    }
}
