using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlOps.Serverless.Local.ServiceModels;

/// <summary>One broken constraint: where (the member path, e.g. <c>InputDataConfig[0].CompressionType</c>) and what, in plain words.</summary>
public sealed record ModelViolation(string Path, string Rule)
{
    public override string ToString() => $"{(Path.Length == 0 ? "the request" : Path)} {Rule}";
}

/// <summary>
/// Checks a JSON request (or response) against a botocore shape the way AWS validates requests: required members,
/// unknown members, types, enums, string lengths, patterns (whole value), number ranges, list and map sizes.
/// Blobs and documents take any JSON (Step Functions serializes a JSON Payload itself).
/// </summary>
public sealed class ShapeValidator(ServiceModel model)
{
    /// <param name="constraints">False checks only structure, types and enums (what an answer must satisfy).</param>
    public IReadOnlyList<ModelViolation> Validate(string shapeName, JsonNode? value, bool constraints = true)
    {
        var violations = new List<ModelViolation>();
        Check(shapeName, value, "", violations, constraints);
        return violations;
    }

    /// <summary>
    /// The value with only the members the shape has (recursively): what a client built from this model reads. An
    /// answer member newer than the model on this machine is dropped, not an error.
    /// </summary>
    public JsonNode? Prune(string shapeName, JsonNode? value)
    {
        var shape = model.Shape(shapeName);
        switch ((string?)shape["type"], value)
        {
            case ("structure", JsonObject obj):
                var members = (JsonObject)shape["members"]!;
                var pruned = new JsonObject();
                foreach (var (name, item) in obj)
                    if (members[name] is JsonObject member) pruned[name] = Prune((string)member["shape"]!, item?.DeepClone());
                return pruned;
            case ("list", JsonArray list):
                var itemShape = (string)shape["member"]!["shape"]!;
                return new JsonArray(list.Select(i => Prune(itemShape, i?.DeepClone())).ToArray());
            case ("map", JsonObject map):
                var valueShape = (string)shape["value"]!["shape"]!;
                var result = new JsonObject();
                foreach (var (key, item) in map) result[key] = Prune(valueShape, item?.DeepClone());
                return result;
            default:
                return value;
        }
    }

    private void Check(string shapeName, JsonNode? value, string path, List<ModelViolation> violations, bool constraints)
    {
        var shape = model.Shape(shapeName);
        var type = (string?)shape["type"];
        if (value is null)
        {
            violations.Add(new ModelViolation(path, "is null; AWS accepts no null values"));
            return;
        }
        switch (type)
        {
            case "structure":
                CheckStructure(shape, value, path, violations, constraints);
                break;
            case "list":
                CheckList(shape, value, path, violations, constraints);
                break;
            case "map":
                CheckMap(shape, value, path, violations, constraints);
                break;
            case "string":
                if (!IsKind(value, JsonValueKind.String))
                {
                    violations.Add(new ModelViolation(path, $"must be a string, but is {Kind(value)} {value.ToJsonString()}"));
                    return;
                }
                CheckString(shape, value.GetValue<string>(), path, violations, constraints);
                break;
            case "integer" or "long":
                if (!IsKind(value, JsonValueKind.Number) || !Number(value).TryGetInt64(out var whole))
                {
                    violations.Add(new ModelViolation(path, $"must be a whole number, but is {Kind(value)} {value.ToJsonString()}"));
                    return;
                }
                if (constraints) CheckRange(shape, whole, path, violations);
                break;
            case "float" or "double":
                if (!IsKind(value, JsonValueKind.Number))
                {
                    violations.Add(new ModelViolation(path, $"must be a number, but is {Kind(value)} {value.ToJsonString()}"));
                    return;
                }
                if (constraints) CheckRange(shape, Number(value).GetDouble(), path, violations);
                break;
            case "boolean":
                if (!IsKind(value, JsonValueKind.True) && !IsKind(value, JsonValueKind.False))
                    violations.Add(new ModelViolation(path, $"must be true or false, but is {Kind(value)} {value.ToJsonString()}"));
                break;
            case "timestamp":
                if (!IsKind(value, JsonValueKind.String) && !IsKind(value, JsonValueKind.Number))
                    violations.Add(new ModelViolation(path, $"must be a timestamp (ISO 8601 text or epoch seconds), but is {Kind(value)}"));
                break;
                // blob, document: any JSON
        }
    }

    private void CheckList(JsonObject shape, JsonNode value, string path, List<ModelViolation> violations, bool constraints)
    {
        if (value is not JsonArray list)
        {
            violations.Add(new ModelViolation(path, $"must be a list, but is {Kind(value)}"));
            return;
        }
        if (constraints) CheckSize(shape, list.Count, "item", "items", path, violations);
        var member = (string)shape["member"]!["shape"]!;
        for (var i = 0; i < list.Count; i++) Check(member, list[i], $"{path}[{i}]", violations, constraints);
    }

