using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.MlFlow.Client;

namespace MlOps.Serverless.MlFlow.Logging;

/// <summary>
/// Pushes deferred inputs to a tracking server. Unlike the stage, replay does not defer again: an error
/// stops it and is reported, and since logging is idempotent the same outbox can be replayed again later.
/// </summary>
public static class MlflowReplay
{
    public sealed record Result(string Source, OutboxEntry Entry, MlflowLoggingOutput Output);

    public static async Task<IReadOnlyList<Result>> ReplayAsync(MlflowClient client, IObjectStore? curves,
        IEnumerable<(string Source, OutboxEntry Entry)> entries, CancellationToken ct = default)
    {
        var logger = new TrainingRunLogger(client, curves);
        var results = new List<Result>();
        foreach (var (source, entry) in MlflowOutbox.Order(entries, e => e.Entry))
            results.Add(new Result(source, entry, await logger.LogAsync(entry.Input, ct)));
        return results;
    }
}
