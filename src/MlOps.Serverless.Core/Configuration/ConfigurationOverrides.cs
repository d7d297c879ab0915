using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Json;

namespace MlOps.Serverless.Core.Configuration;

/// <summary>
/// Applies layers of overrides to the defaults. An override is either a dotted key
/// (<c>"tuning.maxJobs": 8</c>) or a nested object (<c>"tuning": {"maxJobs": 8}</c>).
/// Unknown keys and mistyped values are rejected with the key path in the message.
/// </summary>
public static class ConfigurationOverrides
{
    public static PipelineConfiguration Apply(PipelineConfiguration baseline, JsonObject? overrides, string source, Func<string, Exception> error)
    {
        if (overrides is null || overrides.Count == 0) return baseline;
        var tree = JsonSerializer.SerializeToNode(baseline, CoreJsonContext.Default.PipelineConfiguration)!.AsObject();
        // A key whose default is derived is absent until given; it is still a key overrides may set.
        tree["tuning"]!.AsObject().TryAdd("maxParallelJobs", null);
        foreach (var (key, value) in Flatten(overrides, ""))
            Set(tree, key, value, source, error);
        try
        {
            return tree.Deserialize(CoreJsonContext.Default.PipelineConfiguration)
                ?? throw error($"{source}: the configuration is empty");
        }
        catch (JsonException e)
        {
            throw error($"{source}: {e.Path?.TrimStart('$', '.') ?? "value"} has the wrong type ({e.Message.Split(". Path", 2)[0]})");
        }
    }

    /// <summary>Parses <c>key=value</c> pairs (CLI <c>--set</c>); values are JSON where they parse, else strings.</summary>
    public static JsonObject FromPairs(IEnumerable<string> pairs, Func<string, Exception> error)
    {
        var result = new JsonObject();
        foreach (var pair in pairs)
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0) throw error($"--set {pair}: expected key=value, e.g. tuning.maxJobs=8");
            var key = pair[..eq].Trim();
            var raw = pair[(eq + 1)..].Trim();
            JsonNode? value;
            try { value = JsonNode.Parse(raw); }
            catch (JsonException) { value = JsonValue.Create(raw); }
            result[key] = value;
        }
        return result;
    }

    private static IEnumerable<(string Key, JsonNode? Value)> Flatten(JsonObject node, string prefix)
    {
        foreach (var (name, value) in node)
        {
            var key = prefix.Length == 0 ? name : prefix + "." + name;
            if (value is JsonObject nested) foreach (var inner in Flatten(nested, key)) yield return inner;
            else yield return (key, value);
        }
    }

    private static void Set(JsonObject tree, string key, JsonNode? value, string source, Func<string, Exception> error)
    {
        var parts = key.Split('.');
        JsonObject current = tree;
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            var existing = current.FirstOrDefault(p => string.Equals(p.Key, part, StringComparison.Ordinal));
            if (existing.Key is null)
                throw error($"{source}: unknown configuration key '{key}' ('{part}' is not one of: {string.Join(", ", current.Select(p => p.Key))})");
            if (i == parts.Length - 1)
            {
                if (existing.Value is JsonObject && value is not JsonObject)
                    throw error($"{source}: '{key}' is a section; set one of its keys ({string.Join(", ", ((JsonObject)existing.Value).Select(p => key + "." + p.Key))})");
                if (value is null || (existing.Value is JsonValue ev && value is JsonValue nv && ev.GetValueKind() != nv.GetValueKind()
                        && !(IsBool(ev) && IsBool(nv))))
                    throw error($"{source}: '{key}' expects {Describe(existing.Value)}, got {(value is null ? "null" : Describe(value))} ({value?.ToJsonString() ?? "null"})");
                current[part] = value.DeepClone();
                return;
            }
            current = existing.Value as JsonObject
                ?? throw error($"{source}: '{string.Join('.', parts[..(i + 1)])}' is a value, not a section, so '{key}' does not exist");
        }
    }

    private static bool IsBool(JsonValue v) => v.GetValueKind() is JsonValueKind.True or JsonValueKind.False;

    private static string Describe(JsonNode? node) => node?.GetValueKind() switch
    {
        JsonValueKind.Number => "a number",
        JsonValueKind.String => "a string",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "a value",
    };
}
