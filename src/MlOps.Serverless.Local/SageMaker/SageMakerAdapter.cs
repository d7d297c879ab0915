using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Local.Adapters;

namespace MlOps.Serverless.Local.SageMaker;

/// <summary>
/// Local SageMaker: dispatches the state machine's SageMaker Task resources (optimized integrations
/// <c>arn:aws:states:::sagemaker:*</c> and SDK integrations <c>arn:aws:states:::aws-sdk:sagemaker:*</c>)
/// to local XGBoost training, tuning and batch transform and to the local registry, all sharing one
/// <see cref="LocalJobStore"/> in <paramref name="stateDirectory"/>.
/// </summary>
public sealed class SageMakerAdapter : ILocalServiceAdapter
{
    private const string Optimized = "arn:aws:states:::sagemaker:";
    private const string Sdk = "arn:aws:states:::aws-sdk:sagemaker:";

    public SageMakerAdapter(IObjectStore s3, string stateDirectory, LocalAwsIdentity? identity = null, StructuredLog? log = null)
    {
        identity ??= new LocalAwsIdentity();
        Jobs = new LocalJobStore(stateDirectory);
        Training = new LocalTrainingJobs(s3, Jobs, identity, log);
        Tuning = new LocalTuningJobs(s3, Jobs, Training, identity, log);
        Transform = new LocalBatchTransform(s3, Jobs, identity, log);
        Registry = new LocalModelRegistry(Jobs, identity);
    }

    public LocalJobStore Jobs { get; }
    public LocalTrainingJobs Training { get; }
    public LocalTuningJobs Tuning { get; }
    public LocalBatchTransform Transform { get; }
    public LocalModelRegistry Registry { get; }

    /// <summary>The resources this adapter answers, without the integration prefix.</summary>
    public static IReadOnlyList<string> Actions { get; } =
    [
        "createTrainingJob", "createHyperParameterTuningJob", "createModel", "createTransformJob",
        "describeTrainingJob", "describeHyperParameterTuningJob", "listTrainingJobsForHyperParameterTuningJob",
        "describeModel", "describeTransformJob",
        "createModelPackage", "listModelPackages", "describeModelPackage", "updateModelPackage",
        "createEndpointConfig", "createEndpoint", "updateEndpoint",
    ];

    public bool CanHandle(string resource) => Action(resource) is not null;

    public async Task<JsonNode?> InvokeAsync(string resource, JsonNode? input, CancellationToken cancellationToken)
    {
        var (action, sync) = Action(resource) ?? throw new TaskFailure("States.Runtime", $"Resource {resource} is not a SageMaker integration the local adapter knows");
        return action switch
        {
            // The optimized integrations without .sync return only the Create* response, like AWS.
            "createTrainingJob" => Sync(await Training.CreateAsync(input, cancellationToken), sync, "TrainingJobArn"),
            "createHyperParameterTuningJob" => Sync(await Tuning.CreateAsync(input, cancellationToken), sync, "HyperParameterTuningJobArn"),
            "createTransformJob" => Sync(await Transform.CreateAsync(input, cancellationToken), sync, "TransformJobArn"),
            "createModel" => await Transform.CreateModelAsync(input, cancellationToken),
            "describeTrainingJob" => Training.DescribeExisting(input),
            "describeHyperParameterTuningJob" => Tuning.DescribeExisting(input),
            "listTrainingJobsForHyperParameterTuningJob" => Tuning.ListTrainingJobs(input),
            "describeModel" => Transform.DescribeModel(input),
            "describeTransformJob" => Transform.DescribeExisting(input),
            "createModelPackage" => Registry.CreateModelPackage(input),
            "listModelPackages" => Registry.ListModelPackages(input),
            "describeModelPackage" => Registry.DescribeModelPackage(input),
            "updateModelPackage" => Registry.UpdateModelPackage(input),
            "createEndpointConfig" => Registry.CreateEndpointConfig(input),
            "createEndpoint" => Registry.PutEndpoint(input, update: false),
            "updateEndpoint" => Registry.PutEndpoint(input, update: true),
            _ => throw new TaskFailure("States.Runtime", $"Resource {resource} is not implemented locally"),
        };
    }

    private static JsonObject Sync(JsonObject describe, bool sync, string arnField) =>
        sync ? describe : new JsonObject { [arnField] = describe[arnField]!.DeepClone() };

    private static (string Action, bool Sync)? Action(string resource)
    {
        string rest;
        if (resource.StartsWith(Optimized, StringComparison.Ordinal)) rest = resource[Optimized.Length..];
        else if (resource.StartsWith(Sdk, StringComparison.Ordinal)) rest = resource[Sdk.Length..];
        else return null;
        var sync = rest.EndsWith(".sync", StringComparison.Ordinal);
        var action = sync ? rest[..^".sync".Length] : rest;
        return Actions.Contains(action) ? (action, sync) : null;
    }
}
