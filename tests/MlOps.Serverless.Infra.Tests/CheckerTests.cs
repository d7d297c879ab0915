using System.Text.Json.Nodes;

namespace MlOps.Serverless.Infra.Tests;

/// <summary>The template checks themselves must catch what they are for.</summary>
public sealed class CheckerTests
{
    private static JsonObject TemplateWith(string type, string statement) => new()
    {
        ["Resources"] = new JsonObject
        {
            ["P"] = new JsonObject
            {
                ["Type"] = type,
                ["Properties"] = new JsonObject { ["PolicyDocument"] = new JsonObject { ["Statement"] = new JsonArray(JsonNode.Parse(statement)) } },
            },
        },
    };

    [Theory]
    [InlineData("""{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b"}""")]
    [InlineData("""{"Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::b"}""")]
    [InlineData("""{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}""")]
    [InlineData("""{"Effect":"Allow","NotAction":["iam:*"],"Resource":"arn:aws:s3:::b"}""")]
    public void Policy_rules_flag_wildcards_and_star_resources(string statement) =>
        Assert.NotEmpty(PolicyRules.Violations(TemplateWith("AWS::IAM::Policy", statement)));

    [Theory]
    [InlineData("""{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::b","Condition":{"Bool":{"aws:SecureTransport":"false"}}}""")]
    [InlineData("""{"Effect":"Allow","Action":["ecr:GetAuthorizationToken"],"Resource":"*"}""")]
    [InlineData("""{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/runs/*"]}""")]
    public void Policy_rules_accept_ssl_denies_allow_listed_actions_and_scoped_statements(string statement) =>
        Assert.Empty(PolicyRules.Violations(TemplateWith("AWS::IAM::Policy", statement)));

    [Fact]
    public void Every_allow_listed_action_has_a_reason() =>
        Assert.All(PolicyRules.StarResourceAllowList, p => Assert.False(string.IsNullOrWhiteSpace(p.Value)));

    [Theory]
    [InlineData("""{"key":[{"wildcard":"incoming/*/manifest.json"}]}""", "incoming/b/manifest.json", true)]
    [InlineData("""{"key":[{"wildcard":"incoming/*/manifest.json"}]}""", "incoming/b/sales/x.csv", false)]
    [InlineData("""{"key":[{"prefix":"incoming/"}]}""", "incoming/b/sales/x.csv", true)]
    [InlineData("""{"key":[{"suffix":".json"}]}""", "incoming/b/sales/x.csv", false)]
    [InlineData("""{"key":["a","b"]}""", "b", true)]
    public void Pattern_matcher_implements_the_operators_the_rules_use(string pattern, string key, bool expected) =>
        Assert.Equal(expected, EventPatternMatcher.Matches(JsonNode.Parse(pattern)!.AsObject(), new JsonObject { ["key"] = key }, CloudFormation.Resolve));

    [Fact]
    public void Pattern_matcher_refuses_operators_it_does_not_implement() =>
        Assert.Throws<InvalidOperationException>(() => EventPatternMatcher.Matches(
            JsonNode.Parse("""{"key":[{"anything-but":"x"}]}""")!.AsObject(), new JsonObject { ["key"] = "y" }, CloudFormation.Resolve));
}
