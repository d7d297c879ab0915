using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MlOps.Serverless.Mlflow.Json;

namespace MlOps.Serverless.Mlflow.Client;

/// <summary>
/// The tracking server's request limits (MLflow <c>mlflow/utils/validation.py</c>). Tag values default to
/// 5000 characters, the MLflow 2.x limit (3.x allows 8000), so the same payload is valid on both.
/// </summary>
public sealed record MlflowLimits
{
    /// <summary>
    /// 100, not validation.py's 1000: on a duplicate, the SQL store (<c>sqlalchemy_store.py</c> <c>_log_metrics</c>)
    /// re-checks the batch against history in key windows of 100 metrics and fails with a UNIQUE-constraint
    /// error when a window misses keys the batch already logged, so only requests of at most 100 metrics can be
    /// re-sent safely.
    /// </summary>
    public int MaxMetricsPerBatch { get; init; } = 100;
    public int MaxParamsPerBatch { get; init; } = 100;
    public int MaxTagsPerBatch { get; init; } = 100;
    public int MaxEntitiesPerBatch { get; init; } = 1000;
    /// <summary>MLflow rejects log-batch bodies above 1 MB (10^6 bytes); keep a margin for the envelope.</summary>
    public int MaxBatchRequestBytes { get; init; } = 1_000_000;
    public int MaxKeyLength { get; init; } = 250;
    public int MaxParamValueLength { get; init; } = 6000;
    public int MaxTagValueLength { get; init; } = 5000;
    /// <summary>validation.py's MAX_DATASET_DIGEST_SIZE.</summary>
    public int MaxDatasetDigestLength { get; init; } = 36;

    public static MlflowLimits Default { get; } = new();
}

/// <summary>
/// Normalises and splits a log-batch so that no request breaks a server limit. The rule, applied before
/// anything is sent: an empty, too long (&gt; 250) or ill-formed key is rejected
/// (<see cref="MlflowInvalidParameter"/>: truncating a key could merge two entities); a param or tag value over
/// its limit is truncated to the limit (MLflow's own client does the same), which is deterministic, so
/// re-logging sends the same truncated value; a param logged twice in one call with two values is rejected;
/// a tag logged twice keeps its last value.
/// </summary>
public static partial class MlflowBatching
{
    // MLflow's name rule: alphanumerics, underscores, dashes, periods, spaces and slashes.
    [GeneratedRegex(@"^[A-Za-z0-9_\-. /]+$")]
    private static partial Regex ValidKey();

    [GeneratedRegex(@"[^A-Za-z0-9_\-. /]")]
    private static partial Regex InvalidKeyChar();

    /// <summary>Maps any name to one MLflow accepts (e.g. <c>validation:rmse</c> → <c>validation_rmse</c>).</summary>
    public static string SanitizeKey(string name) => InvalidKeyChar().Replace(name, "_");

    public static IReadOnlyList<LogBatchRequest> Split(string runId, IEnumerable<MlflowMetric> metrics, IEnumerable<MlflowParam> parameters,
        IEnumerable<MlflowTag> tags, MlflowLimits limits, string endpoint = "runs/log-batch")
    {
        var paramList = DistinctParams(runId, parameters, limits, endpoint);
        var tagList = LastTagPerKey(tags, limits, endpoint);
        var metricList = new List<MlflowMetric>();
        foreach (var m in metrics)
        {
            CheckKey(m.Key, "metric", limits, endpoint);
            metricList.Add(m);
        }
        return Pack(runId, paramList, tagList, metricList, limits, endpoint);
    }

