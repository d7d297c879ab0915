using System.Text.Json.Nodes;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Reliability.Tests.Support;

/// <summary>Real local runs (node + aws-local-stepfunctions + the real adapters) on the smallest sample that still trains.</summary>
public static class LocalRuns
{
    /// <summary>Three stores x three departments (the quality rule wants >= 1,000 sales rows): enough rows for every split and the gate, ~2 s a run.</summary>
    public static readonly SampleDataOptions SmallSample = new() { Stores = 3, Departments = 3 };

    /// <summary>Two tuning jobs, one at a time: the tuning path without the cost of twenty.</summary>
    public static JsonObject FastOverrides() => new() { ["tuning.maxJobs"] = 2, ["tuning.maxParallelJobs"] = 1 };

    private static readonly Lazy<StateMachineRunner> SharedRunner = new(() => new StateMachineRunner(NodeEnvironment.Discover()));

    /// <summary>Every retried Task state's retry pause set to zero, so retries do not wait for real backoff.</summary>
    public static IReadOnlyDictionary<string, int> NoRetryPauses { get; } =
        WorkflowStates.TaskStates().ToDictionary(s => s.Name, _ => 0);

    public static LocalWorkflow Workflow(Func<ITaskHandler, ITaskHandler>? decorate = null) =>
        new(SharedRunner.Value) { DecorateTasks = decorate ?? (t => t), RetryIntervalOverridesMs = NoRetryPauses };

    public static Task<LocalRunResult> RunAsync(string root, string name, JsonObject? overrides = null,
        Func<ITaskHandler, ITaskHandler>? decorate = null, string? dataDirectory = null, string? mlflow = null) =>
        Workflow(decorate).RunAsync(new LocalRunOptions(root, dataDirectory, overrides ?? FastOverrides(), mlflow, name, SmallSample));

    public static string NewRoot(string purpose) => Directory.CreateTempSubdirectory($"mlops-rel-{purpose}-").FullName;

    public static void DeleteRoot(string root)
    {
        try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
