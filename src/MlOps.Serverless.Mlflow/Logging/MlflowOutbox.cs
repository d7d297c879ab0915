using System.Text.Json;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Mlflow.Json;

namespace MlOps.Serverless.Mlflow.Logging;

/// <summary>
/// Where a deferred stage input waits for <c>mlops mlflow replay</c>: <c>{run.output.runUri}mlflow-outbox/{action}.json</c>
/// (S3 in the cloud, the run folder locally). One file per action, overwritten by a retry of the same action,
/// so the outbox holds at most three entries per run; replay order is training, evaluation, promotion.
/// </summary>
public static class MlflowOutbox
{
    public const string Folder = "mlflow-outbox/";
    public const int FormatVersion = 1;

    public static S3Uri Prefix(RunRequest run) => S3Uri.Parse(run.Output.RunUri).Child(Folder);

    public static S3Uri Location(RunRequest run, MlflowLoggerAction action) =>
        Prefix(run).Child(ActionName(action) + ".json");

    public static string ActionName(MlflowLoggerAction action) =>
        JsonSerializer.Serialize(action, MlflowJsonContext.Default.MlflowLoggerAction).Trim('"');

    public static async Task<S3Uri> WriteAsync(IObjectStore store, MlflowLoggerInput input, string reason, DateTimeOffset now, CancellationToken ct = default)
    {
        var location = Location(input.Run, input.Action);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new OutboxEntry(FormatVersion, now, reason, input), MlflowJsonContext.Default.OutboxEntry);
        using var content = new MemoryStream(bytes);
        await store.PutAsync(location, content, "application/json", ct);
        return location;
    }

    public static OutboxEntry Parse(Stream content, string source)
    {
        try
        {
            var entry = JsonSerializer.Deserialize(content, MlflowJsonContext.Default.OutboxEntry)
                ?? throw new InvalidStageInput($"Outbox entry {source} is empty.");
            if (entry.FormatVersion != FormatVersion)
                throw new InvalidStageInput($"Outbox entry {source} has format version {entry.FormatVersion}; this build reads version {FormatVersion}.");
            return entry;
        }
        catch (JsonException e)
        {
            throw new InvalidStageInput($"Outbox entry {source} is not a valid outbox entry: {e.Message}", e);
        }
    }

    /// <summary>
    /// The local folder standing for S3 that holds a local outbox file (so a local replay reads curves and the model
    /// from it): the file is <c>{root}/{bucket}/{key of run.output.runUri}mlflow-outbox/{action}.json</c>. Null when
    /// the file is not laid out so. Local mode's store opens the folder.
    /// </summary>
    public static string? LocalRootOf(string outboxFile, OutboxEntry entry)
    {
        var runUri = S3Uri.Parse(entry.Input.Run.Output.RunUri);
        var suffix = Path.Combine([runUri.Bucket, .. runUri.Key.Split('/', StringSplitOptions.RemoveEmptyEntries), Folder.TrimEnd('/'), Path.GetFileName(outboxFile)]);
        var full = Path.GetFullPath(outboxFile);
        return full.EndsWith(Path.DirectorySeparatorChar + suffix, StringComparison.Ordinal)
            ? full[..^(suffix.Length + 1)]
            : null;
    }

    /// <summary>The entries under an outbox prefix (one run's <c>mlflow-outbox/</c>, or a parent prefix holding many runs), in replay order.</summary>
    public static async Task<IReadOnlyList<(S3Uri Location, OutboxEntry Entry)>> ReadAllAsync(IObjectStore store, S3Uri prefix, CancellationToken ct = default)
    {
        var entries = new List<(S3Uri, OutboxEntry)>();
        foreach (var obj in await store.ListAsync(prefix.Bucket, prefix.Key, ct))
        {
            if (!obj.Key.Contains("/" + Folder, StringComparison.Ordinal) && !obj.Key.StartsWith(Folder, StringComparison.Ordinal)) continue;
            if (!obj.Key.EndsWith(".json", StringComparison.Ordinal)) continue;
            var location = new S3Uri(prefix.Bucket, obj.Key);
            await using var stream = await store.OpenReadAsync(location, ct);
            if (stream is null) continue;
            entries.Add((location, Parse(stream, location.ToString())));
        }
        return Order(entries, e => e.Item2);
    }

    /// <summary>
    /// Replay order: runs in promotion order (a run's promotion time, or when it was requested if it has no
    /// promotion here), then training before evaluation before promotion (the later actions need the parent run).
    /// </summary>
    public static IReadOnlyList<T> Order<T>(IEnumerable<T> items, Func<T, OutboxEntry> entry)
    {
        var list = items.ToList();
        static string Key(RunRequest run) => run.ExecutionArn + "@" + run.RequestedAt.UtcTicks;
        var promotedAt = list.Select(i => entry(i).Input).Where(i => i.Promotion?.PromotedAt is not null)
            .GroupBy(i => Key(i.Run)).ToDictionary(g => g.Key, g => g.Min(i => i.Promotion!.PromotedAt!.Value));
        DateTimeOffset RunTime(MlflowLoggerInput i) => promotedAt.TryGetValue(Key(i.Run), out var at) ? at : i.Run.RequestedAt;
        return list.OrderBy(i => RunTime(entry(i).Input)).ThenBy(i => entry(i).Input.Run.RunId, StringComparer.Ordinal)
            .ThenBy(i => Key(entry(i).Input.Run), StringComparer.Ordinal).ThenBy(i => (int)entry(i).Input.Action).ToList();
    }
}
