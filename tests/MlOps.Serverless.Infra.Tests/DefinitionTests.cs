using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Infra.Tests;

[Collection(CdkCollection.Name)]
public sealed class DefinitionTests(DefaultStack stack)
{
    /// <summary>The definition as CloudFormation would deploy it (intrinsics replaced by stand-ins).</summary>
    private string Substituted()
    {
        var properties = stack.RetrainingMachine.Resource["Properties"]!;
        var text = CloudFormation.Resolve(properties["DefinitionString"]);
        foreach (var (name, value) in properties["DefinitionSubstitutions"]!.AsObject())
            text = text.Replace("${" + name + "}", CloudFormation.Resolve(value), StringComparison.Ordinal);
        return text;
    }

    [Fact]
    public void Substituted_definition_has_no_unresolved_placeholder_and_is_valid_json()
    {
        var text = Substituted();
        Assert.DoesNotContain("${", text);
        Assert.NotNull(JsonNode.Parse(text));
    }

    [Fact]
    public void Stack_passes_exactly_the_placeholders_the_definition_uses()
    {
        var passed = stack.RetrainingMachine.Resource["Properties"]!["DefinitionSubstitutions"]!.AsObject()
            .Select(p => p.Key).ToHashSet();
        Assert.Equal(DefinitionTemplate.Placeholders(stack.Definition).Order(), passed.Order());
    }

    [Theory]
    [InlineData("PrepareRun", "PrepareRunFunction")]
    [InlineData("QualityVerdict", "DataQualityVerdictFunction")]
    [InlineData("LogTraining", "MlflowLoggerFunction")]
    [InlineData("EvaluationGate", "EvaluationGateFunction")]
    public void Lambda_states_invoke_the_function_of_their_stage(string state, string className)
    {
        var function = stack.Resources("AWS::Lambda::Function")
            .Single(f => ((string?)f.Resource["Properties"]!["Handler"])!.EndsWith($".{className}::Handle", StringComparison.Ordinal)).LogicalId;
        Assert.Equal($"{function}.Arn", (string?)State(JsonNode.Parse(Substituted())!, state)["Parameters"]!["FunctionName"]);
    }

    [Fact]
    public void Every_query_state_carries_its_sql_file_as_a_states_format_template()
    {
        var definition = JsonNode.Parse(Substituted())!;
        foreach (var query in Enum.GetValues<SqlQuery>())
        {
            var template = SqlTemplates.ForStatesFormat(query);
            var expected = $"States.Format('{template.EscapedTemplate}', {template.ArgumentPaths})";
            Assert.Contains(AllStates(definition), s => (string?)s["Parameters"]?["QueryString.$"] == expected);
        }
    }

    [Fact]
    public void Every_integration_in_the_definition_has_an_iam_mapping()
    {
        Assert.Empty(IntegrationPermissions.Unmapped(stack.Definition));
        Assert.Empty(IntegrationPermissions.Unmapped(File.ReadAllText(SynthesizedStack.RepositoryFile("statemachines/failure-notifier.asl.json"))));
    }

    [Fact]
    public void An_integration_without_an_iam_mapping_is_reported_with_its_state()
    {
        const string definition = """{"StartAt":"A","States":{"A":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","End":true}}}],"End":true}}}""";
        Assert.Equal(["B (arn:aws:states:::dynamodb:putItem)"], IntegrationPermissions.Unmapped(definition));
    }

    [Fact]
    public void A_placeholder_the_stack_cannot_fill_fails_the_synth_naming_it()
    {
        var error = Assert.Throws<InvalidConfiguration>(() => RetrainingStateMachine.FillPlaceholders(
            """{"a":"${WorkBucket}","b":"${NewThing}"}""", new Dictionary<string, string> { ["WorkBucket"] = "w" }));
        Assert.Contains("${NewThing}", error.Message);
        Assert.DoesNotContain("${WorkBucket}", error.Message.Split("provides")[0]);
    }

    [Fact]
    public void Substitution_values_are_escaped_for_their_place_inside_json_strings()
    {
        var filled = RetrainingStateMachine.FillPlaceholders("""{"q":"${QualitySql}"}""", new Dictionary<string, string> { ["QualitySql"] = "a \"b\" \\ c" });
        Assert.Equal("a \"b\" \\ c", (string?)JsonNode.Parse("""{"q":"${QualitySql}"}""".Replace("${QualitySql}", filled["QualitySql"], StringComparison.Ordinal))!["q"]);
    }

    private static JsonObject State(JsonNode definition, string name) => AllStates(definition).Single(s => s.Parent is JsonObject p && p.ContainsKey(name) && p[name] == s);

    private static IEnumerable<JsonObject> AllStates(JsonNode definition)
    {
        foreach (var (_, node) in definition["States"]!.AsObject())
        {
            var state = node!.AsObject();
            yield return state;
            foreach (var branch in state["Branches"] as JsonArray ?? [])
                foreach (var inner in AllStates(branch!)) yield return inner;
            foreach (var key in new[] { "Iterator", "ItemProcessor" })
                if (state[key] is JsonObject processor)
                    foreach (var inner in AllStates(processor)) yield return inner;
        }
    }
}
