using System.Globalization;
using MlOps.Serverless.Training.Tuning;

namespace MlOps.Serverless.Training.Tests.Tuning;

public sealed class BayesianSearchTests
{
    private static readonly ParameterRange[] Square =
    [
        new("x", IsInteger: false, 0, 1, ScalingType.Linear),
        new("y", IsInteger: false, 0, 1, ScalingType.Linear),
    ];

    // A smooth bowl with its minimum at (0.3, 0.7), like a validation error over two hyperparameters.
    private static double Bowl(IReadOnlyDictionary<string, string> p) =>
        Math.Pow(double.Parse(p["x"], CultureInfo.InvariantCulture) - 0.3, 2) + Math.Pow(double.Parse(p["y"], CultureInfo.InvariantCulture) - 0.7, 2);

    private static double BestAfter(IHyperparameterSearch search, int trials, Func<IReadOnlyDictionary<string, string>, double> objective)
    {
        var best = double.PositiveInfinity;
        for (var i = 0; i < trials; i++)
        {
            var value = objective(search.Propose(i));
            search.Observe(i, value);
            best = Math.Min(best, value);
        }
        return best;
    }

    [Fact]
    public void The_first_trials_are_the_quasi_random_design_of_the_same_seed()
    {
        var bayesian = new BayesianSearch(Square, 11, minimize: true, initialTrials: 3);
        var design = new QuasiRandomSearch(Square, 11);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(design.Propose(i), bayesian.Propose(i));
            bayesian.Observe(i, 1.0 + i);
        }
        Assert.NotEqual(design.Propose(3), bayesian.Propose(3));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void It_finds_a_smooth_minimum_closer_than_the_quasi_random_search_with_the_same_trials(int seed)
    {
        var bayesian = BestAfter(new BayesianSearch(Square, seed, minimize: true, initialTrials: 4), 14, Bowl);
        var quasiRandom = BestAfter(new QuasiRandomSearch(Square, seed), 14, Bowl);

        Assert.True(bayesian < quasiRandom, $"Bayesian {bayesian:0.00000} vs quasi-random {quasiRandom:0.00000}");
        Assert.True(bayesian < 0.003, $"best {bayesian:0.00000}: more than 0.055 from the minimum");
    }

    [Fact]
    public void The_same_seed_and_results_give_the_same_proposals_in_every_process()
    {
        // A literal, not a second search in this process: a per-process random seed would pass that comparison.
        var search = new BayesianSearch(Square, 7, minimize: true, initialTrials: 3);
        for (var i = 0; i < 3; i++) search.Observe(i, Bowl(search.Propose(i)));

        Assert.Equal("x=0.674576 y=0.264596", string.Join(" ", search.Propose(3).Select(p => $"{p.Key}={p.Value}")));
    }

    [Fact]
    public void A_maximised_objective_is_climbed_not_descended()
    {
        var best = double.NegativeInfinity;
        var search = new BayesianSearch(Square, 5, minimize: false, initialTrials: 4);
        for (var i = 0; i < 14; i++)
        {
            var value = 1 - Bowl(search.Propose(i));
            search.Observe(i, value);
            best = Math.Max(best, value);
        }
        Assert.True(best > 0.997, $"best {best:0.00000}");
    }

    [Fact]
    public void Failed_trials_are_left_out_and_the_search_goes_on()
    {
        var search = new BayesianSearch(Square, 3, minimize: true, initialTrials: 2);
        search.Observe(0, Bowl(search.Propose(0)));
        search.Propose(1);
        search.Observe(1, null);
        search.Observe(2, 0.5); // never proposed: ignored
        search.Observe(3, Bowl(search.Propose(3)));
        search.Observe(4, double.NaN);

        var next = search.Propose(5);
        Assert.InRange(double.Parse(next["x"], CultureInfo.InvariantCulture), 0, 1);
    }

    [Fact]
    public void Trials_still_running_are_not_proposed_again()
    {
        var search = new BayesianSearch(Square, 9, minimize: true, initialTrials: 3);
        for (var i = 0; i < 3; i++) search.Observe(i, Bowl(search.Propose(i)));

        var first = search.Propose(3);   // both lanes ask before either trial ends
        var second = search.Propose(4);

        var distance = Math.Sqrt(Square.Sum(r => Math.Pow(double.Parse(first[r.Name], CultureInfo.InvariantCulture) - double.Parse(second[r.Name], CultureInfo.InvariantCulture), 2)));
        Assert.True(distance > 0.01, $"the two pending proposals are {distance:0.0000} apart");
    }

    [Fact]
    public void The_gaussian_process_interpolates_its_points_and_is_unsure_far_from_them()
    {
        double[][] x = [[0.1, 0.1], [0.5, 0.5], [0.9, 0.2]];
        var gp = new GaussianProcess(x, [1.0, -0.5, 0.25], lengthScale: 0.3);

        var (atPoint, sdAtPoint) = gp.Predict([0.5, 0.5]);
        var (_, sdFar) = gp.Predict([0.05, 0.95]);
        Assert.Equal(-0.5, atPoint, 2);
        Assert.True(sdAtPoint < 0.05, $"sd at a data point {sdAtPoint}");
        Assert.True(sdFar > 0.9, $"sd far away {sdFar}");
    }

    [Fact]
    public void The_most_likely_length_scale_is_chosen()
    {
        // Samples of a slowly varying function: a long length scale explains them better than a short one.
        var x = Enumerable.Range(0, 12).Select(i => new[] { i / 11.0 }).ToList();
        var y = x.Select(p => Math.Sin(2 * p[0])).ToList();

        Assert.True(GaussianProcess.FitBest(x, y, [0.05, 1.0]).LengthScale == 1.0);
    }

    [Theory]
    [InlineData(0.0, 0.5)]
    [InlineData(1.0, 0.8413447)]
    [InlineData(-1.96, 0.0249979)]
    [InlineData(3.0, 0.9986501)]
    public void The_normal_cdf_matches_published_values(double z, double expected) =>
        Assert.Equal(expected, BayesianSearch.NormalCdf(z), 6);

    [Fact]
    public void Expected_improvement_is_the_gain_when_certain_and_positive_when_unsure()
    {
        Assert.Equal(0.3, BayesianSearch.ExpectedImprovement(best: 1.0, mu: 0.7, sigma: 0), 9);
        Assert.Equal(0.0, BayesianSearch.ExpectedImprovement(best: 1.0, mu: 1.5, sigma: 0), 9);
        // mu = best: EI = sigma × φ(0) = sigma / sqrt(2π).
        Assert.Equal(0.5 / Math.Sqrt(2 * Math.PI), BayesianSearch.ExpectedImprovement(best: 1.0, mu: 1.0, sigma: 0.5), 9);
    }
}
