using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MlOps.Serverless.Local.Adapters;

namespace MlOps.Serverless.Local.SageMaker;

/// <summary>
/// Reads fields of a SageMaker API request (PascalCase JSON, as Step Functions sends it) by path, and
/// raises the errors SageMaker would: <c>SageMaker.AmazonSageMakerException</c> naming the field for an
/// invalid request, <c>SageMaker.ResourceNotFoundException</c> for an unknown resource.
/// </summary>
internal static partial class SageMakerRequest
{
    public const string ValidationError = "SageMaker.AmazonSageMakerException";
    public const string NotFoundError = "SageMaker.ResourceNotFoundException";
    public const string InUseError = "SageMaker.ResourceInUseException";

    public static TaskFailure Invalid(string message) => new(ValidationError, message);
    public static TaskFailure NotFound(string message) => new(NotFoundError, message);

    public static JsonNode? At(JsonNode? root, string path)
    {
        var node = root;
        foreach (var part in path.Split('.'))
        {
            if (node is not JsonObject obj || !obj.TryGetPropertyValue(part, out node)) return null;
        }
        return node;
    }

    public static string RequiredString(JsonNode? root, string path) =>
        OptionalString(root, path) ?? throw Invalid($"1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null");

    public static string? OptionalString(JsonNode? root, string path) => At(root, path) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.ToJsonString(),
        var other => throw Invalid($"Value at '{path}' must be a string, got {other.GetValueKind()}"),
    };

    public static int? OptionalInt(JsonNode? root, string path)
    {
        var text = OptionalString(root, path);
        if (text is null) return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw Invalid($"Value '{text}' at '{path}' must be an integer");
    }

    public static int RequiredInt(JsonNode? root, string path) =>
        OptionalInt(root, path) ?? throw Invalid($"1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null");

    /// <summary>A string→string map (HyperParameters, CustomerMetadataProperties); SageMaker wants string values.</summary>
    public static Dictionary<string, string> StringMap(JsonNode? root, string path)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        switch (At(root, path))
        {
            case null:
                return result;
            case JsonObject map:
                foreach (var (key, value) in map)
                {
                    if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String) result[key] = v.GetValue<string>();
                    else throw Invalid($"Value at '{path}.{key}' must be a string (SageMaker map values are strings), got {value?.GetValueKind().ToString() ?? "null"}");
                }
                return result;
            default:
                throw Invalid($"Value at '{path}' must be a map of strings");
        }
    }

    public static JsonArray Array(JsonNode? root, string path, bool required = true) => At(root, path) switch
    {
        JsonArray array => array,
        null when !required => [],
        null => throw Invalid($"1 validation error detected: Value null at '{path}' failed to satisfy constraint: Member must not be null"),
        _ => throw Invalid($"Value at '{path}' must be a list"),
    };

    /// <summary>SageMaker resource names: <c>^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,max-1}</c>.</summary>
    public static string Name(JsonNode? root, string path, int maxLength = 63)
    {
        var name = RequiredString(root, path);
        if (name.Length > maxLength || !NamePattern().IsMatch(name))
            throw Invalid($"1 validation error detected: Value '{name}' at '{path}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){{0,{maxLength - 1}}}");
        return name;
    }

    public static JsonNode? Copy(JsonNode? node) => node?.DeepClone();

    public static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")]
    private static partial Regex NamePattern();
}

/// <summary>The local account and region that ARNs are built with.</summary>
public sealed record LocalAwsIdentity(string Region = "local", string Account = "000000000000")
{
    /// <summary>SageMaker lower-cases resource names in ARNs.</summary>
    public string Arn(string resourceType, string name) => $"arn:aws:sagemaker:{Region}:{Account}:{resourceType}/{name.ToLowerInvariant()}";
}
