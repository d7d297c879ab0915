using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Mlflow.Client;

namespace MlOps.Serverless.Mlflow.Logging;

/// <summary>An outbox entry that could not be replayed; the message names the file first.</summary>
public sealed class MlflowReplayFailed(string source, WorkflowError inner)
    : WorkflowError($"Replaying {source} failed: {inner.GetType().Name}: {inner.Message}", inner)
{
    public string OutboxFile { get; } = source;
}

/// <summary>
/// Pushes deferred inputs to a tracking server, in promotion order. Unlike the stage, replay does not defer
/// again: an error stops it and names the outbox file, and since logging is idempotent the same outbox can be
/// replayed again later. <paramref name="storeFor"/> gives the object store an entry's curves and model are read from.
/// </summary>
public static class MlflowReplay
{
    public sealed record Result(string Source, OutboxEntry Entry, MlflowLoggerOutput Output);

    public static async Task<IReadOnlyList<Result>> ReplayAsync(MlflowClient client, Func<string, OutboxEntry, IObjectStore?> storeFor,
        IEnumerable<(string Source, OutboxEntry Entry)> entries, CancellationToken ct = default)
    {
        var results = new List<Result>();
        foreach (var (source, entry) in MlflowOutbox.Order(entries, e => e.Entry))
        {
            MlflowLoggerOutput output;
            try { output = await new MlflowRunWriter(client, storeFor(source, entry)).LogAsync(entry.Input, ct); }
            catch (WorkflowError e) { throw new MlflowReplayFailed(source, e); }
            if (output.ExperimentId is { } experiment && output.ParentRunId is { } parent)
                output = output with { RunUrl = MlflowLogger.RunUrl(client.Options.BaseUri, experiment, parent) };
            results.Add(new Result(source, entry, output));
        }
        return results;
    }
}
