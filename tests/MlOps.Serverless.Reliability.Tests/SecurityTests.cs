using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using MlOps.Serverless.Infra;
using MlOps.Serverless.Reliability.Tests.Support;
using Xunit.Abstractions;

namespace MlOps.Serverless.Reliability.Tests;

/// <summary>
/// A deployment with an MLflow server whose credentials live in SSM, plus a careless operator's extra context
/// key holding the secret itself. Synthesised once, with the Infra tests' fixture and rules.
/// </summary>
public sealed class StackWithMlflowSecret() : SynthesizedStack(new Dictionary<string, object>
{
    ["prefix"] = "retail",
    ["deployEndpoint"] = "true",
    ["mlflowTrackingUri"] = "https://mlflow.example.com",
    ["mlflowCredentialsParameter"] = ParameterName,
    // Not a key the app reads: the value must not travel anywhere even when someone passes it.
    ["mlflowTrackingPassword"] = Secret,
})
{
    public const string Secret = "s3cr3t-Mlflow-Pa55word-do-not-deploy";
    public const string ParameterName = "/retail/mlflow/credentials";

    [ModuleInitializer]
    internal static void QuietNodeBanner() => Environment.SetEnvironmentVariable("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20");
}

/// <summary>Least privilege and secrets over the synthesized template; prints what it checked.</summary>
public sealed class SecurityTests(StackWithMlflowSecret stack, ITestOutputHelper output) : IClassFixture<StackWithMlflowSecret>
{
    [Fact]
    public void Least_privilege_rules_hold_for_every_statement_and_every_star_resource_has_a_documented_reason()
    {
        var statements = CloudFormation.Statements(stack.Json).ToList();
        Assert.Empty(PolicyRules.Violations(stack.Json));
        // In a KMS key policy "*" is the key itself (PolicyRules treats it the same way).
        var starActions = statements.Where(s => (string?)s.Statement["Effect"] == "Allow" && CloudFormation.List(s.Statement["Resource"]).Contains("*")
                && !s.Owner.EndsWith("(AWS::KMS::Key)", StringComparison.Ordinal))
            .SelectMany(s => CloudFormation.List(s.Statement["Action"])).Distinct().ToList();
        Assert.All(starActions, a => Assert.False(string.IsNullOrWhiteSpace(PolicyRules.StarResourceAllowList.GetValueOrDefault(a)), $"{a} on * has no reason"));
        var passRoles = statements.Count(s => CloudFormation.List(s.Statement["Action"]).Contains("iam:PassRole")
            && (string?)s.Statement["Condition"]?["StringEquals"]?["iam:PassedToService"] == "sagemaker.amazonaws.com");
        Assert.True(passRoles > 0);
        Report.Print(output, $"security: {statements.Count} policy statements checked, 0 wildcard actions, {starActions.Count} actions on \"*\" all with a documented reason, {passRoles} iam:PassRole statement(s) scoped to sagemaker.amazonaws.com");
    }

    [Fact]
    public void Buckets_holding_source_data_and_models_are_versioned_as_well_as_encrypted_ssl_only_and_private()
    {
        var buckets = stack.Resources("AWS::S3::Bucket").ToList();
        foreach (var (id, bucket) in buckets)
        {
            var properties = bucket["Properties"]!;
            Assert.NotNull(properties["BucketEncryption"]);
            Assert.True((bool?)properties["PublicAccessBlockConfiguration"]?["RestrictPublicBuckets"], id);
            // Raw uploads (the only copy of the data) and model artifacts (what the registry points at) are versioned;
            // the work bucket holds derived, reproducible outputs and Athena results expire.
            if (id.StartsWith("StorageRaw", StringComparison.Ordinal) || id.StartsWith("StorageArtifacts", StringComparison.Ordinal))
                Assert.Equal("Enabled", (string?)properties["VersioningConfiguration"]?["Status"]);
        }
        var sslOnly = stack.Resources("AWS::S3::BucketPolicy").Count(p => p.Resource.ToJsonString().Contains("aws:SecureTransport", StringComparison.Ordinal));
        Assert.Equal(buckets.Count, sslOnly);
        Report.Print(output, $"security: {buckets.Count} buckets encrypted, private and SSL-only; raw and artifact buckets versioned");
    }

    [Fact]
    public void The_mlflow_secret_appears_nowhere_and_its_parameter_only_by_name()
    {
        var template = stack.Json.ToJsonString();
        Assert.DoesNotContain(StackWithMlflowSecret.Secret, template);
        Assert.DoesNotContain(StackWithMlflowSecret.Secret, stack.Definition);

        var functions = stack.Resources("AWS::Lambda::Function").ToList();
        var variables = functions.SelectMany(f => f.Resource["Properties"]!["Environment"]?["Variables"]?.AsObject().Select(v => (f.LogicalId, v.Key, Value: v.Value?.ToJsonString() ?? "")) ?? []).ToList();
        Assert.DoesNotContain(variables, v => v.Key.Contains("PASSWORD", StringComparison.Ordinal) || v.Key.Contains("TOKEN", StringComparison.Ordinal));
        var parameterUses = variables.Where(v => v.Value.Contains(StackWithMlflowSecret.ParameterName, StringComparison.Ordinal)).ToList();
        Assert.Equal([("MLFLOW_CREDENTIALS_PARAMETER")], parameterUses.Select(v => v.Key));
        Assert.StartsWith("StagesMlflowLogger", parameterUses.Single().LogicalId, StringComparison.Ordinal);

        var definitions = stack.Resources("AWS::StepFunctions::StateMachine").Select(s => s.Resource.ToJsonString()).ToList();
        Assert.All(definitions, d => Assert.DoesNotContain(StackWithMlflowSecret.ParameterName, d));
        Report.Print(output, $"security: secret value found 0 times in the template ({template.Length:N0} chars), the definition and {variables.Count} Lambda environment variables; the SSM parameter appears only by name in MLFLOW_CREDENTIALS_PARAMETER");
    }
}
