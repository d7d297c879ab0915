using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.S3;
using MlOps.Serverless.Mlflow.Client;
using MlOps.Serverless.Reliability.Tests.Support;
using Xunit.Abstractions;

namespace MlOps.Serverless.Reliability.Tests;

/// <summary>
/// The bad-input corpus (Corpus/**, one file per bad input, each with a <c>.expect.json</c> sidecar naming the
/// error and a fragment its message must contain) run through the real stages: trigger events through the
/// prepare-run Lambda entry point, data files through the real local workflow, MLflow answers through the
/// MLflow client against a real REST server, XGBoost failures through the local SageMaker adapter in a run.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class CorpusTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = LocalRuns.NewRoot("corpus");
    private static readonly string CorpusDirectory = Path.Combine(AppContext.BaseDirectory, "Corpus");

    public void Dispose() => LocalRuns.DeleteRoot(_root);

    private sealed record Entry(string Category, string File, string? Error, string Contains, JsonObject Expect);

    private static List<Entry> Entries() =>
        Directory.EnumerateFiles(CorpusDirectory, "*", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".expect.json", StringComparison.Ordinal) && !f.Contains($"{Path.DirectorySeparatorChar}base{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f =>
            {
                var expect = JsonNode.Parse(File.ReadAllText(f + ".expect.json"))!.AsObject();
                return new Entry(Path.GetFileName(Path.GetDirectoryName(f))!, f, (string?)expect["error"], (string?)expect["contains"] ?? "", expect);
            })
            .ToList();

    /// <summary>What actually happened: the error name and message (null error: accepted).</summary>
    private sealed record Outcome(string? Error, string Message, string? Problem = null);

    [Fact]
    public async Task Every_bad_input_of_the_corpus_gets_its_named_error_with_what_and_where()
    {
        var entries = Entries();
        Assert.True(entries.Count >= 40, $"the corpus holds {entries.Count} bad inputs, at least 40 expected");
        var failures = new List<string>();
        var perCategory = new Dictionary<string, int>();
        foreach (var entry in entries)
        {
            var outcome = entry.Category switch
            {
                "triggers" => await TriggerAsync(entry),
                "data" => await DataFileAsync(entry),
                "mlflow" => await MlflowAnswerAsync(entry),
                "xgboost" => await XgboostAsync(entry),
                "data-folder" => await DataFolderAsync(entry),
                _ => new Outcome("?", "", $"unknown corpus category {entry.Category}"),
            };
            var name = $"{entry.Category}/{Path.GetFileName(entry.File)}";
            output.WriteLine($"{name}: {outcome.Error ?? "accepted"}: {Shorten(outcome.Message)}");
            if (outcome.Problem is not null) failures.Add($"{name}: {outcome.Problem}");
            else if (outcome.Error is not null && NotPlain(outcome.Message) is { } why) failures.Add($"{name}: the message is not one plain line ({why}): {Shorten(outcome.Message)}");
            else if (outcome.Error != entry.Error) failures.Add($"{name}: expected {entry.Error ?? "acceptance"}, got {outcome.Error ?? "acceptance"}: {Shorten(outcome.Message)}");
            else if (!outcome.Message.Contains(entry.Contains, StringComparison.OrdinalIgnoreCase)) failures.Add($"{name}: message lacks '{entry.Contains}': {Shorten(outcome.Message)}");
            else perCategory[entry.Category] = perCategory.GetValueOrDefault(entry.Category) + 1;
        }

        var handled = entries.Count - failures.Count;
        Report.Print(output, $"{entries.Count} bad inputs tried, {handled} handled ({string.Join(", ", perCategory.Select(p => $"{p.Key} {p.Value}"))})");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    /// <summary>What a person would stumble over in a message: a line break, a JSON escape, a JSON object.</summary>
    private static string? NotPlain(string message) =>
        message.Contains('\n') ? "a line break"
        : message.Contains("\\u00", StringComparison.Ordinal) || message.Contains("\\\"", StringComparison.Ordinal) ? "a JSON escape"
        : message.Contains("{\"", StringComparison.Ordinal) ? "raw JSON"
        : null;

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "..." : text;

    // ---- trigger events and manual requests: the prepare-run Lambda's real entry point ----

    private async Task<Outcome> TriggerAsync(Entry entry)
    {
        var store = new LocalFolderObjectStore(Path.Combine(_root, "triggers", "s3"));
        foreach (var dataset in RawDatasets.All)
        {
            var key = new S3Uri(LocalLayout.RawBucket, RawDatasets.KeyOf(dataset, "corpus"));
            if (!File.Exists(store.PathOf(key))) await store.PutAsync(key, File.OpenRead(Path.Combine(CorpusDirectory, "data", "base", dataset.FileName)), "text/csv");
        }
        var prepare = LocalFunctions.Create(store, null, TextWriter.Null)["PrepareRun"];
        // Step Functions' Parameters block wraps the execution input as "event".
        var payload = "{\"event\":" + await File.ReadAllTextAsync(entry.File) +
            ",\"executionName\":\"corpus-run\",\"executionArn\":\"arn:aws:states:local:000000000000:execution:mlops-retraining:corpus-run\",\"startTime\":\"2026-11-27T06:00:00Z\"}";
        try
        {
            await using var result = await prepare(new MemoryStream(Encoding.UTF8.GetBytes(payload)));
            var run = await new StreamReader(result).ReadToEndAsync();
            // An accepted input must not carry its bulk on into $.run, which every later state holds.
            var max = (int?)entry.Expect["maxOutputBytes"];
            return max is { } limit && Encoding.UTF8.GetByteCount(run) > limit
                ? new Outcome(null, run, $"the run request is {Encoding.UTF8.GetByteCount(run):N0} bytes, more than {limit:N0}")
                : new Outcome(null, run);
        }
        catch (Exception e) { return new Outcome(e.GetType().Name, e.Message); }
    }

    // ---- data files: the real local workflow, one file of the batch replaced ----

    private async Task<Outcome> DataFileAsync(Entry entry)
    {
        var dataset = RawDatasets.All.Single(d => d.Folder == (string?)entry.Expect["dataset"] || d.FileName.StartsWith((string)entry.Expect["dataset"]!, StringComparison.OrdinalIgnoreCase));
        var data = Directory.CreateDirectory(Path.Combine(_root, "data-in", Path.GetFileNameWithoutExtension(entry.File))).FullName;
        foreach (var d in RawDatasets.All)
            File.Copy(d == dataset ? entry.File : Path.Combine(CorpusDirectory, "data", "base", d.FileName), Path.Combine(data, d.FileName), overwrite: true);

        var name = "corpus-" + Path.GetFileNameWithoutExtension(entry.File);
        // Stop after the data stages: what the corpus tests is how the data is judged.
        var result = await LocalRuns.RunAsync(_root, name, dataDirectory: data,
            decorate: t => new Faults(t).Fail("TuneHyperparameters", "States.TaskFailed", "corpus: stop after the data stages"));
        var execution = result.Execution;
        var missing = new[] { "inputs.json", "history.jsonl", "notifications.jsonl", "logs.jsonl" }.Where(f => !File.Exists(Path.Combine(result.RunFolder, f))).ToList();
        if (missing.Count > 0) return new Outcome(execution.Error, execution.Cause ?? "", $"run folder lacks {string.Join(", ", missing)}");

        var verdictFailed = execution.History.Any(e => e.StateName == "QualityVerdict" && e.Type.Contains("Fail", StringComparison.Ordinal))
            || execution.Error is not null && (execution.StatesEntered.Count > 0 ? execution.StatesEntered[^1] : null) is "QualityVerdict" or "QualityQuery" or "QualityResults" or "PrepareRun" or "BuildFeatures";
        if (!verdictFailed && execution.StatesEntered.Contains("TuneHyperparameters"))
            return new Outcome(null, "the data stages accepted the file");
        if (execution.Error == "DataQualityFailed")
        {
            // The run keeps what it produced: the full quality report is written before the verdict fails.
            var report = Path.Combine(_root, "s3", LocalLayout.WorkBucket, "runs", name, "quality", "report.json");
            if (!File.Exists(report)) return new Outcome(execution.Error, execution.Cause ?? "", "the quality report was not kept");
        }
        if (!File.ReadAllText(Path.Combine(result.RunFolder, "notifications.jsonl")).Contains("Retraining run failed", StringComparison.Ordinal))
            return new Outcome(execution.Error, execution.Cause ?? "", "no failure notification");
        return PlainOutcome(result);
    }

    /// <summary>What a person reads of a failed run: the console's, the report's and the notification's line.</summary>
    private static Outcome PlainOutcome(LocalRunResult result)
    {
        var failure = RunFailure.From(result.Execution)!;
        var report = File.ReadAllText(Path.Combine(result.RunFolder, "report.md"));
        var notification = File.ReadAllText(Path.Combine(result.RunFolder, "notifications.jsonl"));
        if (!report.Contains(failure.Line, StringComparison.Ordinal)) return new Outcome(failure.Error, failure.Message, $"report.md lacks '{failure.Line}'");
        var published = JsonNode.Parse(notification.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!["Message"]!.GetValue<string>();
        if (!published.Contains(failure.Message, StringComparison.Ordinal)) return new Outcome(failure.Error, failure.Message, $"the notification lacks the message: {published}");
        return new Outcome(failure.Error, failure.Message);
    }

    // ---- --data folders: the local workflow refuses them before it starts anything ----

    private async Task<Outcome> DataFolderAsync(Entry entry)
    {
        var layout = JsonNode.Parse(await File.ReadAllTextAsync(entry.File))!;
        var data = Path.Combine(_root, "folders", Path.GetFileNameWithoutExtension(entry.File));
        switch ((string)layout["layout"]!)
        {
            case "file":
                Directory.CreateDirectory(Path.GetDirectoryName(data)!);
                File.Copy(Path.Combine(CorpusDirectory, "data", "base", RawDatasets.Sales.FileName), data, overwrite: true);
                break;
            case "files":
                Directory.CreateDirectory(data);
                foreach (var (name, dataset) in layout["files"]!.AsArray().Select(n => (string)n!).Zip(RawDatasets.All))
                    File.Copy(Path.Combine(CorpusDirectory, "data", "base", dataset.FileName), Path.Combine(data, name), overwrite: true);
                break;
        }
        var runs = Path.Combine(_root, "runs");
        try
        {
            await LocalRuns.RunAsync(_root, "corpus-folder-" + Path.GetFileNameWithoutExtension(entry.File), dataDirectory: data);
            return new Outcome(null, "the run started");
        }
        catch (InvalidDataFolder e)
        {
            // Refused before anything started: no run folder, one plain line.
            return Directory.Exists(runs) && Directory.EnumerateDirectories(runs).Any(d => d.Contains("corpus-folder-", StringComparison.Ordinal))
                ? new Outcome(e.GetType().Name, e.Message, "a run folder was created before the check")
                : e.Message.Contains('\n') ? new Outcome(e.GetType().Name, e.Message, "the message is not one line") : new Outcome(e.GetType().Name, e.Message);
        }
    }

    // ---- MLflow answers: the typed client against a server answering with the corpus entry ----

    private static async Task<Outcome> MlflowAnswerAsync(Entry entry)
    {
        // A server per entry: faults an entry leaves queued must not reach the next one.
        await using var server = await FakeMlflowServer.StartAsync();
        var answer = JsonNode.Parse(await File.ReadAllTextAsync(entry.File))!;
        var times = (int)answer["times"]!;
        if ((bool)answer["stall"]!) server.StallNext(times);
        else server.FailNext((int)answer["status"]!, (string)answer["contentType"]!, (string)answer["body"]!, times);
        using var client = new MlflowClient(new MlflowClientOptions
        {
            BaseUri = server.BaseUri,
            Retry = new MlflowRetryPolicy { MaxAttempts = 2, AttemptTimeout = TimeSpan.FromMilliseconds(300), MaxTotalTime = TimeSpan.FromSeconds(5) },
            Delay = (_, _) => Task.CompletedTask,
        });
        try
        {
            await client.CreateExperimentAsync("corpus-" + Path.GetFileNameWithoutExtension(entry.File));
            return new Outcome(null, "accepted");
        }
        catch (WorkflowError e) { return new Outcome(e.GetType().Name, e.Message); }
        catch (Exception e) { return new Outcome(e.GetType().Name, e.Message, $"not a named workflow error: {e.GetType().Name}"); }
    }

    // ---- XGBoost failures: a real single-job run whose channel or model is replaced just before SageMaker reads it ----

    private async Task<Outcome> XgboostAsync(Entry entry)
    {
        var name = "corpus-xgb-" + Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(entry.File));
        var replaces = (string)entry.Expect["replaces"]!;
        var before = (string)entry.Expect["before"]!;
        var bytes = await File.ReadAllBytesAsync(entry.File);
        var overrides = new JsonObject { ["tuning.enabled"] = false, ["gate.maxWmaeRatioToNaive"] = 5 };
        var result = await LocalRuns.RunAsync(_root, name, overrides, t => new Faults(t).Before(before, (call, _, _) =>
        {
            if (replaces == "train")
            {
                var train = Path.Combine(_root, "s3", LocalLayout.WorkBucket, "runs", name, "train");
                Directory.Delete(train, recursive: true); // the split's shard=k/ folders
                Directory.CreateDirectory(train);
                File.WriteAllBytes(Path.Combine(train, "corpus.csv"), bytes); // File mode: the channel's objects as stored
            }
            else
            {
                foreach (var file in Directory.GetFiles(Path.Combine(_root, "s3", LocalLayout.ArtifactBucket, "runs", name), "model.tar.gz", SearchOption.AllDirectories))
                    File.WriteAllBytes(file, bytes);
            }
            return Task.CompletedTask;
        }));
        var execution = result.Execution;
        if (execution.Succeeded) return new Outcome(null, "the run succeeded");
        if (!execution.StatesEntered.Contains(before)) return new Outcome(execution.Error, execution.Cause ?? "", $"the run failed before {before}");
        if (!File.ReadAllText(Path.Combine(result.RunFolder, "notifications.jsonl")).Contains("Retraining run failed", StringComparison.Ordinal))
            return new Outcome(execution.Error, execution.Cause ?? "", "no failure notification");
        return PlainOutcome(result);
    }
}
