using System.Text.Json;
using System.Text.RegularExpressions;

namespace MlOps.Serverless.Core.StateMachines;

/// <summary>
/// The <c>${Name}</c> placeholders of an ASL definition, filled the way CloudFormation's
/// DefinitionSubstitutions fills them: plain text replacement inside the JSON text. Every placeholder
/// sits inside a JSON string, so values are JSON-string-escaped here; the CDK app passes
/// <see cref="EscapeForJsonString"/>-ed values and local mode calls <see cref="Substitute"/>.
/// </summary>
public static partial class DefinitionTemplate
{
    [GeneratedRegex(@"\$\{([A-Za-z][A-Za-z0-9]*)\}")]
    private static partial Regex PlaceholderPattern();

    public static IReadOnlySet<string> Placeholders(string definition) =>
        PlaceholderPattern().Matches(definition).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    public static string EscapeForJsonString(string value)
    {
        var quoted = JsonSerializer.Serialize(value, Json.CoreJsonContext.Default.String);
        return quoted[1..^1];
    }

    /// <summary>Fills every placeholder; a placeholder without a value is an error, as a deploy would leave it broken.</summary>
    public static string Substitute(string definition, IReadOnlyDictionary<string, string> values)
    {
        var missing = Placeholders(definition).Where(p => !values.ContainsKey(p)).Order().ToList();
        if (missing.Count > 0)
            throw new Errors.InvalidConfiguration($"No value for definition placeholder(s): {string.Join(", ", missing)}");
        return PlaceholderPattern().Replace(definition, m => EscapeForJsonString(values[m.Groups[1].Value]));
    }
}
