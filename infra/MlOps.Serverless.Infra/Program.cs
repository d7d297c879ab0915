using Amazon.CDK;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Infra;

/// <summary>The CDK app (<c>cdk.json</c> runs it): one environment-agnostic stack, configured from context.</summary>
public static class Program
{
    public static int Main()
    {
        var app = new App();
        try
        {
            var settings = StackSettings.FromContext(key => app.Node.TryGetContext(key));
            _ = new RetrainingStack(app, settings.StackName, settings, new StackProps
            {
                Description = "MlOps.Serverless: serverless ML retraining workflow (Step Functions, Lambda, SageMaker, Athena)",
            });
            app.Synth();
            return 0;
        }
        catch (WorkflowError e)
        {
            // A configuration mistake: say what and where, without a jsii stack trace.
            Console.Error.WriteLine($"{e.ErrorName}: {e.Message}");
            return 1;
        }
    }
}
