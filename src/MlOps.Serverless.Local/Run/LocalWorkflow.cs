using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Athena;
using MlOps.Serverless.Local.Reporting;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.S3;
using MlOps.Serverless.Local.SageMaker;
using MlOps.Serverless.Mlflow.Authentication;
using MlOps.Serverless.Mlflow.Client;

namespace MlOps.Serverless.Local.Run;

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

/// <param name="MlflowTrackingUri">The tracking server the run logged to, if any (for the replay command of deferred logging).</param>
public sealed record LocalRunResult(string RunId, string RunFolder, ExecutionResult Execution, TimeSpan Elapsed, OrchestrationCost Cost, string? MlflowTrackingUri = null);

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
        if (options.DataDirectory is not null) DataFolder.Check(options.DataDirectory);
        var clock = Stopwatch.StartNew();
        var layout = new LocalLayout(Path.GetFullPath(options.Root));
        var runId = options.ExecutionName ?? $"local-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
        var runFolder = Directory.CreateDirectory(layout.RunFolder(runId)).FullName;

        var dataDirectory = options.DataDirectory ?? EnsureSample(layout, options.Sample);
        var inputs = Upload(layout, dataDirectory, runId);
        await File.WriteAllTextAsync(Path.Combine(runFolder, "inputs.json"), inputs.ToJsonString(Indented), cancellationToken);

        var input = new JsonObject { ["batch"] = runId };
        var modelPackageGroup = LocalDefinition.ModelPackageGroupFor(options.DataDirectory);
        input["overrides"] = WithRegisteredModel(options.Overrides, modelPackageGroup);
        var definition = LocalDefinition.Build(modelPackageGroup);
        return await ExecuteAsync(layout, runId, definition, input, redriveCount: 0, options.MlflowTrackingUri, clock, onEvent, onNotification, startAt: null, cancellationToken);
    }

    /// <summary>
    /// Redrives a failed run as Step Functions' RedriveExecution does: the same execution (run id, run folder,
    /// definition) continues from the top-level state that failed, with the input that state received;
    /// states that succeeded are not run again, and <c>$$.Execution.RedriveCount</c> goes up by one.
    /// </summary>
    public async Task<LocalRunResult> RedriveAsync(string root, string runId, string? mlflowTrackingUri = null, Action<ExecutionEvent>? onEvent = null,
        Action<string, string>? onNotification = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        var layout = new LocalLayout(Path.GetFullPath(root));
        var inputsFile = Path.Combine(layout.RunFolder(runId), "inputs.json");
        if (!File.Exists(inputsFile)) throw new ExecutionNotRedrivable($"No run {runId} under {layout.Root} ({inputsFile} not found).");
        var inputs = JsonNode.Parse(await File.ReadAllTextAsync(inputsFile, cancellationToken));
        var dataDirectory = (string?)inputs?["dataDirectory"];
        // The definition the run started with: the sample's or the data folder's model package group.
        var group = LocalDefinition.ModelPackageGroupFor(dataDirectory is null || Path.GetFullPath(dataDirectory) == Path.GetFullPath(layout.SampleData) ? null : dataDirectory);
        var definition = LocalDefinition.Build(group);
        var point = RedrivePoint.Read(layout.RunFolder(runId), runId, definition);
        await File.AppendAllTextAsync(Path.Combine(layout.RunFolder(runId), "history.jsonl"),
            new JsonObject { ["type"] = "ExecutionRedriven", ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ["redriveCount"] = point.RedriveCount, ["state"] = point.State }.ToJsonString() + "\n",
            cancellationToken);
        return await ExecuteAsync(layout, runId, point.Definition, point.Input, point.RedriveCount, mlflowTrackingUri, clock, onEvent, onNotification, point.State, cancellationToken);
    }

    private async Task<LocalRunResult> ExecuteAsync(LocalLayout layout, string runId, string definition, JsonNode? input, int redriveCount,
        string? mlflowTrackingUri, Stopwatch clock, Action<ExecutionEvent>? onEvent, Action<string, string>? onNotification, string? startAt,
        CancellationToken cancellationToken)
    {
        var runFolder = layout.RunFolder(runId);
        var store = new LocalFolderObjectStore(layout.S3Root);
        var mlflowOptions = await MlflowConnection.ResolveAsync(mlflowTrackingUri, Environment.GetEnvironmentVariable, cancellationToken: cancellationToken);
        using var mlflow = mlflowOptions is null ? null : new MlflowClient(mlflowOptions);
        await using var logs = new StreamWriter(Path.Combine(runFolder, "logs.jsonl"), append: redriveCount > 0) { AutoFlush = true };
        var functions = LocalFunctions.Create(store, mlflow, logs);
        var lambda = new LambdaAdapter(functions);
        using var athena = new LocalAthenaAdapter(layout.S3Root, LocalLayout.RawBucket, LocalLayout.WorkBucket);
        var sageMaker = new SageMakerAdapter(store, layout.SageMakerState, new LocalAwsIdentity(LocalLayout.Region, LocalLayout.Account),
            new StructuredLog("LocalSageMaker", logs));
        sageMaker.Tuning.ReportTrial = OnTuningTrial;
        var sns = new SnsAdapter(Path.Combine(runFolder, "notifications.jsonl"), onNotification);
        var tasks = DecorateTasks(new LocalTaskDispatcher([lambda, athena, sageMaker, sns]));

        var request = new ExecutionRequest(definition, input, runId, Region: LocalLayout.Region, Account: LocalLayout.Account,
            RetryIntervalOverridesMs: RetryIntervalOverridesMs, RedriveCount: redriveCount, StartAt: startAt);

        await using var history = new StreamWriter(Path.Combine(runFolder, "history.jsonl"), append: redriveCount > 0);
        var execution = await runner.RunAsync(request, tasks, e =>
        {
            lock (history) history.WriteLine(e.Raw?.ToJsonString() ?? "{}");
            onEvent?.Invoke(e);
        }, cancellationToken);
        // A stopped (ABORTED) run still keeps its history, its notification and its report.
        await history.FlushAsync(CancellationToken.None);
        if (!execution.Succeeded)
            await NotifyFailureAsync(new LambdaAdapter(functions), sns, request, execution, new StructuredLog("LocalFailureNotifier", logs), CancellationToken.None);

        var cost = OrchestrationCost.From(execution, lambda.Invocations);
        var result = new LocalRunResult(runId, runFolder, execution, clock.Elapsed, cost, mlflowTrackingUri);
        await RunReport.WriteAsync(result, layout, CancellationToken.None);
        return result;
    }

    /// <summary>
    /// The failure notification, as deployed: the status-change event EventBridge sends for the execution starts the
    /// failure notifier's definition, which reads the run's history (the GetExecutionHistory stand-in answers from
    /// this execution), composes the plain line and publishes it on the local topic.
    /// </summary>
    private async Task NotifyFailureAsync(LambdaAdapter lambda, SnsAdapter sns, ExecutionRequest run, ExecutionResult execution, StructuredLog log,
        CancellationToken cancellationToken)
    {
        var history = new ExecutionHistoryAdapter();
        history.Record(run.ExecutionArn, execution, run.Definition);
        var notifier = new ExecutionRequest(LocalDefinition.BuildFailureNotifier(), StatusChangeEvent(run, execution), $"{run.ExecutionName}-failed",
            StateMachineName: LocalDefinition.FailureNotifierName, Region: run.Region, Account: run.Account, RetryIntervalOverridesMs: RetryIntervalOverridesMs);
        var result = await runner.RunAsync(notifier, new LocalTaskDispatcher([history, lambda, sns]), cancellationToken: cancellationToken);
        if (!result.Succeeded)
            log.Error("failure notifier failed", ("error", result.Error), ("cause", result.Cause));
    }

    /// <summary>EventBridge's "Step Functions Execution Status Change" event for a finished execution.</summary>
    public static JsonObject StatusChangeEvent(ExecutionRequest run, ExecutionResult execution)
    {
        var now = DateTimeOffset.UtcNow;
        var detail = new JsonObject
        {
            ["executionArn"] = run.ExecutionArn,
            ["stateMachineArn"] = run.StateMachineArn,
            ["name"] = run.ExecutionName,
            ["status"] = execution.Status,
            ["stopDate"] = now.ToUnixTimeMilliseconds(),
            ["redriveCount"] = run.RedriveCount,
        };
        // A local stop carries the interpreter's placeholder error and cause, not a caller's (StopExecution's own are optional).
        if (execution.Status != "ABORTED")
        {
            if (execution.Error is not null) detail["error"] = execution.Error;
            if (execution.Cause is not null) detail["cause"] = execution.Cause;
        }
        return new JsonObject
        {
            ["version"] = "0",
            ["id"] = Guid.NewGuid().ToString(),
            ["detail-type"] = "Step Functions Execution Status Change",
            ["source"] = "aws.states",
            ["account"] = run.Account,
            ["time"] = now.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            ["region"] = run.Region,
            ["resources"] = new JsonArray(run.ExecutionArn),
            ["detail"] = detail,
        };
    }

    /// <summary>
    /// Each data source registers in MLflow under its model package group's name (unless the overrides name a
    /// registered model), so the champion alias of the sample and of real data never share one model.
    /// </summary>
    public static JsonObject WithRegisteredModel(JsonObject? overrides, string modelPackageGroup)
    {
        var result = overrides?.DeepClone().AsObject() ?? new JsonObject();
        if (!result.ContainsKey("mlflow.registeredModelName") && result["mlflow"]?["registeredModelName"] is null)
            result["mlflow.registeredModelName"] = modelPackageGroup;
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
