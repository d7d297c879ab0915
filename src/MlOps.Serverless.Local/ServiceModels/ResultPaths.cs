using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MlOps.Serverless.Local.ServiceModels;

/// <summary>A JSONPath the definition reads from a Task result, and what the operation's output model says about it.</summary>
/// <param name="State">The state whose field holds the path.</param>
/// <param name="Path">The path as written (relative to the result for a ResultSelector, else to the state input).</param>
/// <param name="Producer">The Task state whose result the path reads.</param>
/// <param name="Missing">The first segment the output shape does not have, or null when the path exists.</param>
/// <param name="Optional">Members on the way that the model does not mark required, with the path up to each.</param>
public sealed record ResultPathRead(string State, string Path, string Producer, string? Missing, IReadOnlyList<(string Member, string PathToIt)> Optional);

/// <summary>
/// Finds every JSONPath a definition reads from a Task's result — in the Task's ResultSelector, and in later states
/// through the ResultPath the result was put at — and resolves it in the output shape of the operation that
/// answers the Task (for .sync integrations, the Describe*/Get* output).
/// </summary>
public static partial class ResultPaths
{
    private sealed record Producer(string State, ServiceModel Model, string Shape, string ResultPrefix);

    public static IReadOnlyList<ResultPathRead> Reads(JsonObject definition)
    {
        var states = AllStates(definition).ToList();
        var producers = new List<Producer>();
        var reads = new List<ResultPathRead>();
        foreach (var (name, state) in states)
        {
            if ((string?)state["Type"] != "Task" || ServiceIntegration.Resolve((string?)state["Resource"] ?? "") is not { } integration) continue;
            var model = integration.Model;
            if (model.OutputShape(integration.AnswerOperation) is not { } output) continue;
            var resultPath = state.ContainsKey("ResultPath") ? (string?)state["ResultPath"] : "$";
            if (state["ResultSelector"] is JsonObject selector)
            {
                foreach (var (key, value) in selector)
                {
                    if (!key.EndsWith(".$", StringComparison.Ordinal) || (string?)value is not { } path || !(path == "$" || path.StartsWith("$.", StringComparison.Ordinal))) continue;
                    var (shape, missing, optional) = Walk(model, output, Segments(path));
                    reads.Add(new ResultPathRead(name, path, name, missing, optional));
                    if (resultPath is not null && shape is not null)
                        producers.Add(new Producer(name, model, shape, $"{resultPath}.{key[..^2]}"));
                }
            }
            else if (resultPath is not null)
            {
                producers.Add(new Producer(name, model, output, resultPath));
            }
        }

        foreach (var (name, state) in states)
        {
            foreach (var path in References(state))
            {
                var producer = producers.Where(p => path == p.ResultPrefix || path.StartsWith(p.ResultPrefix + ".", StringComparison.Ordinal)
                                                    || path.StartsWith(p.ResultPrefix + "[", StringComparison.Ordinal))
                    .OrderByDescending(p => p.ResultPrefix.Length).ToList();
                if (producer.Count == 0) continue;
                var longest = producer[0].ResultPrefix.Length;
                foreach (var p in producer.Where(p => p.ResultPrefix.Length == longest))
                {
                    var (_, missing, optional) = Walk(p.Model, p.Shape, Segments("$" + path[p.ResultPrefix.Length..]));
                    reads.Add(new ResultPathRead(name, path, p.State, missing, optional.Select(o => (o.Member, p.ResultPrefix + o.PathToIt[1..])).ToList()));
                }
            }
        }
        return reads;
    }

    /// <summary>The paths a Choice guards with <c>IsPresent: true</c>, where reading an optional member is safe.</summary>
    public static IReadOnlySet<string> PresenceChecked(JsonObject definition) =>
        AllStates(definition).Where(s => (string?)s.State["Type"] == "Choice")
            .SelectMany(s => s.State["Choices"]!.AsArray().SelectMany(c => Conditions(c!)))
            .Where(c => c["IsPresent"]?.GetValue<bool>() == true)
            .Select(c => (string)c["Variable"]!)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>A choice rule and the rules an <c>And</c> nests (an <c>Or</c> or <c>Not</c> guarantees nothing).</summary>
    private static IEnumerable<JsonNode> Conditions(JsonNode rule) =>
        rule["And"] is JsonArray all ? all.SelectMany(r => Conditions(r!)) : [rule];

