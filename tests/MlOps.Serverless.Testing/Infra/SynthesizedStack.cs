using System.Text.Json.Nodes;
using Amazon.CDK;
using Amazon.CDK.Assertions;
using MlOps.Serverless.Infra;

namespace MlOps.Serverless.Testing;

/// <summary>
/// One synthesis of the stack (jsii start-up is slow, so each fixture synthesises once): the CDK assertion
/// <see cref="Template"/> and the same template as JSON for the checks the assertion API cannot express.
/// </summary>
public abstract class SynthesizedStack : IDisposable
{
    private readonly string _workDirectory;

    // jsii prints a Node end-of-life banner on start-up unless told the version is known.
    static SynthesizedStack() => System.Environment.SetEnvironmentVariable("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20");

    protected SynthesizedStack(Dictionary<string, object> context)
    {
        // The Lambda asset: the real functions assembly the test project builds (no publish needed here).
        _workDirectory = Directory.CreateTempSubdirectory("infra-tests-").FullName;
        var assetDirectory = Directory.CreateDirectory(Path.Combine(_workDirectory, "functions")).FullName;
        File.Copy(Path.Combine(AppContext.BaseDirectory, "MlOps.Serverless.Functions.dll"),
            Path.Combine(assetDirectory, "MlOps.Serverless.Functions.dll"));

        context["functionsAssetPath"] = assetDirectory;
        context["definitionPath"] = RepositoryFile("statemachines/retraining.asl.json");
        Settings = StackSettings.FromContext(key => context.GetValueOrDefault(key));
        Definition = File.ReadAllText(Settings.DefinitionPath);

        var outdir = Path.Combine(_workDirectory, "cdk.out");
        var app = new App(new AppProps { Outdir = outdir });
        Stack = new RetrainingStack(app, Settings.StackName, Settings);
        var assembly = app.Synth();
        var text = File.ReadAllText(assembly.GetStackArtifact(Stack.ArtifactId).TemplateFullPath);
        Json = JsonNode.Parse(text)!.AsObject();
        Template = Template.FromString(text);
    }

    public StackSettings Settings { get; }
    public string Definition { get; }
    public RetrainingStack Stack { get; }
    public Template Template { get; }
    public JsonObject Json { get; }

    public IEnumerable<(string LogicalId, JsonObject Resource)> Resources(string type) =>
        Json["Resources"]!.AsObject()
            .Where(p => (string?)p.Value!["Type"] == type)
            .Select(p => (p.Key, p.Value!.AsObject()));

    [System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "Named like LINQ's Single: the one resource of the type")]
    public (string LogicalId, JsonObject Resource) Single(string type) => Resources(type).Single();

    /// <summary>The retraining state machine (Standard); the failure notifier is the Express one.</summary>
    public (string LogicalId, JsonObject Resource) RetrainingMachine => StateMachine("STANDARD");

    public (string LogicalId, JsonObject Resource) FailureNotifierMachine => StateMachine("EXPRESS");

    private (string LogicalId, JsonObject Resource) StateMachine(string type) =>
        Resources("AWS::StepFunctions::StateMachine").Single(r => (string?)r.Resource["Properties"]!["StateMachineType"] == type);

    public static string RepositoryFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MlOps.Serverless.sln")))
                return Path.Combine(dir.FullName, relative);
        throw new InvalidOperationException("Repository root (MlOps.Serverless.sln) not found above " + AppContext.BaseDirectory);
    }

    public void Dispose()
    {
        GC.SuppressFinalize(this);
        try { Directory.Delete(_workDirectory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The stack with the defaults (what `cdk synth` with the shipped cdk.json produces).</summary>
public sealed class DefaultStack() : SynthesizedStack([]);

/// <summary>Every optional feature on: endpoint, SageMaker managed MLflow with an SSM credential, e-mail.</summary>
public sealed class FullFeaturedStack() : SynthesizedStack(new Dictionary<string, object>
{
    ["prefix"] = "retail",
    ["deployEndpoint"] = "true",
    ["mlflowTrackingUri"] = MlflowArn,
    ["mlflowCredentialsParameter"] = "/retail/mlflow/credentials",
    ["notificationEmail"] = "ml-team@example.com",
    ["scheduleEnabled"] = "false",
    ["pipelineSettings"] = """{"tuning.maxJobs": 8}""",
})
{
    public const string MlflowArn = "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/retail";
}

/// <summary>Alerts to an existing, customer-key-encrypted topic instead of the stack's own.</summary>
public sealed class ExistingTopicStack() : SynthesizedStack(new Dictionary<string, object>
{
    ["notificationTopicArn"] = TopicArn,
    ["notificationTopicKeyArn"] = TopicKeyArn,
})
{
    public const string TopicArn = "arn:aws:sns:us-east-1:123456789012:platform-alerts";
    public const string TopicKeyArn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
}
