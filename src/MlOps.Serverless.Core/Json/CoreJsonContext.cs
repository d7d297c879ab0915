using System.Text.Json;
using System.Text.Json.Serialization;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Core.Storage;

namespace MlOps.Serverless.Core.Json;

/// <summary>Source-generated serialisation of the shared contracts (no reflection at run time).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(PipelineConfiguration))]
[JsonSerializable(typeof(CostGuardrails))]
[JsonSerializable(typeof(RunRequest))]
[JsonSerializable(typeof(StoredObject))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(PrepareRunInput))]
[JsonSerializable(typeof(FailureNotifierInput))]
[JsonSerializable(typeof(FailureNotice))]
public sealed partial class CoreJsonContext : JsonSerializerContext;
