using System.Text.Json.Nodes;

namespace MlOps.Serverless.Core.StateMachines;

/// <summary>The states of an ASL definition, Parallel branches and Map processors included.</summary>
public static class AslStates
{
    /// <summary>Every Task state's <c>Resource</c>, with the state name.</summary>
    public static IReadOnlyList<(string State, string Resource)> TaskResources(string definition)
    {
        var found = new List<(string, string)>();
        void Walk(JsonObject? states)
        {
            foreach (var (name, node) in states ?? [])
            {
                if (node is not JsonObject state) continue;
                if ((string?)state["Type"] == "Task" && state["Resource"] is JsonValue resource)
                    found.Add((name, (string)resource!));
                foreach (var branch in state["Branches"] as JsonArray ?? []) Walk(branch?["States"] as JsonObject);
                Walk(state["Iterator"]?["States"] as JsonObject);
                Walk(state["ItemProcessor"]?["States"] as JsonObject);
            }
        }
        Walk(JsonNode.Parse(definition)?["States"] as JsonObject);
        return found;
    }
}