    private static (string? Shape, string? Missing, List<(string Member, string PathToIt)> Optional) Walk(ServiceModel model, string shapeName, IReadOnlyList<string> segments)
    {
        var optional = new List<(string Member, string PathToIt)>();
        var shape = shapeName;
        var at = "$";
        foreach (var segment in segments)
        {
            var node = model.Shape(shape);
            switch ((string?)node["type"])
            {
                case "structure" when !segment.StartsWith('['):
                    if (node["members"]![segment] is not JsonObject member) return (null, $"{at}.{segment}", optional);
                    if (!(node["required"]?.AsArray().Any(r => (string?)r == segment) ?? false)) optional.Add((segment, $"{at}.{segment}"));
                    shape = (string)member["shape"]!;
                    at += "." + segment;
                    break;
                case "list" when segment.StartsWith('['):
                    shape = (string)node["member"]!["shape"]!;
                    at += segment;
                    break;
                case "map" when !segment.StartsWith('['):
                    shape = (string)node["value"]!["shape"]!;
                    at += "." + segment;
                    break;
                case "blob" or "document":
                    return (shape, null, optional); // any JSON below
                default:
                    return (null, $"{at}{(segment.StartsWith('[') ? "" : ".")}{segment}", optional);
            }
        }
        return (shape, null, optional);
    }

    private static List<string> Segments(string path) =>
        SegmentPattern().Matches(path[1..]).Select(m => m.Value.StartsWith('.') ? m.Value[1..] : m.Value).ToList();

    /// <summary>Every state-input path a state reads: values of <c>.$</c> fields (and the paths inside intrinsic functions), Choice variables, InputPath.</summary>
    private static IEnumerable<string> References(JsonObject state)
    {
        foreach (var field in new[] { "Parameters", "ItemSelector" })
            if (state[field] is JsonObject parameters) foreach (var path in FromTemplate(parameters)) yield return path;
        if ((string?)state["InputPath"] is { } input && input.StartsWith("$.", StringComparison.Ordinal)) yield return input;
        if (state["Choices"] is JsonArray choices)
            foreach (var choice in choices) foreach (var path in ChoiceVariables(choice!)) yield return path;
    }

    private static IEnumerable<string> ChoiceVariables(JsonNode rule)
    {
        if ((string?)rule["Variable"] is { } variable) yield return variable;
        foreach (var key in new[] { "And", "Or" })
            if (rule[key] is JsonArray nested) foreach (var inner in nested) foreach (var v in ChoiceVariables(inner!)) yield return v;
        if (rule["Not"] is { } not) foreach (var v in ChoiceVariables(not)) yield return v;
    }

    private static IEnumerable<string> FromTemplate(JsonObject template)
    {
        foreach (var (key, value) in template)
        {
            if (value is JsonObject nested) foreach (var p in FromTemplate(nested)) yield return p;
            else if (value is JsonArray array)
                foreach (var item in array.OfType<JsonObject>()) foreach (var p in FromTemplate(item)) yield return p;
            else if (key.EndsWith(".$", StringComparison.Ordinal) && (string?)value is { } text)
                foreach (Match m in PathPattern().Matches(text)) yield return m.Value;
        }
    }

    private static IEnumerable<(string Name, JsonObject State)> AllStates(JsonObject machine)
    {
        foreach (var (name, node) in machine["States"]!.AsObject())
        {
            var state = node!.AsObject();
            yield return (name, state);
            foreach (var branch in state["Branches"]?.AsArray() ?? [])
                foreach (var inner in AllStates(branch!.AsObject())) yield return inner;
            if ((state["ItemProcessor"] ?? state["Iterator"]) is { } processor)
                foreach (var inner in AllStates(processor.AsObject())) yield return inner;
        }
    }

    // $.a.b[0].c, not $$.Execution...
    [GeneratedRegex(@"(?<!\$)\$(\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9]+\])+")]
    private static partial Regex PathPattern();

    [GeneratedRegex(@"\.[A-Za-z_][A-Za-z0-9_]*|\[[0-9*]+\]")]
    private static partial Regex SegmentPattern();
}