    /// <summary>Params with truncated values, each key once; a key given twice with different values is refused (params are immutable).</summary>
    private static List<MlflowParam> DistinctParams(string runId, IEnumerable<MlflowParam> parameters, MlflowLimits limits, string endpoint)
    {
        var paramList = new List<MlflowParam>();
        var seenParams = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            CheckKey(p.Key, "param", limits, endpoint);
            var value = Truncate(p.Value, limits.MaxParamValueLength);
            if (seenParams.TryGetValue(p.Key, out var earlier))
            {
                if (earlier != value)
                    throw new MlflowInvalidParameter($"Param '{p.Key}' was given twice with different values ('{earlier}' and '{value}') for run {runId}; MLflow params are immutable.", endpoint, null, "INVALID_PARAMETER_VALUE");
                continue;
            }
            seenParams[p.Key] = value;
            paramList.Add(p with { Value = value });
        }
        return paramList;
    }

    /// <summary>Tags with truncated values; a key given twice keeps its first place and its last value.</summary>
    private static List<MlflowTag> LastTagPerKey(IEnumerable<MlflowTag> tags, MlflowLimits limits, string endpoint)
    {
        var tagIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var tagList = new List<MlflowTag>();
        foreach (var t in tags)
        {
            CheckKey(t.Key, "tag", limits, endpoint);
            var tag = t with { Value = Truncate(t.Value, limits.MaxTagValueLength) };
            if (tagIndex.TryGetValue(t.Key, out var at)) tagList[at] = tag;
            else { tagIndex[t.Key] = tagList.Count; tagList.Add(tag); }
        }
        return tagList;
    }

    /// <summary>Greedy packing in a stable order (params, tags, metrics) so a retry re-sends the same requests.</summary>
    private static List<LogBatchRequest> Pack(string runId, List<MlflowParam> paramList, List<MlflowTag> tagList, List<MlflowMetric> metricList,
        MlflowLimits limits, string endpoint)
    {
        var envelope = Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(new LogBatchRequest(runId, [], [], []), MlflowJsonContext.Default.LogBatchRequest));
        var batches = new List<LogBatchRequest>();
        List<MlflowMetric> bm = []; List<MlflowParam> bp = []; List<MlflowTag> bt = [];
        long bytes = envelope;

        void Flush()
        {
            if (bm.Count + bp.Count + bt.Count == 0) return;
            batches.Add(new LogBatchRequest(runId, bm, bp, bt));
            bm = []; bp = []; bt = []; bytes = envelope;
        }

        void Add(int size, Func<bool> full, Action add)
        {
            if (envelope + size + 1 > limits.MaxBatchRequestBytes)
                throw new MlflowInvalidParameter($"One entity of run {runId} serialises to {size} bytes, more than the {limits.MaxBatchRequestBytes}-byte log-batch limit.", endpoint, null, "INVALID_PARAMETER_VALUE");
            if (full() || bm.Count + bp.Count + bt.Count + 1 > limits.MaxEntitiesPerBatch || bytes + size + 1 > limits.MaxBatchRequestBytes) Flush();
            add();
            bytes += size + 1;
        }

        foreach (var p in paramList)
            Add(SizeOf(p), () => bp.Count + 1 > limits.MaxParamsPerBatch, () => bp.Add(p));
        foreach (var t in tagList)
            Add(SizeOf(t), () => bt.Count + 1 > limits.MaxTagsPerBatch, () => bt.Add(t));
        foreach (var m in metricList)
            Add(SizeOf(m), () => bm.Count + 1 > limits.MaxMetricsPerBatch, () => bm.Add(m));
        Flush();
        return batches;
    }

    private static int SizeOf(MlflowParam p) => Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(p, MlflowJsonContext.Default.MlflowParam));
    private static int SizeOf(MlflowTag t) => Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(t, MlflowJsonContext.Default.MlflowTag));
    private static int SizeOf(MlflowMetric m) => Encoding.UTF8.GetByteCount(JsonSerializer.Serialize(m, MlflowJsonContext.Default.MlflowMetric));

    internal static void CheckKey(string key, string kind, MlflowLimits limits, string endpoint)
    {
        if (string.IsNullOrEmpty(key) || key.Length > limits.MaxKeyLength)
            throw new MlflowInvalidParameter($"The {kind} key '{Shorten(key)}' has {key.Length} characters; MLflow keys need 1-{limits.MaxKeyLength}.", endpoint, null, "INVALID_PARAMETER_VALUE");
        if (!ValidKey().IsMatch(key) || key.StartsWith('/') || key.Split('/').Any(part => part is "." or ".."))
            throw new MlflowInvalidParameter($"The {kind} key '{key}' is not a valid MLflow name: names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ) and slashes (/), and may not be a relative path.", endpoint, null, "INVALID_PARAMETER_VALUE");
    }

    private static string Truncate(string value, int limit) => value.Length <= limit ? value : value[..limit];

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "...";
}
