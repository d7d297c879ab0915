using System.Text.Json.Nodes;

namespace MlOps.Serverless.Core.StateMachines;

/// <summary>The simple reference paths the definition reads state data with (<c>$.a.b</c>: members only, no filters).</summary>
public static class StatePath
{
    /// <summary>The node at <paramref name="path"/> under <paramref name="root"/>, or null where a member is missing.</summary>
    public static JsonNode? Select(JsonNode? root, string path) =>
        path.StartsWith("$.", StringComparison.Ordinal)
            ? path[2..].Split('.').Aggregate(root, (node, name) => node?[name])
            : throw new ArgumentException($"'{path}' is not a reference path ($.member...).", nameof(path));
}
