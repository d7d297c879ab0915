using System.Globalization;

namespace MlOps.Serverless.Core.Configuration;

/// <summary>
/// Deployment-time caps on what a run may spend; deployment settings and per-run overrides cannot exceed them.
/// Set with the CDK context <c>guardrails</c>; the defaults fit the sample problem with room to tune.
/// </summary>
public sealed record CostGuardrails
{
    /// <summary>Instance types training, tuning, batch transform and the endpoint may use. No local-NVMe types
    /// (<c>d</c> variants): SageMaker refuses a volume KMS key on those.</summary>
    public IReadOnlyList<string> AllowedInstanceTypes { get; init; } =
        ["ml.m5.large", "ml.m5.xlarge", "ml.m5.2xlarge", "ml.m5.4xlarge", "ml.c5.xlarge", "ml.c5.2xlarge", "ml.c5.4xlarge"];
    /// <summary>Instances per training job (<c>training.instanceCount</c>).</summary>
    public int MaxInstanceCount { get; init; } = 4;
    /// <summary>Training jobs per tuning job (<c>tuning.maxJobs</c>).</summary>
    public int MaxTuningJobs { get; init; } = 50;
    /// <summary>Training jobs running at once (<c>tuning.maxParallelJobs</c>).</summary>
    public int MaxParallelJobs { get; init; } = 10;
    /// <summary>Per training job, run time and spot wait alike (<c>training.maxRuntimeSeconds</c>, <c>training.maxWaitSeconds</c>).</summary>
    public int MaxRuntimeSeconds { get; init; } = 14400;
    /// <summary>ML storage volume per instance (<c>training.volumeSizeGb</c>).</summary>
    public int MaxVolumeSizeGb { get; init; } = 50;

    public static CostGuardrails Defaults { get; } = new();

    /// <summary>The guardrails' own mistakes (a cap that is not positive, a type that is not ml.*).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (AllowedInstanceTypes.Count == 0) problems.Add("guardrails.allowedInstanceTypes: expected at least one ml.* instance type");
        foreach (var type in AllowedInstanceTypes.Where(t => !t.StartsWith("ml.", StringComparison.Ordinal)))
            problems.Add($"guardrails.allowedInstanceTypes: expected ml.* instance types, got '{type}'");
        void Positive(int value, string key) { if (value < 1) problems.Add($"guardrails.{key}: expected a positive integer, got {value}"); }
        Positive(MaxInstanceCount, "maxInstanceCount");
        Positive(MaxTuningJobs, "maxTuningJobs");
        Positive(MaxParallelJobs, "maxParallelJobs");
        Positive(MaxRuntimeSeconds, "maxRuntimeSeconds");
        Positive(MaxVolumeSizeGb, "maxVolumeSizeGb");
        return problems;
    }

    /// <summary>Every configuration value above its cap, naming the key, the value and the cap.</summary>
    public IReadOnlyList<string> Exceeded(PipelineConfiguration c)
    {
        var exceeded = new List<string>();
        void Type(string key, string type)
        {
            if (!AllowedInstanceTypes.Contains(type, StringComparer.Ordinal))
                exceeded.Add($"{key}: '{type}' is not allowed by the deployment's cap guardrails.allowedInstanceTypes ({string.Join(", ", AllowedInstanceTypes)})");
        }
        void Cap(string key, int value, string cap, int limit)
        {
            if (value > limit)
                exceeded.Add($"{key}: {value.ToString(CultureInfo.InvariantCulture)} exceeds the deployment's cap guardrails.{cap} ({limit.ToString(CultureInfo.InvariantCulture)})");
        }
        Type("training.instanceType", c.Training.InstanceType);
        Type("predictions.transformInstanceType", c.Predictions.TransformInstanceType);
        if (c.Predictions.UpdateEndpoint) Type("predictions.endpointInstanceType", c.Predictions.EndpointInstanceType);
        Cap("training.instanceCount", c.Training.InstanceCount, "maxInstanceCount", MaxInstanceCount);
        Cap("training.volumeSizeGb", c.Training.VolumeSizeGb, "maxVolumeSizeGb", MaxVolumeSizeGb);
        Cap("training.maxRuntimeSeconds", c.Training.MaxRuntimeSeconds, "maxRuntimeSeconds", MaxRuntimeSeconds);
        if (c.Training.UseSpotInstances) Cap("training.maxWaitSeconds", c.Training.MaxWaitSeconds, "maxRuntimeSeconds", MaxRuntimeSeconds);
        if (c.Tuning.Enabled)
        {
            Cap("tuning.maxJobs", c.Tuning.MaxJobs, "maxTuningJobs", MaxTuningJobs);
            Cap("tuning.maxParallelJobs", c.Tuning.MaxParallelJobs, "maxParallelJobs", MaxParallelJobs);
        }
        return exceeded;
    }

    /// <summary>Throws the error <paramref name="error"/> builds, listing every value over its cap.</summary>
    public PipelineConfiguration Enforce(PipelineConfiguration configuration, Func<string, Exception> error)
    {
        var exceeded = Exceeded(configuration);
        return exceeded.Count == 0 ? configuration : throw error("Over the cost guardrails: " + string.Join("; ", exceeded));
    }
}
