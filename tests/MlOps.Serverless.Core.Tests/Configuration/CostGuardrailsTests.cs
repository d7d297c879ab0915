using MlOps.Serverless.Core.Configuration;

namespace MlOps.Serverless.Core.Tests.Configuration;

public sealed class CostGuardrailsTests
{
    [Fact]
    public void The_default_configuration_is_within_the_default_caps() =>
        Assert.Empty(CostGuardrails.Defaults.Exceeded(PipelineConfiguration.Defaults));

    [Fact]
    public void Every_value_over_its_cap_is_named_with_the_cap()
    {
        var config = PipelineConfiguration.Defaults with
        {
            Training = PipelineConfiguration.Defaults.Training with
            {
                InstanceType = "ml.p4d.24xlarge",
                InstanceCount = 20,
                VolumeSizeGb = 500,
                MaxRuntimeSeconds = 432000,
                MaxWaitSeconds = 432000,
            },
            Tuning = PipelineConfiguration.Defaults.Tuning with { MaxJobs = 500, GivenMaxParallelJobs = 100 },
        };
        var exceeded = CostGuardrails.Defaults.Exceeded(config);
        Assert.Contains(exceeded, e => e.StartsWith("training.instanceType: 'ml.p4d.24xlarge'", StringComparison.Ordinal) && e.Contains("guardrails.allowedInstanceTypes"));
        Assert.Contains("training.instanceCount: 20 exceeds the deployment's cap guardrails.maxInstanceCount (4)", exceeded);
        Assert.Contains("training.volumeSizeGb: 500 exceeds the deployment's cap guardrails.maxVolumeSizeGb (50)", exceeded);
        Assert.Contains("training.maxRuntimeSeconds: 432000 exceeds the deployment's cap guardrails.maxRuntimeSeconds (14400)", exceeded);
        Assert.Contains("training.maxWaitSeconds: 432000 exceeds the deployment's cap guardrails.maxRuntimeSeconds (14400)", exceeded);
        Assert.Contains("tuning.maxJobs: 500 exceeds the deployment's cap guardrails.maxTuningJobs (50)", exceeded);
        Assert.Contains("tuning.maxParallelJobs: 100 exceeds the deployment's cap guardrails.maxParallelJobs (10)", exceeded);
        Assert.Equal(7, exceeded.Count);
    }

    [Fact]
    public void Tuning_caps_do_not_apply_when_tuning_is_off() =>
        Assert.Empty(CostGuardrails.Defaults.Exceeded(PipelineConfiguration.Defaults with
        {
            Tuning = PipelineConfiguration.Defaults.Tuning with { Enabled = false, MaxJobs = 500, GivenMaxParallelJobs = 100 },
        }));

    [Fact]
    public void The_endpoint_instance_type_is_capped_only_when_the_endpoint_is_updated()
    {
        var predictions = PipelineConfiguration.Defaults.Predictions with { EndpointInstanceType = "ml.g5.48xlarge" };
        Assert.Empty(CostGuardrails.Defaults.Exceeded(PipelineConfiguration.Defaults with { Predictions = predictions }));
        Assert.Single(CostGuardrails.Defaults.Exceeded(PipelineConfiguration.Defaults with { Predictions = predictions with { UpdateEndpoint = true } }));
    }

    [Fact]
    public void Allowed_types_have_a_list_price_and_no_local_nvme_storage()
    {
        // A volume KMS key is refused on instance types with local NVMe storage (the "d" variants).
        Assert.All(CostGuardrails.Defaults.AllowedInstanceTypes, t =>
        {
            Assert.True(Core.Costs.ListPrices.TrainingPerInstanceHour.ContainsKey(t), t);
            Assert.DoesNotMatch(@"^ml\.[a-z]+\d+[a-z]*d\.", t);
        });
    }
}
