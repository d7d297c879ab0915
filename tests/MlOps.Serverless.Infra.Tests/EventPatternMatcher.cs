using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MlOps.Serverless.Infra.Tests;

/// <summary>
/// EventBridge's matching for the operators the stack's rules use: value lists, nested objects, <c>prefix</c>,
/// <c>suffix</c> and <c>wildcard</c> (where <c>*</c> matches any run of characters, '/' included). An operator it
/// does not know fails the test rather than matching by accident.
/// </summary>
public static class EventPatternMatcher
{
    public static bool Matches(JsonObject pattern, JsonObject evt, Func<JsonNode?, string> resolve)
    {
        foreach (var (field, expected) in pattern)
        {
            var actual = evt[field];
            switch (expected)
            {
                case JsonObject nested:
                    if (actual is not JsonObject nestedEvent || !Matches(nested, nestedEvent, resolve)) return false;
                    break;
                case JsonArray alternatives:
                    if (actual is JsonObject or JsonArray or null) return false;
                    var value = actual.ToString();
                    if (!alternatives.Any(a => MatchesOne(a, value, resolve))) return false;
                    break;
                default:
                    throw new InvalidOperationException($"Pattern field '{field}' must be an array or an object, got {expected?.ToJsonString()}");
            }
        }
        return true;
    }

    private static bool MatchesOne(JsonNode? alternative, string value, Func<JsonNode?, string> resolve)
    {
        if (alternative is JsonObject op && op.Count == 1 && op.First().Key is "prefix" or "suffix" or "wildcard")
        {
            var (name, argument) = op.First();
            var text = resolve(argument);
            return name switch
            {
                "prefix" => value.StartsWith(text, StringComparison.Ordinal),
                "suffix" => value.EndsWith(text, StringComparison.Ordinal),
                _ => Regex.IsMatch(value, "^" + string.Join(".*", text.Split('*').Select(Regex.Escape)) + "$", RegexOptions.Singleline),
            };
        }
        if (alternative is JsonObject unknown && unknown.Count == 1 && !unknown.ContainsKey("Ref") && !unknown.First().Key.StartsWith("Fn::", StringComparison.Ordinal))
            throw new InvalidOperationException($"Unsupported pattern operator {unknown.ToJsonString()}");
        return resolve(alternative) == value;
    }
}
