using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Athena;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.SageMaker;
using MlOps.Serverless.MlFlow.Authentication;
using MlOps.Serverless.MlFlow.Client;

namespace MlOps.Serverless.Local.Workflow;

/// <summary>What to run locally.</summary>
/// <param name="Root">The local "account" folder (S3, SageMaker state, runs).</param>
/// <param name="DataDirectory">A folder with the three real-named CSV files; null generates the sample.</param>
/// <param name="Overrides">Per-run configuration overrides (the manual request's <c>overrides</c>).</param>
/// <param name="MlflowTrackingUri">A tracking server; null keeps MLflow payloads in the run's outbox.</param>
public sealed record LocalRunOptions(
    string Root,
    string? DataDirectory = null,
    JsonObject? Overrides = null,
    string? MlflowTrackingUri = null,
    string? ExecutionName = null,
    SampleDataOptions? Sample = null);

public sealed record LocalRunResult(string RunId, string RunFolder, ExecutionResult Execution, TimeSpan Elapsed, CostEstimate Cost);

/// <summary>
/// Local mode: uploads the data as the upload convention says, then executes the deployed definition on
/// aws-local-stepfunctions with every Task state answered by a local adapter (Lambda in process, Athena on
/// DuckDB, SageMaker on XGBoost, SNS to a file). Writes the run folder as it goes.
/// </summary>
public sealed class LocalWorkflow(StateMachineRunner runner)
{
    /// <summary>Wraps the dispatcher, e.g. to inject faults in tests.</summary>
    public Func<ITaskHandler, ITaskHandler> DecorateTasks { get; init; } = tasks => tasks;

    public IReadOnlyDictionary<string, int>? RetryIntervalOverridesMs { get; init; }

    /// <summary>Tuning progress: (trials done, trials in all).</summary>
    public Action<int, int>? OnTuningTrial { get; init; }

    /// <param name="cancellationToken">Stops the execution (StopExecution); the run ends ABORTED, its work stopped.</param>
    public async Task<LocalRunResult> RunAsync(LocalRunOptions options, Action<ExecutionEvent>? onEvent = null,
        Action<string, string>? onNotification = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var layout = new LocalLayout(Path.GetFullPath(options.Root));
        var runId = options.ExecutionName ?? $"local-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
        var runFolder = Directory.CreateDirectory(layout.RunFolder(runId)).FullName;

        var dataDirectory = options.DataDirectory ?? EnsureSample(layout, options.Sample);
        var inputs = Upload(layout, dataDirectory, runId);
        await File.WriteAllTextAsync(Path.Combine(runFolder, "inputs.json"), inputs.ToJsonString(Indented), cancellationToken);

        var store = new LocalFolderObjectStore(layout.S3Root);
        var mlflowOptions = await MlflowConnection.ResolveAsync(options.MlflowTrackingUri, Environment.GetEnvironmentVariable, cancellationToken: cancellationToken);
        using var mlflow = mlflowOptions is null ? null : new MlflowClient(mlflowOptions);
        await using var logs = new StreamWriter(Path.Combine(runFolder, "logs.jsonl")) { AutoFlush = true };
        var lambda = new LambdaAdapter(LocalFunctions.Create(store, mlflow, logs));
        using var athena = new LocalAthenaAdapter(layout.S3Root, LocalLayout.RawBucket, LocalLayout.WorkBucket);
        var sageMaker = new SageMakerAdapter(store, layout.SageMakerState, new LocalAwsIdentity(LocalLayout.Region, LocalLayout.Account),
            new StructuredLog("LocalSageMaker", logs));
        sageMaker.Tuning.ReportTrial = OnTuningTrial;
        var sns = new SnsAdapter(Path.Combine(runFolder, "notifications.jsonl"), onNotification);
        var tasks = DecorateTasks(new LocalTaskDispatcher([lambda, athena, sageMaker, sns]));

        var input = new JsonObject { ["batch"] = runId };
        if (options.Overrides is { Count: > 0 }) input["overrides"] = options.Overrides.DeepClone();
        var request = new ExecutionRequest(LocalDefinition.Build(LocalDefinition.ModelPackageGroupFor(options.DataDirectory)), input, runId, Region: LocalLayout.Region, Account: LocalLayout.Account,
            RetryIntervalOverridesMs: RetryIntervalOverridesMs);

        await using var history = new StreamWriter(Path.Combine(runFolder, "history.jsonl"));
        var execution = await runner.RunAsync(request, tasks, e =>
        {
            lock (history) history.WriteLine(e.Raw?.ToJsonString() ?? "{}");
            onEvent?.Invoke(e);
        }, cancellationToken);
        // A stopped (ABORTED) run still keeps its history and report.
        await history.FlushAsync(CancellationToken.None);

        var cost = CostEstimate.From(execution, lambda.Invocations);
        var result = new LocalRunResult(runId, runFolder, execution, clock.Elapsed, cost);
        await RunReport.WriteAsync(result, layout, CancellationToken.None);
        return result;
    }

    private static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static string EnsureSample(LocalLayout layout, SampleDataOptions? sample)
    {
        if (!RawDatasets.All.All(d => File.Exists(Path.Combine(layout.SampleData, d.FileName))))
            SampleDataGenerator.Generate(sample).WriteTo(layout.SampleData);
        return layout.SampleData;
    }

    private static JsonObject Upload(LocalLayout layout, string dataDirectory, string batchId) => new()
    {
        ["dataDirectory"] = Path.GetFullPath(dataDirectory),
        ["batch"] = batchId,
        ["files"] = RawBatch.Upload(new LocalFolderObjectStore(layout.S3Root), LocalLayout.RawBucket, dataDirectory, batchId),
    };
}
