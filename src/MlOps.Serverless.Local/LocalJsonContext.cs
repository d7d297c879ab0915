using System.Text.Json.Serialization;

namespace MlOps.Serverless.Local;

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Dictionary<string, int>))]
internal sealed partial class LocalJsonContext : JsonSerializerContext;
