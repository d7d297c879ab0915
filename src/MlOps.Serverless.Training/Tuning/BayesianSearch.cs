namespace MlOps.Serverless.Training.Tuning;

/// <summary>
/// The local tuner's Bayesian strategy, like SageMaker's: the first trials come from the quasi-random design
/// (<see cref="QuasiRandomSearch"/>, same seed), every later trial maximises expected improvement under a
/// Gaussian process fitted to the finished trials' objectives on the unit cube of the ranges (so Logarithmic
/// ranges are searched in log space). Trials still running count as observed at the process's mean ("kriging
/// believer"), so parallel lanes do not propose the same point. Which trials have finished when a lane asks
/// depends on timing, so with parallel lanes two runs of the same job can differ, as SageMaker's do.
/// </summary>
public sealed class BayesianSearch(IReadOnlyList<ParameterRange> ranges, int seed, bool minimize, int initialTrials) : IHyperparameterSearch
{
    private static readonly double[] LengthScales = [0.1, 0.2, 0.35, 0.6, 1.0, 1.6];
    private const int RandomCandidates = 2000;
    private const int LocalCandidates = 150;

    private readonly QuasiRandomSearch _design = new(ranges, seed);
    private readonly Dictionary<int, double[]> _points = [];
    private readonly Dictionary<int, double> _objectives = [];
    private readonly Lock _gate = new();

    /// <summary>The design's size: about half the trials, 2 to 5 (SageMaker also starts Bayesian jobs with random points).</summary>
    public static int InitialTrials(int maxTrials) => Math.Clamp(maxTrials / 2, 2, 5);

    public IReadOnlyDictionary<string, string> Propose(int trial)
    {
        lock (_gate)
        {
            var point = _objectives.Count < Math.Max(initialTrials, 2) ? _design.UnitPoint(trial) : Suggest(trial);
            _points[trial] = point;
            return QuasiRandomSearch.Values(ranges, point);
        }
    }

    public void Observe(int trial, double? objective)
    {
        lock (_gate)
        {
            // A failed trial tells nothing about its point; SageMaker's tuner also leaves it out.
            if (objective is { } value && double.IsFinite(value) && _points.ContainsKey(trial))
                _objectives[trial] = minimize ? value : -value;
        }
    }

    private double[] Suggest(int trial)
    {
        var done = _objectives.Keys.Order().ToList();
        var x = done.Select(i => _points[i]).ToList();
        var raw = done.Select(i => _objectives[i]).ToList();
        var mean = raw.Average();
        var spread = Math.Sqrt(raw.Sum(v => (v - mean) * (v - mean)) / raw.Count);
        if (spread < 1e-12) spread = 1;
        var y = raw.Select(v => (v - mean) / spread).ToList();

        var gp = GaussianProcess.FitBest(x, y, LengthScales);
        var pending = _points.Keys.Where(i => !_objectives.ContainsKey(i)).Order().ToList();
        if (pending.Count > 0)
        {
            foreach (var i in pending)
            {
                x.Add(_points[i]);
                y.Add(gp.Predict(_points[i]).Mean);
            }
            gp = new GaussianProcess(x, y, gp.LengthScale);
        }

        var best = y.Take(done.Count).Min();
        // Not HashCode.Combine: it is seeded per process, so the same job would search other candidates in each run.
        var random = new Random(unchecked(seed * 1_000_003 + trial));
        var incumbents = done.OrderBy(i => _objectives[i]).Take(3).Select(i => _points[i]).ToList();
        double[]? chosen = null;
        var chosenImprovement = double.NegativeInfinity;
        foreach (var candidate in Candidates(random, incumbents, ranges.Count))
        {
            var (mu, sigma) = gp.Predict(candidate);
            var improvement = ExpectedImprovement(best, mu, sigma);
            if (improvement > chosenImprovement)
            {
                chosenImprovement = improvement;
                chosen = candidate;
            }
        }
        return chosen!;
    }

    /// <summary>Uniform points over the cube, plus small steps around the best points found so far.</summary>
    private static IEnumerable<double[]> Candidates(Random random, IReadOnlyList<double[]> incumbents, int dimensions)
    {
        for (var i = 0; i < RandomCandidates; i++)
            yield return Enumerable.Range(0, dimensions).Select(_ => random.NextDouble()).ToArray();
        foreach (var incumbent in incumbents)
            for (var i = 0; i < LocalCandidates; i++)
                yield return incumbent.Select(u => Math.Clamp(u + 0.05 * Gaussian(random), 0, 1 - 1e-9)).ToArray();
    }

    /// <summary>E[max(best − f, 0)] for f ~ N(mu, sigma²): the expected gain of a point over the best so far (minimising).</summary>
    public static double ExpectedImprovement(double best, double mu, double sigma)
    {
        if (sigma <= 0) return Math.Max(best - mu, 0);
        var z = (best - mu) / sigma;
        return (best - mu) * NormalCdf(z) + sigma * Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI);
    }

    /// <summary>Φ(z) through the complementary error function (Chebyshev fit, relative error below 1.2e-7).</summary>
    public static double NormalCdf(double z)
    {
        var x = -z / Math.Sqrt(2);
        var a = Math.Abs(x);
        var t = 1 / (1 + 0.5 * a);
        var erfc = t * Math.Exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return 0.5 * (x >= 0 ? erfc : 2 - erfc);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
