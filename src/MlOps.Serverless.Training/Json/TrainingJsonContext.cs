using System.Text.Json;
using System.Text.Json.Serialization;
using MlOps.Serverless.Training.Gate;
using MlOps.Serverless.Training.Jobs;

namespace MlOps.Serverless.Training.Json;

/// <summary>Source-generated serialisation of this project's contracts (camelCase, nulls omitted).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(GateInput))]
[JsonSerializable(typeof(GateOutput))]
[JsonSerializable(typeof(EvaluationReport))]
[JsonSerializable(typeof(MetricCurves))]
public sealed partial class TrainingJsonContext : JsonSerializerContext;
