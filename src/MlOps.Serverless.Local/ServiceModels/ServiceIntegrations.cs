using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Adapters;

namespace MlOps.Serverless.Local.ServiceModels;

/// <summary>
/// What a Task state's Resource calls, as AWS's service models name it, and the error Step Functions reports when the
/// service refuses the request. Optimized integrations report the AWS SDK for Java's exception names
/// (<c>SageMaker.AmazonSageMakerException</c> for SageMaker's unmodelled ValidationException); AWS SDK integrations
/// report <c>{Service}.{ErrorName}</c> with the Exception suffix
/// (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html).
/// </summary>
/// <param name="Service">botocore's folder name: sagemaker, athena, sns, lambda, s3, stepfunctions.</param>
/// <param name="Operation">The API operation, e.g. CreateTrainingJob.</param>
/// <param name="AnswerOperation">The operation whose output shape the Task result has (for .sync: the Describe*/Get* call).</param>
/// <param name="InvalidRequestError">The Error name of a request the model refuses.</param>
/// <param name="SdkIntegration">An <c>aws-sdk</c> integration: member names start with a capital (<see cref="BotocoreModels.LoadForSdkIntegration"/>).</param>
public sealed record ServiceIntegration(string Service, string Operation, string AnswerOperation, string InvalidRequestError, bool SdkIntegration = false)
{
    private const string Optimized = "arn:aws:states:::";
    private const string Sdk = "arn:aws:states:::aws-sdk:";

    /// <summary>Lambda's synchronous Invoke takes at most 6 MB of payload (RequestTooLargeException above).</summary>
    public const int LambdaMaxPayloadBytes = 6 * 1024 * 1024;

    private static readonly Dictionary<string, (string Optimized, string Sdk)> InvalidRequest = new(StringComparer.Ordinal)
    {
        ["sagemaker"] = ("SageMaker.AmazonSageMakerException", "SageMaker.ValidationException"),
        ["athena"] = ("Athena.InvalidRequestException", "Athena.InvalidRequestException"),
        ["sns"] = ("SNS.InvalidParameterException", "Sns.InvalidParameterException"),
        ["lambda"] = ("Lambda.InvalidParameterValueException", "Lambda.InvalidParameterValueException"),
        ["s3"] = ("S3.AmazonS3Exception", "S3.S3Exception"),
        ["sfn"] = ("Sfn.ValidationException", "Sfn.ValidationException"),
    };

    /// <summary>Where an ARN's service name and botocore's folder differ.</summary>
    private static readonly Dictionary<string, string> ModelFolder = new(StringComparer.Ordinal) { ["sfn"] = "stepfunctions" };

    /// <summary>The operation's model, with member names as this integration spells them.</summary>
    public ServiceModel Model => SdkIntegration ? BotocoreModels.LoadForSdkIntegration(Service) : BotocoreModels.Load(Service);

    /// <summary>The integration a Resource names, or null for one outside the services the stand-ins play.</summary>
    public static ServiceIntegration? Resolve(string resource)
    {
        bool sdk;
        string rest;
        if (resource.StartsWith(Sdk, StringComparison.Ordinal)) (sdk, rest) = (true, resource[Sdk.Length..]);
        else if (resource.StartsWith(Optimized, StringComparison.Ordinal)) (sdk, rest) = (false, resource[Optimized.Length..]);
        else return null;
        var parts = rest.Split(':');
        if (parts.Length != 2 || !InvalidRequest.TryGetValue(parts[0], out var errors)) return null;
        var service = ModelFolder.GetValueOrDefault(parts[0], parts[0]);
        var action = parts[1];
        if (action.Contains('.')) action = action[..action.IndexOf('.')]; // .sync, .sync:2, .waitForTaskToken
        var operation = char.ToUpperInvariant(action[0]) + action[1..];
        var answer = parts[1].Contains(".sync", StringComparison.Ordinal) ? SyncAnswer(service, operation) : operation;
        return new ServiceIntegration(service, operation, answer, sdk ? errors.Sdk : errors.Optimized, sdk);
    }

    /// <summary>A .sync integration answers with the finished job's Describe*/Get* output.</summary>
    private static string SyncAnswer(string service, string operation) => (service, operation) switch
    {
        ("sagemaker", _) when operation.StartsWith("Create", StringComparison.Ordinal) => "Describe" + operation["Create".Length..],
        ("athena", "StartQueryExecution") => "GetQueryExecution",
        _ => operation,
    };

    /// <summary>Refuses a request AWS would refuse: <see cref="TaskFailure"/> with the integration's error name and every broken rule.</summary>
    public void CheckRequest(string stateName, JsonNode? request)
    {
        var model = Model;
        if (!model.HasOperation(Operation))
            throw new TaskFailure(InvalidRequestError, $"State {stateName}: {Service} has no operation {Operation} in AWS's API model.");
        var problems = model.InputShape(Operation) is { } input
            ? new ShapeValidator(model).Validate(input, request ?? new JsonObject())
            : [];
        if (problems.Count > 0)
            throw new TaskFailure(InvalidRequestError,
                $"{Operation} request from state {stateName} breaks AWS's {Service} API model: {string.Join("; ", problems)}.");
        if (Service == "lambda" && request?["Payload"] is { } payload
            && System.Text.Encoding.UTF8.GetByteCount(payload.ToJsonString()) is var bytes && bytes > LambdaMaxPayloadBytes)
            throw new TaskFailure("Lambda.RequestTooLargeException",
                $"State {stateName}: the Invoke payload is {bytes} bytes; Lambda takes at most {LambdaMaxPayloadBytes} bytes for a synchronous call.");
    }

    /// <summary>The answer shaped by the output model: members the model does not have are left out.</summary>
    public JsonNode? ShapeAnswer(JsonNode? answer)
    {
        var model = Model;
        return answer is not null && model.OutputShape(AnswerOperation) is { } output ? new ShapeValidator(model).Prune(output, answer) : answer;
    }

    /// <summary>The members, types and enums an answer must have; a local stand-in that strays from them is a bug.</summary>
    public IReadOnlyList<ModelViolation> CheckAnswer(JsonNode? answer)
    {
        var model = Model;
        return model.OutputShape(AnswerOperation) is { } output
            ? new ShapeValidator(model).Validate(output, answer ?? new JsonObject(), constraints: false)
            : [];
    }
}
