namespace MlOps.Serverless.Core.Json;

/// <summary>
/// The one JSON convention shared by the stages and the state machine: camelCase property names,
/// enums as camelCase strings, nulls omitted. ASL paths such as <c>$.run.data.bucket</c> rely on it.
/// Every project's source-generated context uses these options:
/// <code>[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, UseStringEnumConverter = true)]</code>
/// </summary>
public static class JsonNaming;
