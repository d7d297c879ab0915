using System.Text.Json.Nodes;

namespace MlOps.Serverless.Testing;

/// <summary>Helpers to read a synthesised template without a deployment.</summary>
public static class CloudFormation
{
    /// <summary>
    /// A stand-in string for a value: literals as they are, <c>Ref</c> → the logical id, <c>Fn::GetAtt</c> →
    /// <c>Id.Attribute</c>, <c>Fn::Join</c> → the parts joined, pseudo parameters → fixed sample values.
    /// The same resource always resolves to the same text, so values can be compared across resources.
    /// </summary>
    /// <summary>What <c>AWS::StackId</c> resolves to: a stack id's form, with a fixed id.</summary>
    public const string SampleStackId = "arn:aws:cloudformation:us-east-1:123456789012:stack/MlOpsRetraining/5e1d2c3b-aaaa-4bbb-8ccc-123456789abc";

    public static string Resolve(JsonNode? node) => node switch
    {
        JsonValue v => v.ToString(),
        JsonObject o when o["Ref"] is JsonValue r => (string)r! switch
        {
            "AWS::Region" => "us-east-1",
            "AWS::AccountId" => "123456789012",
            "AWS::Partition" => "aws",
            "AWS::URLSuffix" => "amazonaws.com",
            "AWS::StackId" => SampleStackId,
            var id => id,
        },
        JsonObject o when o["Fn::GetAtt"] is JsonArray a => $"{a[0]}.{a[1]}",
        JsonObject o when o["Fn::Join"] is JsonArray j => string.Join((string)j[0]!, j[1]!.AsArray().Select(Resolve)),
        JsonObject o when o["Fn::FindInMap"] is JsonArray m => $"map:{Resolve(m[1])}",
        JsonObject o when o["Fn::Select"] is JsonArray { Count: 2 } select && select[1]?["Fn::Split"] is JsonArray { Count: 2 } split =>
            Resolve(split[1]).Split((string)split[0]!)[(int)select[0]!],
        null => "",
        _ => throw new InvalidOperationException("Cannot resolve " + node.ToJsonString()),
    };

    /// <summary>Every policy statement of the template, with the resource it belongs to.</summary>
    public static IEnumerable<(string Owner, JsonObject Statement)> Statements(JsonObject template)
    {
        foreach (var (id, resource) in template["Resources"]!.AsObject())
        {
            var properties = resource!["Properties"] as JsonObject;
            if (properties is null) continue;
            foreach (var document in new[] { properties["PolicyDocument"], properties["KeyPolicy"], properties["AssumeRolePolicyDocument"] }
                         .Concat((properties["Policies"] as JsonArray ?? []).Select(p => p!["PolicyDocument"])))
                foreach (var statement in document?["Statement"] as JsonArray ?? [])
                    yield return ($"{id} ({resource["Type"]})", statement!.AsObject());
        }
    }

    public static IReadOnlyList<string> List(JsonNode? node) => node switch
    {
        null => [],
        JsonArray a => a.Select(Resolve).ToList(),
        _ => [Resolve(node)],
    };

    /// <summary>Actions of the Allow statements of one role's policies (inline, attached and overflow managed policies).</summary>
    public static IEnumerable<JsonObject> AllowStatementsOf(JsonObject template, string roleLogicalId) =>
        template["Resources"]!.AsObject()
            .Where(p => (string?)p.Value!["Type"] is "AWS::IAM::Policy" or "AWS::IAM::ManagedPolicy")
            .Where(p => (p.Value!["Properties"]!["Roles"] as JsonArray ?? []).Any(r => Resolve(r) == roleLogicalId))
            .SelectMany(p => p.Value!["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray())
            .Select(s => s!.AsObject())
            .Where(s => (string?)s["Effect"] == "Allow");
}
