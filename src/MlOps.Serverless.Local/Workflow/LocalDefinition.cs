using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Functions.Hosting;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Workflow;

/// <summary>The deployed definition with local values for its substitutions (what the CDK app fills in the cloud).</summary>
public static class LocalDefinition
{
    public const string GlueDatabase = "mlops";
    public const string WorkGroup = "primary";
    public const string ModelPackageGroup = "retail-weekly-sales";

    public static string FunctionArn(string function) => $"arn:aws:lambda:{LocalLayout.Region}:{LocalLayout.Account}:function:{function}";

    public static IReadOnlyDictionary<string, string> Values()
    {
        var values = new Dictionary<string, string>(SqlTemplates.DefinitionSubstitutions())
        {
            ["RawBucket"] = LocalLayout.RawBucket,
            ["WorkBucket"] = LocalLayout.WorkBucket,
            ["ArtifactBucket"] = LocalLayout.ArtifactBucket,
            ["AthenaWorkGroup"] = WorkGroup,
            ["GlueDatabase"] = GlueDatabase,
            ["SageMakerRoleArn"] = $"arn:aws:iam::{LocalLayout.Account}:role/mlops-sagemaker-local",
            ["ModelPackageGroupName"] = ModelPackageGroup,
            ["NotificationTopicArn"] = $"arn:aws:sns:{LocalLayout.Region}:{LocalLayout.Account}:mlops-notifications",
            ["EndpointName"] = "mlops-local-endpoint",
        };
        foreach (var stage in StageSpec.All)
            values[stage.Placeholder] = FunctionArn(stage.Id);
        return values;
    }

    public static string Build() => DefinitionTemplate.Substitute(WorkflowDefinition.LoadTemplate(), Values());
}