    private void CheckMap(JsonObject shape, JsonNode value, string path, List<ModelViolation> violations, bool constraints)
    {
        if (value is not JsonObject map)
        {
            violations.Add(new ModelViolation(path, $"must be a map (JSON object), but is {Kind(value)}"));
            return;
        }
        if (constraints) CheckSize(shape, map.Count, "entry", "entries", path, violations);
        var keyShape = (string)shape["key"]!["shape"]!;
        var valueShape = (string)shape["value"]!["shape"]!;
        foreach (var (key, item) in map)
        {
            Check(keyShape, JsonValue.Create(key), $"{path} key '{key}'", violations, constraints);
            Check(valueShape, item, $"{path}.{key}", violations, constraints);
        }
    }

    private void CheckStructure(JsonObject shape, JsonNode value, string path, List<ModelViolation> violations, bool constraints)
    {
        if (value is not JsonObject obj)
        {
            violations.Add(new ModelViolation(path, $"must be an object, but is {Kind(value)}"));
            return;
        }
        var members = (JsonObject)shape["members"]!;
        foreach (var required in shape["required"]?.AsArray().Select(r => (string)r!) ?? [])
        {
            if (!obj.ContainsKey(required)) violations.Add(new ModelViolation(Join(path, required), "is required but missing"));
        }
        foreach (var (name, item) in obj)
        {
            if (members[name] is not JsonObject member)
            {
                violations.Add(new ModelViolation(Join(path, name),
                    $"is not a member AWS knows here (known: {string.Join(", ", members.Select(m => m.Key))})"));
                continue;
            }
            Check((string)member["shape"]!, item, Join(path, name), violations, constraints);
        }
        if (shape["union"]?.GetValue<bool>() == true && obj.Count != 1)
            violations.Add(new ModelViolation(path, $"must set exactly one of {string.Join(", ", members.Select(m => m.Key))}, but sets {obj.Count}"));
    }

    private static void CheckString(JsonObject shape, string text, string path, List<ModelViolation> violations, bool constraints)
    {
        if (shape["enum"] is JsonArray allowed && !allowed.Any(a => (string?)a == text))
        {
            violations.Add(new ModelViolation(path, $"is '{Shorten(text)}', which is not one of the allowed values: {string.Join(", ", allowed.Select(a => (string?)a))}"));
            return;
        }
        if (!constraints) return;
        if (shape["min"] is JsonValue min && text.Length < min.GetValue<long>())
            violations.Add(new ModelViolation(path, $"must be at least {min} characters long, but '{Shorten(text)}' has {text.Length}"));
        if (shape["max"] is JsonValue max && text.Length > max.GetValue<long>())
            violations.Add(new ModelViolation(path, $"must be at most {max} characters long, but '{Shorten(text)}' has {text.Length}"));
        if ((string?)shape["pattern"] is { } pattern && !JavaPattern.Matches(pattern, text))
            violations.Add(new ModelViolation(path, $"is '{Shorten(text)}', which does not match the required pattern {pattern}"));
    }

    private static void CheckSize(JsonObject shape, int count, string one, string many, string path, List<ModelViolation> violations)
    {
        if (shape["min"] is JsonValue min && count < min.GetValue<long>())
            violations.Add(new ModelViolation(path, $"must have at least {min} {(min.GetValue<long>() == 1 ? one : many)}, but has {count}"));
        if (shape["max"] is JsonValue max && count > max.GetValue<long>())
            violations.Add(new ModelViolation(path, $"must have at most {max} {many}, but has {count}"));
    }

    private static void CheckRange(JsonObject shape, double number, string path, List<ModelViolation> violations)
    {
        var text = number.ToString(CultureInfo.InvariantCulture);
        if (shape["min"] is JsonValue min && number < min.GetValue<double>())
            violations.Add(new ModelViolation(path, $"must be at least {min}, but is {text}"));
        if (shape["max"] is JsonValue max && number > max.GetValue<double>())
            violations.Add(new ModelViolation(path, $"must be at most {max}, but is {text}"));
    }

    /// <summary>The number as JSON reads it, whatever .NET type the node holds (int, long, double, JsonElement).</summary>
    private static JsonElement Number(JsonNode value) => JsonElement.Parse(value.ToJsonString());

    private static bool IsKind(JsonNode value, JsonValueKind kind) => value is JsonValue v && v.GetValueKind() == kind;

    private static string Kind(JsonNode value) => value.GetValueKind() switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string Join(string path, string member) => path.Length == 0 ? member : $"{path}.{member}";

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "...";
}
