using System.Text.Json.Nodes;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Reporting;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.S3;
using MlOps.Serverless.Mlflow.Client;
using MlOps.Serverless.Mlflow.Logging;

namespace MlOps.Serverless.Local.Tests.Run;

/// <summary>
/// The local workflow logging to an in-process MLflow server that follows MLflow's SQL store: the same
/// execution name run twice, then a run with no server (everything deferred) replayed twice.
/// </summary>
public sealed class MlflowLoggingEndToEndTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mlops-mlflow-e2e-").FullName;
    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static readonly SampleDataOptions SmallSample = new() { Stores = 4, Departments = 4 };

    // Local mode refuses to reuse a run's output prefixes, so the reused name runs in a second output folder (a
    // second account, or the same name after AWS's 90 days); both log to one tracking server.
    private Task<LocalRunResult> RunAsync(string name, Uri? tracking, string folder = "a") =>
        new LocalWorkflow(new StateMachineRunner(NodeEnvironment.Discover())).RunAsync(new LocalRunOptions(Path.Combine(_root, folder),
            Overrides: new JsonObject { ["tuning.maxJobs"] = 3, ["tuning.maxParallelJobs"] = 3 }, MlflowTrackingUri: tracking?.ToString(),
            ExecutionName: name, Sample: SmallSample));

    [Fact]
    public async Task Reused_names_an_outage_and_two_replays_leave_one_parent_per_execution_and_the_alias_on_the_newest_promotion()
    {
        await using var server = await FakeMlflowServer.StartAsync();
        var runs = new List<LocalRunResult> { await RunAsync("nightly", server.BaseUri), await RunAsync("nightly", server.BaseUri, "b"), await RunAsync("outage", null) };
        Assert.All(runs, r => Assert.True(r.Execution.Succeeded, r.Execution.Cause));

        var outage = runs[2];
        var (lines, command) = MlflowSection.Describe(outage, new LocalLayout(Path.Combine(_root, "a")));
        Assert.Contains(lines, l => l.StartsWith("MLflow training: deferred: No MLflow tracking server is configured", StringComparison.Ordinal));
        Assert.Equal($"./mlops mlflow replay {Path.Combine(_root, "a", "s3", "mlops-work", "runs", "outage", "mlflow-outbox")} --tracking-uri http://127.0.0.1:5000", command);
        Assert.Contains("## MLflow", await File.ReadAllTextAsync(Path.Combine(outage.RunFolder, "report.md")));
        Assert.Contains(MlflowSection.Describe(runs[0], new LocalLayout(Path.Combine(_root, "a"))).Lines, l => l.Contains($"{server.BaseUri}#/experiments/", StringComparison.Ordinal));

        using var client = new MlflowClient(new MlflowClientOptions { BaseUri = server.BaseUri });
        var files = Directory.EnumerateFiles(_root, "*.json", SearchOption.AllDirectories).Where(f => Path.GetFileName(Path.GetDirectoryName(f)) == "mlflow-outbox").ToList();
        var entries = new List<(string, OutboxEntry)>();
        foreach (var f in files) { await using var s = File.OpenRead(f); entries.Add((f, MlflowOutbox.Parse(s, f))); }
        for (var i = 0; i < 2; i++) await MlflowReplay.ReplayAsync(client, (file, entry) => MlflowOutbox.LocalRootOf(file, entry) is { } folder ? new LocalFolderObjectStore(folder) : null, entries);

        // Get-or-create lookups answer 404 before the first create; no write is ever refused.
        string[] lookups = ["experiments/get-by-name", "registered-models/get", "registered-models/alias"];
        var refused = server.Rejected.Where(r => !(r.Status == 404 && lookups.Contains(r.Endpoint))).ToList();
        Assert.True(refused.Count == 0, string.Join("\n", refused));
        var parents = server.Runs.Values.Where(r => r.Tags.GetValueOrDefault("mlops.run_role") == "parent").ToList();
        Assert.Equal(3, parents.Count);
        Assert.Equal(9, server.Runs.Count - parents.Count);
        Assert.All(server.Runs.Values.Where(r => r.Tags.GetValueOrDefault("mlops.run_role") == "child"),
            child => Assert.True(child.Metrics.Count(m => m.Step > 0) > 10, "curves logged"));
        var promotions = runs.Count(r => (string?)r.Execution.Output!["outcome"] == "promoted");
        var model = Assert.Single(server.Models.Values);
        Assert.Equal("retail-weekly-sales-sample", model.Name);
        Assert.Equal(promotions, model.Versions.Count);
        var newest = model.Versions.MaxBy(v => DateTimeOffset.Parse(v.Tags["mlops.promoted_at"], System.Globalization.CultureInfo.InvariantCulture))!;
        Assert.Equal(newest.Number, model.Aliases["champion"]);
        Assert.All(model.Versions, v => Assert.True(server.Artifacts.ContainsKey(v.Source["mlflow-artifacts:/".Length..] + "/MLmodel")));
    }
}
