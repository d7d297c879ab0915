using System.CommandLine;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Functions.Hosting;
using MlOps.Serverless.Local.S3;
using MlOps.Serverless.Mlflow.Authentication;
using MlOps.Serverless.Mlflow.Client;
using MlOps.Serverless.Mlflow.Logging;

namespace MlOps.Serverless.Cli.Commands;

/// <summary>
/// <c>mlops mlflow log</c> (log a tuning result / stage input / outbox entry to a tracking server and print the run ids)
/// and <c>mlops mlflow replay</c> (push deferred outbox entries). Credentials come from the usual MLflow
/// environment variables, never from the command line.
/// </summary>
public static class MlflowCommands
{
    public static Command Create()
    {
        var command = new Command("mlflow", "Log results to MLflow and replay deferred logging (see docs/mlflow.md)");
        command.Subcommands.Add(Log());
        command.Subcommands.Add(Replay());
        return command;
    }

    private static Option<string?> TrackingUriOption() => new("--tracking-uri")
    {
        Description = "MLflow tracking server URL or SageMaker MLflow tracking-server ARN (default: $MLFLOW_TRACKING_URI)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable(MlflowConnection.TrackingUriVariable),
    };

    private static Option<DirectoryInfo?> S3RootOption() => new("--s3-root")
    {
        Description = "Local folder that stands for S3 (local mode's {out}/s3), to read s3:// curves and models from (default for a local outbox: the folder it sits in)",
    };

    private static Command Log()
    {
        var file = new Argument<FileInfo>("file") { Description = "A tuning result {tuningJob, trainingJobs, bestTrainingJob}, a logging-stage input, or an outbox entry" };
        var tracking = TrackingUriOption();
        var runId = new Option<string?>("--run-id") { Description = "Run id (execution name) to log under; default: the file's, or the tuning job's name" };
        var experiment = new Option<string?>("--experiment") { Description = "Experiment name (default: the run's configuration, retail-weekly-sales)" };
        var s3Root = S3RootOption();
        var command = new Command("log", "Log a tuning result to an MLflow tracking server and print the experiment and run ids")
        {
            file, tracking, runId, experiment, s3Root,
        };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            return await GuardAsync(async () =>
            {
                if (!path.Exists) throw new InvalidStageInput($"{path.FullName} does not exist.");
                var input = LoggingInputFile.Parse(await File.ReadAllTextAsync(path.FullName, ct), path.FullName, parse.GetValue(runId), parse.GetValue(experiment));
                using var client = await ClientAsync(parse.GetValue(tracking), ct);
                var output = await new MlflowRunWriter(client, CurveStore(parse.GetValue(s3Root))).LogAsync(input, ct);
                Print(MlflowOutbox.ActionName(input.Action), output);
                return 0;
            });
        });
        return command;
    }

    private static Command Replay()
    {
        var outbox = new Argument<string>("outbox")
        {
            Description = "An outbox file, a local folder (searched for mlflow-outbox/*.json, e.g. a run folder or the whole local S3 root), or an s3:// prefix",
        };
        var tracking = TrackingUriOption();
        var s3Root = S3RootOption();
        var command = new Command("replay", "Push deferred MLflow logging (the mlflow-outbox entries) to a tracking server; safe to repeat")
        {
            outbox, tracking, s3Root,
        };
        command.SetAction(async (parse, ct) => await GuardAsync(async () =>
        {
            var target = parse.GetValue(outbox)!;
            var entries = await ReadOutboxAsync(target, ct);
            if (entries.Count == 0)
            {
                Console.WriteLine($"No outbox entries under {target}.");
                return 0;
            }
            using var client = await ClientAsync(parse.GetValue(tracking), ct);
            var root = CurveStore(parse.GetValue(s3Root));
            var s3 = target.StartsWith("s3://", StringComparison.Ordinal) ? new S3ObjectStore() : null;
            var results = await MlflowReplay.ReplayAsync(client, (source, entry) => root ?? (IObjectStore?)s3 ?? LocalStoreOf(MlflowOutbox.LocalRootOf(source, entry)), entries, ct);
            foreach (var r in results)
            {
                Console.WriteLine($"{r.Source} (run {r.Entry.Input.Run.RunId}, deferred {r.Entry.DeferredAt:u}):");
                Print(MlflowOutbox.ActionName(r.Entry.Input.Action), r.Output);
            }
            Console.WriteLine($"Replayed {results.Count} entr{(results.Count == 1 ? "y" : "ies")}.");
            return 0;
        }));
        return command;
    }

    private static async Task<IReadOnlyList<(string Source, OutboxEntry Entry)>> ReadOutboxAsync(string target, CancellationToken ct)
    {
        if (target.StartsWith("s3://", StringComparison.Ordinal))
            return (await MlflowOutbox.ReadAllAsync(new S3ObjectStore(), S3Uri.Parse(target), ct)).Select(e => (e.Location.ToString(), e.Entry)).ToList();
        IEnumerable<string> files;
        if (File.Exists(target)) files = [target];
        else if (Directory.Exists(target))
            files = Directory.EnumerateFiles(target, "*.json", SearchOption.AllDirectories)
                .Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == MlflowOutbox.Folder.TrimEnd('/'))
                .Order(StringComparer.Ordinal);
        else throw new InvalidStageInput($"Outbox '{target}' is neither a file, a folder nor an s3:// prefix.");
        var entries = new List<(string, OutboxEntry)>();
        foreach (var f in files)
        {
            await using var stream = File.OpenRead(f);
            entries.Add((f, MlflowOutbox.Parse(stream, f)));
        }
        return entries;
    }

    private static async Task<MlflowClient> ClientAsync(string? trackingUri, CancellationToken ct)
    {
        var options = await MlflowConnection.ResolveAsync(trackingUri, Environment.GetEnvironmentVariable,
            Environment.GetEnvironmentVariable(MlflowConnection.CredentialsParameterVariable) is { Length: > 0 } ? new SsmSecretSource() : null,
            cancellationToken: ct)
            ?? throw new InvalidConfiguration($"No tracking server: pass --tracking-uri or set {MlflowConnection.TrackingUriVariable} (e.g. http://127.0.0.1:5000 after `mlflow server --port 5000`).");
        return new MlflowClient(options);
    }

    private static LocalFolderObjectStore? CurveStore(DirectoryInfo? s3Root) => LocalStoreOf(s3Root?.FullName);

    private static LocalFolderObjectStore? LocalStoreOf(string? folder) => folder is null ? null : new LocalFolderObjectStore(folder);

    private static void Print(string action, MlflowLoggerOutput output)
    {
        Console.WriteLine($"  {action}: {output.Status.ToString().ToLowerInvariant()}");
        if (output.ExperimentId is { } e) Console.WriteLine($"  experiment  {e}");
        if (output.ParentRunId is { } p) Console.WriteLine($"  parent run  {p}");
        foreach (var c in output.ChildRunIds ?? []) Console.WriteLine($"  child run   {c}");
        if (output.ModelVersion is { } v) Console.WriteLine($"  model version {v}");
        if (output.ChampionVersion is { } champion) Console.WriteLine($"  champion    version {champion}{(champion == output.ModelVersion ? "" : " (promoted later; the alias stays there)")}");
        if (output.RunUrl is { } url) Console.WriteLine($"  url         {url}");
    }

    private static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try { return await body(); }
        catch (WorkflowError e)
        {
            await Console.Error.WriteLineAsync($"{e.ErrorName}: {e.Message}");
            return e is InvalidConfiguration or InvalidStageInput ? 2 : 1;
        }
    }
}
