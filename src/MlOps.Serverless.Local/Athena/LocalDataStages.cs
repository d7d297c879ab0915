using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Data;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Quality;
using MlOps.Serverless.Local.S3;

namespace MlOps.Serverless.Local.Athena;

/// <summary>How long a stage took (wall clock and process CPU time, which is steadier on a shared machine)
/// and the process's peak working set when it ended.</summary>
public sealed record StageTiming(string Stage, TimeSpan Elapsed, TimeSpan CpuTime, long PeakWorkingSetBytes);

/// <summary>
/// The data stages of one run, on one machine, in the state machine's order and through the same seams: each
/// query is rendered from the run request by <see cref="SqlTemplates"/> and sent to <see cref="LocalAthenaAdapter"/>
/// as a <c>startQueryExecution.sync</c> request; the quality result goes through <c>getQueryResults</c> to
/// <see cref="QualityVerdict"/>. Used by the data benchmark and the tests.
/// </summary>
public sealed class LocalDataStages(string s3Root, string rawBucket = LocalDataStages.DefaultRawBucket, string workBucket = LocalDataStages.DefaultWorkBucket) : IDisposable
{
    public const string DefaultRawBucket = "mlops-raw";
    public const string DefaultWorkBucket = "mlops-work";
    public const string DefaultArtifactBucket = "mlops-artifacts";

    public static IReadOnlyList<SqlQuery> Splits { get; } =
        [SqlQuery.SplitTrain, SqlQuery.SplitValidation, SqlQuery.SplitTestFeatures, SqlQuery.SplitTestLabels, SqlQuery.SplitForecastFeatures];

    public LocalAthenaAdapter Athena { get; } = new(s3Root, rawBucket, workBucket);
    public LocalFolderObjectStore Store { get; } = new(s3Root);

    /// <summary>Copies the three files of <paramref name="dataDirectory"/> (real names) into <c>incoming/{batchId}/</c>.
    /// A missing file is skipped, so the quality stage can report it.</summary>
    public void Upload(string dataDirectory, string batchId) =>
        Run.RawBatch.Upload(Store, rawBucket, dataDirectory, batchId, writeMarker: false);

    /// <summary>A run request for an uploaded batch, built by the prepare-run stage from a manual start
    /// (<c>{"batch": batchId, "overrides": ...}</c>).</summary>
    public Task<RunRequest> RunRequestAsync(string batchId, string runId, JsonObject? overrides = null)
    {
        var request = new JsonObject { ["batch"] = batchId };
        if (overrides is not null) request["overrides"] = overrides.DeepClone();
        var preparation = new RunPreparation(new RunPreparationSettings(rawBucket, "incoming/", "current", workBucket, DefaultArtifactBucket), Store);
        return preparation.PrepareAsync(new PrepareRunInput(JsonDocument.Parse(request.ToJsonString()).RootElement.Clone(), runId,
            $"arn:aws:states:us-east-1:000000000000:execution:retraining:{runId}", DateTimeOffset.UtcNow));
    }

    /// <summary>Runs one query as the state machine's Task state would; returns GetQueryExecution's output.</summary>
    public async Task<JsonNode> QueryAsync(SqlQuery query, RunRequest run, CancellationToken cancellationToken = default)
    {
        var request = new JsonObject
        {
            ["QueryString"] = SqlTemplates.Render(query, SqlTemplates.TokenValues(run)),
            ["WorkGroup"] = "mlops",
            ["QueryExecutionContext"] = new JsonObject { ["Database"] = "mlops" },
            ["ResultConfiguration"] = new JsonObject { ["OutputLocation"] = run.Output.RunUri + "athena-results/" },
        };
        return (await Athena.InvokeAsync(LocalAthenaAdapter.StartQuerySync, request, cancellationToken))!;
    }

    /// <summary>The first page of a query's results, as <c>athena:getQueryResults</c> returns it.</summary>
    public async Task<AthenaResultSet> ResultsAsync(JsonNode execution, CancellationToken cancellationToken = default)
    {
        var id = execution["QueryExecution"]!["QueryExecutionId"]!.GetValue<string>();
        var page = await Athena.InvokeAsync(LocalAthenaAdapter.GetQueryResults, new JsonObject { ["QueryExecutionId"] = id }, cancellationToken);
        return page!["ResultSet"].Deserialize(DataJsonContext.Default.AthenaResultSet)!;
    }

    /// <summary>Quality query → getQueryResults → verdict (throws DataQualityFailed on hard failures).</summary>
    public async Task<QualityVerdictOutput> QualityAsync(RunRequest run, CancellationToken cancellationToken = default)
    {
        var results = await ResultsAsync(await QueryAsync(SqlQuery.Quality, run, cancellationToken), cancellationToken);
        return await new QualityVerdict(Store).EvaluateAsync(new QualityVerdictInput(run, results), cancellationToken);
    }

    /// <summary>The five split queries at once, as the state machine's Parallel state starts them.</summary>
    public Task SplitsAsync(RunRequest run, CancellationToken cancellationToken = default) =>
        Task.WhenAll(Splits.Select(split => Task.Run(() => QueryAsync(split, run, cancellationToken), cancellationToken)));

    /// <summary>All data stages: quality query, verdict, features, splits, with time and peak memory per stage.
    /// The splits run at once as the state machine's Parallel state starts them (one figure), or one after the other
    /// (a figure each) when <paramref name="sequentialSplits"/> is set.</summary>
    public async Task<IReadOnlyList<StageTiming>> RunAllAsync(RunRequest run, bool sequentialSplits = false, CancellationToken cancellationToken = default)
    {
        var timings = new List<StageTiming>();
        async Task Stage(string name, Func<Task> action)
        {
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            await action();
            clock.Stop();
            using var process = Process.GetCurrentProcess();
            timings.Add(new StageTiming(name, clock.Elapsed, process.TotalProcessorTime - cpu, process.PeakWorkingSet64));
        }

        AthenaResultSet? results = null;
        await Stage("quality query", async () => results = await ResultsAsync(await QueryAsync(SqlQuery.Quality, run, cancellationToken), cancellationToken));
        await Stage("quality verdict", () => new QualityVerdict(Store).EvaluateAsync(new QualityVerdictInput(run, results!), cancellationToken));
        await Stage("features", () => QueryAsync(SqlQuery.Features, run, cancellationToken));
        if (!sequentialSplits)
            await Stage($"splits ({Splits.Count} in parallel)", () => SplitsAsync(run, cancellationToken));
        else
            foreach (var split in Splits)
                await Stage(SqlTemplates.FileName(split)[..^4].Replace('_', ' '), () => QueryAsync(split, run, cancellationToken));
        return timings;
    }

    public void Dispose() => Athena.Dispose();
}
