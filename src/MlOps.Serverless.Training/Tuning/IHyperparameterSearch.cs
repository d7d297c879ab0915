namespace MlOps.Serverless.Training.Tuning;

/// <summary>
/// How the local tuner chooses trials: it asks for trial <c>i</c>'s hyperparameters when a lane is free and
/// reports the trial's final objective when it ends. Implementations are called from parallel lanes.
/// </summary>
public interface IHyperparameterSearch
{
    /// <summary>The tuned hyperparameters of trial <paramref name="trial"/> (0-based), rendered as SageMaker sends them.</summary>
    IReadOnlyDictionary<string, string> Propose(int trial);

    /// <summary>Trial <paramref name="trial"/>'s final objective value; null when the trial failed or reported none.</summary>
    void Observe(int trial, double? objective);
}
