namespace MlOps.Serverless.Training.Tuning;

/// <summary>
/// The local tuner's search: a seeded, randomly shifted Halton sequence (quasi-random, low-discrepancy).
/// It is NOT Bayesian optimisation: with the handful of trials a local run affords, evenly covering the
/// space beats fitting a surrogate to a few points. Same seed, same candidates, so runs are reproducible;
/// the Cranley–Patterson shift keeps different tuning jobs from all starting at the same corner.
/// </summary>
public sealed class QuasiRandomSearch(IReadOnlyList<ParameterRange> ranges, int seed)
{
    private static readonly int[] Primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71];

    public const string Name = "QuasiRandom(Halton)";

    /// <summary>The first <paramref name="count"/> candidates, each a full map of tuned hyperparameter values.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Candidates(int count)
    {
        if (ranges.Count > Primes.Length) throw new ArgumentException($"At most {Primes.Length} tuned hyperparameters are supported, got {ranges.Count}.");
        var random = new Random(seed);
        var shift = ranges.Select(_ => random.NextDouble()).ToArray();
        var result = new List<IReadOnlyDictionary<string, string>>(count);
        for (var i = 0; i < count; i++)
        {
            var candidate = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var d = 0; d < ranges.Count; d++)
            {
                var u = (Halton(i + 1, Primes[d]) + shift[d]) % 1.0;
                candidate[ranges[d].Name] = ranges[d].ValueAt(u);
            }
            result.Add(candidate);
        }
        return result;
    }

    /// <summary>The radical inverse of <paramref name="index"/> in <paramref name="radix"/>: the Halton coordinate.</summary>
    public static double Halton(int index, int radix)
    {
        double result = 0, fraction = 1.0 / radix;
        for (var i = index; i > 0; i /= radix)
        {
            result += fraction * (i % radix);
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
