using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Costs;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Local.Reporting;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;
using Spectre.Console;

namespace MlOps.Serverless.Cli.Commands;

/// <summary><c>mlops run</c>: the whole workflow on this machine, from the deployed definition.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo?>("--data") { Description = "Folder with the three real-named CSV files (default: generate the sample data set)" };
        var config = new Option<FileInfo?>("--config") { Description = "JSON file of configuration overrides, e.g. {\"tuning\":{\"maxJobs\":8}}" };
        var set = new Option<string[]>("--set") { Description = "Override one configuration key, e.g. --set tuning.maxJobs=8 (repeatable)", AllowMultipleArgumentsPerToken = false };
        var mlflow = new Option<string?>("--mlflow") { Description = "MLflow tracking URI (http(s) URL or SageMaker MLflow ARN); default: keep runs in the local outbox" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Local account folder (S3, SageMaker state, run folders)", DefaultValueFactory = _ => new DirectoryInfo("mlops-local") };
        var name = new Option<string?>("--name") { Description = "Execution name (the run id); default local-<timestamp>-<random>" };
        var redrive = new Option<string?>("--redrive") { Description = "Redrive a failed run (its run id): continue from the state that failed, with that state's input, in the same run folder" };
        var command = new Command("run", "Run the retraining workflow locally: the deployed state machine on aws-local-stepfunctions with local AWS stand-ins")
        {
            data, config, set, mlflow, output, name, redrive,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                if (parse.GetValue(redrive) is { } runId)
                {
                    // A redrive reuses the execution's definition and input, as RedriveExecution does.
                    if (parse.GetValue(data) is not null || parse.GetValue(config) is not null || (parse.GetValue(set) ?? []).Length > 0 || parse.GetValue(name) is not null)
                        throw new InvalidRunRequest("--redrive continues a run with its own data, configuration and name: leave out --data, --config, --set and --name");
                    return await RunAsync((workflow, onEvent, onNotification, ct) =>
                        workflow.RedriveAsync(parse.GetValue(output)!.FullName, runId, parse.GetValue(mlflow), onEvent, onNotification, ct), cancellationToken);
                }
                var overrides = Overrides(parse.GetValue(config), parse.GetValue(set) ?? []);
                var options = new LocalRunOptions(parse.GetValue(output)!.FullName, parse.GetValue(data)?.FullName, overrides,
                    parse.GetValue(mlflow), parse.GetValue(name));
                // Before anything starts (node, the progress display, the run folder).
                if (options.DataDirectory is not null) DataFolder.Check(options.DataDirectory);
                return await RunAsync((workflow, onEvent, onNotification, ct) => workflow.RunAsync(options, onEvent, onNotification, ct), cancellationToken);
            }
            catch (Exception e) when (e is WorkflowError or LocalSetupMissing or InvalidDataFolder)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]{e.GetType().Name}[/]: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    private static JsonObject? Overrides(FileInfo? file, string[] pairs)
    {
        static Exception Error(string m) => new InvalidRunRequest(m);
        var result = new JsonObject();
        if (file is not null)
        {
            if (!file.Exists) throw Error($"--config {file.FullName}: file not found");
            var node = JsonNode.Parse(File.ReadAllText(file.FullName)) as JsonObject
                ?? throw Error($"--config {file.FullName}: expected a JSON object of configuration keys");
            foreach (var (key, value) in node) result[key] = value?.DeepClone();
        }
        foreach (var (key, value) in ConfigurationOverrides.FromPairs(pairs, Error)) result[key] = value?.DeepClone();
        // Validate now so a typo fails before any work starts (the prepare-run stage checks again).
        ConfigurationValidator.Validate(ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, result, "overrides", Error), Error);
        return result.Count == 0 ? null : result;
    }

    private delegate Task<LocalRunResult> Execute(LocalWorkflow workflow, Action<ExecutionEvent> onEvent, Action<string, string> onNotification, CancellationToken cancellationToken);

    private static async Task<int> RunAsync(Execute execute, CancellationToken cancellationToken)
    {
        ProgressTask? state = null;
        var workflow = new LocalWorkflow(new StateMachineRunner(NodeEnvironment.Discover()))
        {
            OnTuningTrial = (done, total) => { if (state is not null) state.Description = $"TuneHyperparameters: trial {done}/{total} (XGBoost 1.7.4)"; },
        };
        LocalRunResult? result = null;
        var notifications = new List<(string Subject, string Message)>();
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .StartAsync(async progress =>
            {
                // One step per state entered; a run enters at most this many (a shorter one jumps to the end when it finishes).
                var overall = progress.AddTask("[bold]retraining[/]", maxValue: RunCostEstimate.MaxStateTransitions);
                state = progress.AddTask("starting", maxValue: 1);
                result = await execute(workflow, e =>
                {
                    if (e.Type == "StateEntered" && e.StateName is not null)
                    {
                        overall.Increment(1);
                        state.Description = Markup.Escape(e.StateName);
                    }
                    if (e.Type == "StateRetried") state.Description = Markup.Escape($"{e.StateName} (retrying)");
                }, (subject, message) => notifications.Add((subject, message)), cancellationToken);
                overall.Value = overall.MaxValue;
                state.Description = result.Execution.Status.ToLowerInvariant();
                state.Value = 1;
            });
        Print(result!, notifications);
        return result!.Execution.Succeeded ? 0 : 1;
    }

    private static void Print(LocalRunResult result, List<(string Subject, string Message)> notifications)
    {
        var summary = RunSummary.Read(result.RunFolder);
        var ok = result.Execution.Succeeded;
        AnsiConsole.MarkupLineInterpolated($"\n[bold]Outcome:[/] [{(ok ? "green" : "red")}]{summary.Outcome}[/] in {result.Elapsed.TotalSeconds:0.0} s (run {result.RunId})");
        if (RunFailure.From(result.Execution) is { } failure) AnsiConsole.MarkupLineInterpolated($"[red]{failure.Line}[/]");
        if (summary.Gate is { } gate)
        {
            // All three on the same test rows; the champion's column is empty when there is none or it is not comparable.
            var table = new Table().AddColumns("metric", "challenger", "naive baseline", "ratio", "champion");
            foreach (var (metric, c, b, champion) in RunSummary.Metrics(gate))
                table.AddRow(metric.ToUpperInvariant(), Format(c), Format(b), c is { } x && b is { } y && y != 0 ? (x / y).ToString("0.000", CultureInfo.InvariantCulture) : "—",
                    Format(champion));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"Gate: [bold]{RunSummary.DecisionName(gate.Decision)}[/] — {gate.Summary}");
        }
        foreach (var (subject, _) in notifications) AnsiConsole.MarkupLineInterpolated($"Notification: {subject}");
        if (summary.Model is { } model) AnsiConsole.MarkupLineInterpolated($"Model:  {model}");
        PrintMlflow(result);
        AnsiConsole.MarkupLineInterpolated($"Report: {Path.Combine(result.RunFolder, "report.md")}");
        var cost = result.Cost;
        AnsiConsole.MarkupLineInterpolated(
            $"Cloud orchestration estimate: {cost.StateTransitions} state transitions (${cost.StepFunctionsUsd:0.00000}), {cost.LambdaInvocations} Lambda invocations / {cost.LambdaGbSeconds:0.000} GB-s (${cost.LambdaUsd:0.00000}), {cost.TransformJobs} batch transform jobs (SageMaker compute, not priced here); prices: {OrchestrationCost.PriceNote}");
        AnsiConsole.MarkupLineInterpolated($"Forecast (dollars per store, dept and week): {summary.Forecast ?? "none (no promoted model, so no forecast)"}");
    }

    private static void PrintMlflow(LocalRunResult result)
    {
        var (lines, command) = MlflowSection.Describe(result, new LocalLayout(Path.GetDirectoryName(Path.GetDirectoryName(result.RunFolder))!));
        foreach (var line in lines) AnsiConsole.MarkupLineInterpolated($"{line}");
        if (command is not null)
            AnsiConsole.MarkupLineInterpolated($"Replay: [bold]{command}[/]{(MlflowSection.ReplayNote(result) is { } note ? $"  ({note})" : "")}");
    }

    private static string Format(double? value) => value?.ToString("#,0.0", CultureInfo.InvariantCulture) ?? "—";
}
