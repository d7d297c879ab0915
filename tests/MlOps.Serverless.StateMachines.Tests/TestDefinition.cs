using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.StateMachines.Tests;

/// <summary>
/// The real definition with test values for its placeholders. SQL texts are irrelevant to routing, so
/// each query becomes a one-argument template; everything else gets a plausible ARN or name.
/// </summary>
public static class TestDefinition
{
    /// <summary>The feature set version the definition is deployed with (<c>${FeatureSetVersion}</c>).</summary>
    public const string FeatureSetVersion = "fs-0123456789ab";

    public static string Substituted()
    {
        var template = DefinitionFile.LoadTemplate();
        var values = DefinitionTemplate.Placeholders(template).ToDictionary(p => p, Value);
        return DefinitionTemplate.Substitute(template, values);
    }

    private static string Value(string placeholder) => placeholder switch
    {
        _ when placeholder.EndsWith("SqlArgs", StringComparison.Ordinal) => "$.run.runId",
        _ when placeholder.EndsWith("Sql", StringComparison.Ordinal) => $"SELECT \\'{placeholder}\\' AS query, \\'{{}}\\' AS run_id",
        _ when placeholder.EndsWith("FunctionArn", StringComparison.Ordinal) => $"arn:aws:lambda:us-east-1:123456789012:function:{placeholder[..^"FunctionArn".Length]}",
        "SageMakerRoleArn" => "arn:aws:iam::123456789012:role/mlops-sagemaker",
        "FeatureSetVersion" => FeatureSetVersion,
        "NotificationTopicArn" => "arn:aws:sns:us-east-1:123456789012:mlops-notifications",
        _ => "mlops-" + placeholder.ToLowerInvariant(),
    };

    public static StateMachineRunner Runner() => new(NodeEnvironment.Discover());
}
