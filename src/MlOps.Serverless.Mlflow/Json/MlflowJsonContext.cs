using System.Text.Json;
using System.Text.Json.Serialization;
using MlOps.Serverless.Mlflow.Authentication;
using MlOps.Serverless.Mlflow.Client;
using MlOps.Serverless.Mlflow.Logging;

namespace MlOps.Serverless.Mlflow.Json;

/// <summary>
/// The project's one source-generated context. Our contracts are camelCase; MLflow's wire records and the
/// SageMaker shapes name their fields explicitly. Named floating-point literals let NaN metrics travel as
/// protobuf JSON ("NaN"), which MLflow accepts.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(LogBatchRequest))]
[JsonSerializable(typeof(CreateExperimentRequest))]
[JsonSerializable(typeof(CreateRunRequest))]
[JsonSerializable(typeof(UpdateRunRequest))]
[JsonSerializable(typeof(SearchRunsRequest))]
[JsonSerializable(typeof(CreateRegisteredModelRequest))]
[JsonSerializable(typeof(UpdateRegisteredModelRequest))]
[JsonSerializable(typeof(LogInputsRequest))]
[JsonSerializable(typeof(SetExperimentTagRequest))]
[JsonSerializable(typeof(CreateModelVersionRequest))]
[JsonSerializable(typeof(SetAliasRequest))]
[JsonSerializable(typeof(GetExperimentResponse))]
[JsonSerializable(typeof(CreateExperimentResponse))]
[JsonSerializable(typeof(RunResponse))]
[JsonSerializable(typeof(SearchRunsResponse))]
[JsonSerializable(typeof(RegisteredModelResponse))]
[JsonSerializable(typeof(ModelVersionResponse))]
[JsonSerializable(typeof(SearchModelVersionsResponse))]
[JsonSerializable(typeof(MlflowErrorBody))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(MlflowLoggerInput))]
[JsonSerializable(typeof(MlflowLoggerOutput))]
[JsonSerializable(typeof(OutboxEntry))]
[JsonSerializable(typeof(TrainingResult))]
[JsonSerializable(typeof(MlOps.Serverless.Core.Runs.TriggerKind))]
[JsonSerializable(typeof(MlflowCredentialsDocument))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
public sealed partial class MlflowJsonContext : JsonSerializerContext;
