using System.Globalization;
using MlOps.Serverless.Training.Tuning;

namespace MlOps.Serverless.Training.Tests.Tuning;

public sealed class TuningSearchTests
{
    private static readonly ParameterRange[] Ranges =
    [
        new("max_depth", IsInteger: true, 5, 15, ScalingType.Auto),
        new("eta", IsInteger: false, 0.01, 0.5, ScalingType.Logarithmic),
        new("subsample", IsInteger: false, 0.5, 0.99, ScalingType.ReverseLogarithmic),
    ];

    private static List<IReadOnlyDictionary<string, string>> First(int count, QuasiRandomSearch search) =>
        [.. Enumerable.Range(0, count).Select(search.Propose)];

    [Fact]
    public void Same_seed_gives_the_same_candidates_and_another_seed_different_ones()
    {
        var a = First(6, new QuasiRandomSearch(Ranges, 42));
        var b = First(6, new QuasiRandomSearch(Ranges, 42));
        var c = First(6, new QuasiRandomSearch(Ranges, 43));
        Assert.Equal(a.Select(x => string.Join(",", x.Values)), b.Select(x => string.Join(",", x.Values)));
        Assert.NotEqual(a.Select(x => string.Join(",", x.Values)), c.Select(x => string.Join(",", x.Values)));
    }

    [Fact]
    public void Candidates_stay_within_their_ranges_and_cover_them()
    {
        var candidates = First(20, new QuasiRandomSearch(Ranges, 7));
        var depths = candidates.Select(x => int.Parse(x["max_depth"], CultureInfo.InvariantCulture)).ToList();
        var etas = candidates.Select(x => double.Parse(x["eta"], CultureInfo.InvariantCulture)).ToList();
        Assert.All(depths, d => Assert.InRange(d, 5, 15));
        Assert.All(etas, e => Assert.InRange(e, 0.01, 0.5));
        Assert.All(candidates, x => Assert.InRange(double.Parse(x["subsample"], CultureInfo.InvariantCulture), 0.5, 0.99));
        // Low discrepancy: 20 points hit at least 9 of the 11 depths and both ends of the log range's decades.
        Assert.True(depths.Distinct().Count() >= 9, string.Join(",", depths));
        Assert.Contains(etas, e => e < 0.05);
        Assert.Contains(etas, e => e > 0.2);
    }

    [Fact]
    public void The_first_trials_do_not_rise_together_in_the_larger_bases()
    {
        // Unscrambled, point i < p is i/p in base p: the 11 and 13 coordinates of trials 1..8 climb step by step
        // (at most one wrap from the shift), so alpha, eta and colsample would all grow from trial to trial.
        ParameterRange[] five = [.. Enumerable.Range(0, 5).Select(d => new ParameterRange($"p{d}", false, 0, 1, ScalingType.Linear))];
        var climbs = Enumerable.Range(1, 10).Select(seed =>
        {
            var search = new QuasiRandomSearch(five, seed);
            var points = Enumerable.Range(0, 8).Select(search.UnitPoint).ToList();
            return Enumerable.Range(1, 7).Count(i => points[i][4] > points[i - 1][4]);
        }).ToList();

        Assert.True(climbs.Average() < 5.5, $"upward steps out of 7 per seed: {string.Join(",", climbs)}");
    }

    [Theory]
    [InlineData(0.0, "1")]
    [InlineData(0.34, "2")]
    [InlineData(0.999, "3")]
    public void Integer_ranges_give_every_value_an_equal_share(double u, string expected) =>
        Assert.Equal(expected, new ParameterRange("n", true, 1, 3, ScalingType.Linear).ValueAt(u));

    [Fact]
    public void Logarithmic_scaling_puts_the_midpoint_at_the_geometric_mean()
    {
        var value = double.Parse(new ParameterRange("eta", false, 0.01, 1, ScalingType.Logarithmic).ValueAt(0.5), CultureInfo.InvariantCulture);
        Assert.Equal(0.1, value, 6);
    }

    [Theory]
    [InlineData(true, 1.5, 3, ScalingType.Linear, "integer bounds")]
    [InlineData(false, 0, 1, ScalingType.Logarithmic, "MinValue > 0")]
    [InlineData(false, 0.5, 1, ScalingType.ReverseLogarithmic, "MaxValue < 1")]
    [InlineData(false, 2, 1, ScalingType.Linear, "greater than MaxValue")]
    public void Invalid_ranges_are_explained(bool isInteger, double min, double max, ScalingType scaling, string message) =>
        Assert.Contains(message, new ParameterRange("p", isInteger, min, max, scaling).Problem(), StringComparison.Ordinal);

    [Theory]
    [InlineData(4, 2, 2, 1)]
    [InlineData(1, 2, 1, 2)]
    [InlineData(2, 8, 2, 4)]
    [InlineData(0, 2, 1, 2)]
    public void Parallel_trials_times_threads_never_exceed_the_cores(int maxParallel, int cores, int parallel, int threads)
    {
        var plan = TrialScheduler.For(maxParallel, cores);
        Assert.Equal(new TrialScheduler.Plan(parallel, threads), plan);
        Assert.True(plan.Parallel * plan.ThreadsPerTrial <= Math.Max(cores, 1));
    }

    [Fact]
    public void Scheduler_runs_every_trial_once_within_the_parallel_bound_and_returns_them_in_order()
    {
        var running = 0;
        var peak = 0;
        var results = TrialScheduler.Run(7, new TrialScheduler.Plan(2, 1), (i, threads) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref peak, now);
            Thread.Sleep(5);
            Interlocked.Decrement(ref running);
            return (i, threads);
        }, cost: i => i);
        Assert.Equal(Enumerable.Range(0, 7), results.Select(r => r.i));
        Assert.All(results, r => Assert.Equal(1, r.threads));
        Assert.InRange(peak, 1, 2);
    }

    [Fact]
    public void Cancelled_scheduler_starts_no_new_trial_and_returns_only_after_the_running_ones_ended()
    {
        using var stop = new CancellationTokenSource();
        var started = 0;
        var running = 0;
        var runningWhenReturned = -1;
        Assert.ThrowsAny<OperationCanceledException>(() =>
        {
            try
            {
                TrialScheduler.Run(20, new TrialScheduler.Plan(2, 1), (i, _) =>
                {
                    Interlocked.Increment(ref started);
                    Interlocked.Increment(ref running);
                    if (i == 0) stop.Cancel();
                    Thread.Sleep(200); // a trial that ignores the token until its next round
                    Interlocked.Decrement(ref running);
                    return i;
                }, cancellationToken: stop.Token);
            }
            finally
            {
                runningWhenReturned = Volatile.Read(ref running);
            }
        });
        Assert.Equal(0, runningWhenReturned);
        Assert.InRange(started, 1, 2);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current) { }
    }
}
