using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.S3;
using MlOps.Serverless.Local.SageMaker;
using MlOps.Serverless.Local.ServiceModels;

namespace MlOps.Serverless.Local.Tests.ServiceModels;

/// <summary>
/// Whole local runs, with every Task request checked against AWS's API model of its operation and every answer
/// against the operation's output shape: a request AWS would refuse fails the test, on the tuning path and on the
/// single-job path.
/// </summary>
public sealed class ModelConformanceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mlops-models-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly SampleDataOptions SmallSample = new() { Stores = 4, Departments = 4 };

    /// <summary>Sees each Task request before the dispatcher (which checks it too) and keeps the checks' findings.</summary>
    private sealed class ModelCheck(ITaskHandler inner) : ITaskHandler
    {
        public ConcurrentBag<string> Problems { get; } = [];
        public ConcurrentBag<string> Checked { get; } = [];

        public async Task<JsonNode?> HandleAsync(TaskInvocation invocation, CancellationToken cancellationToken)
        {
            var integration = ServiceIntegration.Resolve(invocation.Resource);
            if (integration is null)
            {
                Problems.Add($"{invocation.StateName}: {invocation.Resource} is not an integration with a service model");
                return await inner.HandleAsync(invocation, cancellationToken);
            }
            try
            {
                integration.CheckRequest(invocation.StateName, invocation.Input);
            }
            catch (TaskFailure e)
            {
                Problems.Add($"{e.Error}: {e.Cause}");
            }
            var answer = await inner.HandleAsync(invocation, cancellationToken);
            foreach (var stray in integration.CheckAnswer(answer)) Problems.Add($"{invocation.StateName} answer: {stray}");
            Checked.Add(invocation.StateName);
            return answer;
        }
    }

    private async Task<(LocalRunResult Result, ModelCheck Check)> RunAsync(string name, JsonObject overrides)
    {
        ModelCheck? check = null;
        var workflow = new LocalWorkflow(new StateMachineRunner(NodeEnvironment.Discover()))
        {
            DecorateTasks = t => check = new ModelCheck(t),
        };
        var result = await workflow.RunAsync(new LocalRunOptions(_root, Overrides: overrides, ExecutionName: name, Sample: SmallSample));
        return (result, check!);
    }

    [Theory]
    [InlineData("models-tuning", true)]
    [InlineData("models-single-job", false)]
    public async Task Every_task_request_and_answer_of_a_run_satisfies_the_aws_models(string name, bool tuning)
    {
        var overrides = new JsonObject { ["tuning.enabled"] = tuning, ["tuning.maxJobs"] = 3, ["gate.maxWmaeRatioToNaive"] = 5 };
        var (result, check) = await RunAsync(name, overrides);

        Assert.True(result.Execution.Succeeded, $"{result.Execution.Error}: {result.Execution.Cause}");
        Assert.Empty(check.Problems);
        Assert.Contains(tuning ? "TuneHyperparameters" : "TrainSingleModel", check.Checked);
        Assert.Contains("RegisterModelPackage", check.Checked);
        Assert.Contains("BuildFeatures", check.Checked);
        Assert.Contains("NotifyPromoted", check.Checked);
    }

    [Fact]
    public async Task A_run_started_by_eventbridge_registers_its_model_despite_its_73_character_execution_name()
    {
        // EventBridge names executions {eventId}_{uuid}: 73 characters with an underscore, too long for ClientToken.
        const string name = "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa_0c6a2a8e-6f4e-4d3c-9a55-2b1f0e6a9c11";
        var (result, _) = await RunAsync(name, new JsonObject { ["tuning.maxJobs"] = 2, ["gate.maxWmaeRatioToNaive"] = 5 });

        Assert.True(result.Execution.Succeeded, $"{result.Execution.Error}: {result.Execution.Cause}");
        Assert.Contains("RegisterModelPackage", result.Execution.StatesEntered);
        Assert.Equal("promoted", (string?)result.Execution.Output!["outcome"]);
    }

    [Fact]
    public async Task A_champion_registered_by_hand_without_metadata_does_not_break_the_next_run()
    {
        // A package someone registered in the group by hand: no CustomerMetadataProperties (AWS marks it optional).
        var registry = new SageMakerAdapter(new LocalFolderObjectStore(Path.Combine(_root, "s3")), Path.Combine(_root, "sagemaker"),
            new LocalAwsIdentity(LocalLayout.Region, LocalLayout.Account));
        await registry.InvokeAsync("arn:aws:states:::aws-sdk:sagemaker:createModelPackage", new JsonObject
        {
            ["ModelPackageGroupName"] = LocalDefinition.SampleModelPackageGroup,
            ["ModelApprovalStatus"] = "Approved",
            ["InferenceSpecification"] = new JsonObject
            {
                ["Containers"] = new JsonArray(new JsonObject { ["Image"] = "local/sagemaker-xgboost:1.7-1", ["ModelDataUrl"] = "s3://elsewhere/model.tar.gz" }),
                ["SupportedContentTypes"] = new JsonArray("text/csv"),
                ["SupportedResponseMIMETypes"] = new JsonArray("text/csv"),
            },
        }, CancellationToken.None);

        var (result, check) = await RunAsync("models-hand-champion", new JsonObject { ["tuning.maxJobs"] = 2, ["gate.maxWmaeRatioToNaive"] = 5 });

        Assert.True(result.Execution.Succeeded, $"{result.Execution.Error}: {result.Execution.Cause}");
        Assert.Contains("DescribeChampion", result.Execution.StatesEntered);
        // No recorded feature set: not scored, and the gate says the champion is not comparable.
        Assert.Contains("ChampionScorable", result.Execution.StatesEntered);
        Assert.DoesNotContain("CreateChampionModel", result.Execution.StatesEntered);
        Assert.False((bool)result.Execution.Output!["gate"]!["champion"]!["comparable"]!);
        Assert.Empty(check.Problems);
    }
}
