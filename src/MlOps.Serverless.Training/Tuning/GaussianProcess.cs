namespace MlOps.Serverless.Training.Tuning;

/// <summary>
/// A Gaussian-process regression on the unit cube: Matérn 5/2 kernel with one length scale, unit signal
/// variance (the targets are standardised by the caller) and a small noise term. Small and exact: tuning has at
/// most a few hundred points, so an n×n Cholesky factor is cheap.
/// </summary>
public sealed class GaussianProcess
{
    private readonly double[][] _x;
    private readonly double[,] _cholesky;
    private readonly double[] _alpha;

    public GaussianProcess(IReadOnlyList<double[]> x, IReadOnlyList<double> y, double lengthScale, double noise = 1e-4)
    {
        if (x.Count == 0 || x.Count != y.Count) throw new ArgumentException("A Gaussian process needs as many targets as points, and at least one.");
        LengthScale = lengthScale;
        _x = [.. x];
        var n = x.Count;
        var k = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j <= i; j++)
                k[i, j] = k[j, i] = Kernel(x[i], x[j]) + (i == j ? noise : 0);
        _cholesky = Cholesky(k);
        _alpha = SolveUpper(_cholesky, SolveLower(_cholesky, [.. y]));
        var logDeterminant = 0.0;
        for (var i = 0; i < n; i++) logDeterminant += Math.Log(_cholesky[i, i]);
        LogMarginalLikelihood = -0.5 * y.Select((v, i) => v * _alpha[i]).Sum() - logDeterminant - 0.5 * n * Math.Log(2 * Math.PI);
    }

    public double LengthScale { get; }

    /// <summary>log p(y | x, length scale): how well this length scale explains the data (used to choose it).</summary>
    public double LogMarginalLikelihood { get; }

    /// <summary>Posterior mean and standard deviation at <paramref name="point"/>.</summary>
    public (double Mean, double StdDev) Predict(IReadOnlyList<double> point)
    {
        var k = _x.Select(p => Kernel(p, point)).ToArray();
        var mean = k.Select((v, i) => v * _alpha[i]).Sum();
        var v2 = SolveLower(_cholesky, k);
        var variance = Math.Max(1.0 - v2.Sum(v => v * v), 1e-12);
        return (mean, Math.Sqrt(variance));
    }

    /// <summary>Fits one process per candidate length scale and keeps the most likely.</summary>
    public static GaussianProcess FitBest(IReadOnlyList<double[]> x, IReadOnlyList<double> y, IEnumerable<double> lengthScales) =>
        lengthScales.Select(l => new GaussianProcess(x, y, l)).MaxBy(gp => gp.LogMarginalLikelihood)!;

    private double Kernel(double[] a, IReadOnlyList<double> b)
    {
        var squared = 0.0;
        for (var d = 0; d < a.Length; d++) squared += (a[d] - b[d]) * (a[d] - b[d]);
        var r = Math.Sqrt(5 * squared) / LengthScale;
        return (1 + r + r * r / 3) * Math.Exp(-r);
    }

    private static double[,] Cholesky(double[,] a)
    {
        var n = a.GetLength(0);
        var l = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j <= i; j++)
            {
                var sum = a[i, j];
                for (var k = 0; k < j; k++) sum -= l[i, k] * l[j, k];
                // Nearly identical points make K almost singular; a floor keeps the factor usable.
                l[i, j] = i == j ? Math.Sqrt(Math.Max(sum, 1e-10)) : sum / l[j, j];
            }
        return l;
    }

    private static double[] SolveLower(double[,] l, double[] b)
    {
        var x = new double[b.Length];
        for (var i = 0; i < b.Length; i++)
        {
            var sum = b[i];
            for (var k = 0; k < i; k++) sum -= l[i, k] * x[k];
            x[i] = sum / l[i, i];
        }
        return x;
    }

    private static double[] SolveUpper(double[,] l, double[] b)
    {
        var x = new double[b.Length];
        for (var i = b.Length - 1; i >= 0; i--)
        {
            var sum = b[i];
            for (var k = i + 1; k < b.Length; k++) sum -= l[k, i] * x[k];
            x[i] = sum / l[i, i];
        }
        return x;
    }
}
