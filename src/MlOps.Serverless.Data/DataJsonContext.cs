using System.Text.Json;
using System.Text.Json.Serialization;
using MlOps.Serverless.Data.Quality;

namespace MlOps.Serverless.Data;

/// <summary>Source-generated serialisation of the data stages' contracts. Constructor parameters are not
/// enforced as required: nulls are omitted on write (e.g. an unversioned object's <c>versionId</c>), so a
/// round-tripped run request must read them back as null.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(QualityVerdictInput))]
[JsonSerializable(typeof(QualityVerdictOutput))]
[JsonSerializable(typeof(QualityReport))]
[JsonSerializable(typeof(AthenaResultSet))]
public sealed partial class DataJsonContext : JsonSerializerContext;
