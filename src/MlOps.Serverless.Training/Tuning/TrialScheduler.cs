namespace MlOps.Serverless.Training.Tuning;

/// <summary>
/// Runs tuning trials with parallelism bounded by the machine: at most
/// min(MaxParallelTrainingJobs, cores) at once, and XGBoost threads per trial = cores / parallel,
/// so trials × threads never exceeds the cores. Parallel single-threaded trials are preferred by the
/// tuner's defaults: they need no OpenMP barriers, which stall badly when other processes share the cores.
/// </summary>
public static class TrialScheduler
{
    public sealed record Plan(int Parallel, int ThreadsPerTrial);

    public static Plan For(int maxParallelTrainingJobs, int cores)
    {
        var parallel = Math.Max(1, Math.Min(maxParallelTrainingJobs, cores));
        return new Plan(parallel, Math.Max(1, cores / parallel));
    }

    /// <summary>
    /// Runs <paramref name="trial"/>(index, threads) for 0..count-1 on <see cref="Plan.Parallel"/> lanes pulling
    /// from one queue, most expensive first (by <paramref name="cost"/>), so no lane idles at the end.
    /// Results come back in trial order. Once <paramref name="cancellationToken"/> is cancelled no trial starts; the
    /// call returns only after the running ones have ended (they share data the caller frees), then throws.
    /// </summary>
    public static IReadOnlyList<T> Run<T>(int count, Plan plan, Func<int, int, T> trial, Func<int, double>? cost = null, CancellationToken cancellationToken = default)
    {
        var results = new T[count];
        var order = Enumerable.Range(0, count).OrderByDescending(i => cost?.Invoke(i) ?? 0).ThenBy(i => i);
        var queue = new System.Collections.Concurrent.ConcurrentQueue<int>(order);
        var lanes = Enumerable.Range(0, Math.Min(plan.Parallel, count)).Select(_ => Task.Factory.StartNew(() =>
        {
            while (!cancellationToken.IsCancellationRequested && queue.TryDequeue(out var i))
                results[i] = trial(i, plan.ThreadsPerTrial);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        try
        {
            // Every lane stops at its next trial once cancelled: wait for all of them, so none outlives the call.
            Task.WaitAll(lanes, CancellationToken.None);
        }
        catch (AggregateException e) when (cancellationToken.IsCancellationRequested && e.InnerExceptions.All(x => x is OperationCanceledException))
        {
        }
        cancellationToken.ThrowIfCancellationRequested();
        return results;
    }

    /// <summary>A rough relative cost of an XGBoost trial: rounds × tree size (depth beyond ~12 rarely fills).</summary>
    public static double XgboostCost(IReadOnlyDictionary<string, string> hyperParameters)
    {
        static double Get(IReadOnlyDictionary<string, string> h, string key, double fallback) =>
            h.TryGetValue(key, out var text) && double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : fallback;
        return Get(hyperParameters, "num_round", 100) * Math.Min(Get(hyperParameters, "max_depth", 6), 12);
    }
}
