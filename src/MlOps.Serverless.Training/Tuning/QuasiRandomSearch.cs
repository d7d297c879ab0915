namespace MlOps.Serverless.Training.Tuning;

/// <summary>
/// A seeded, scrambled and shifted Halton sequence (quasi-random, low-discrepancy): the local tuner's search for
/// the Random and Hyperband strategies, and the initial design of <see cref="BayesianSearch"/>. Same seed, same
/// candidates. Plain Halton points i &lt; p are i/p in every base p, so the first trials of a 5-range search
/// rise together in the larger bases (alpha, eta and colsample all grew from trial to trial); a random
/// permutation of each base's non-zero digits removes that, and a Cranley–Patterson shift moves the whole set.
/// </summary>
public sealed class QuasiRandomSearch(IReadOnlyList<ParameterRange> ranges, int seed) : IHyperparameterSearch
{
    private static readonly int[] Primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71];

    private readonly double[] _shift = Shift(ranges, seed);
    private readonly int[][] _digits = DigitPermutations(ranges.Count, seed);

    public IReadOnlyDictionary<string, string> Propose(int trial) => Values(ranges, UnitPoint(trial));

    /// <summary>A quasi-random search learns nothing from results.</summary>
    public void Observe(int trial, double? objective)
    {
    }

    /// <summary>Point <paramref name="index"/> of the shifted sequence in the unit cube, one coordinate per range.</summary>
    public double[] UnitPoint(int index) =>
        Enumerable.Range(0, ranges.Count).Select(d => (Halton(index + 1, Primes[d], _digits[d]) + _shift[d]) % 1.0).ToArray();

    /// <summary>Maps a point of the unit cube to the ranges' values.</summary>
    public static IReadOnlyDictionary<string, string> Values(IReadOnlyList<ParameterRange> ranges, IReadOnlyList<double> unit)
    {
        var candidate = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var d = 0; d < ranges.Count; d++) candidate[ranges[d].Name] = ranges[d].ValueAt(unit[d]);
        return candidate;
    }

    private static double[] Shift(IReadOnlyList<ParameterRange> ranges, int seed)
    {
        if (ranges.Count > Primes.Length) throw new ArgumentException($"At most {Primes.Length} tuned hyperparameters are supported, got {ranges.Count}.");
        var random = new Random(seed);
        return ranges.Select(_ => random.NextDouble()).ToArray();
    }

    /// <summary>Per range, a seeded permutation of the digits 1..p-1 of its base (0 stays 0, so trailing zeros add nothing).</summary>
    private static int[][] DigitPermutations(int dimensions, int seed)
    {
        var random = new Random(unchecked(seed * 31 + 7));
        return Enumerable.Range(0, Math.Min(dimensions, Primes.Length)).Select(d =>
        {
            var permutation = Enumerable.Range(0, Primes[d]).ToArray();
            random.Shuffle(permutation.AsSpan(1));
            return permutation;
        }).ToArray();
    }

    /// <summary>The radical inverse of <paramref name="index"/> in <paramref name="radix"/>: the Halton coordinate,
    /// with each digit mapped through <paramref name="digits"/> when given.</summary>
    public static double Halton(int index, int radix, IReadOnlyList<int>? digits = null)
    {
        double result = 0, fraction = 1.0 / radix;
        for (var i = index; i > 0; i /= radix)
        {
            result += fraction * (digits?[i % radix] ?? i % radix);
            fraction /= radix;
        }
        return result;
    }

    /// <summary>A stable seed from a tuning job name (string.GetHashCode is randomised per process).</summary>
    public static int SeedFrom(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return (int)(hash & 0x7fffffff);
    }
}
