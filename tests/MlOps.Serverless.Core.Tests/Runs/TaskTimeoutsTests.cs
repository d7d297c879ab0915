using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Runs;

namespace MlOps.Serverless.Core.Tests.Runs;

public sealed class TaskTimeoutsTests
{
    private static PipelineConfiguration With(int maxJobs, int maxParallel, int maxRuntime, int maxWait, bool spot) => PipelineConfiguration.Defaults with
    {
        Tuning = new TuningSettings { MaxJobs = maxJobs, GivenMaxParallelJobs = maxParallel },
        Training = new TrainingSettings { MaxRuntimeSeconds = maxRuntime, MaxWaitSeconds = maxWait, UseSpotInstances = spot },
    };

    [Fact]
    public void Defaults_give_five_waves_of_spot_jobs()
    {
        var timeouts = TaskTimeouts.From(PipelineConfiguration.Defaults);

        // 20 jobs, 4 at a time: 5 waves of (7200 s spot wait + 600 s start-up), plus the tuning job's 600 s.
        Assert.Equal(new TaskTimeouts(Tuning: 5 * 7800 + 600, Training: 7800, Transform: 3600 + 600), timeouts);
    }

    [Fact]
    public void On_demand_jobs_are_limited_by_their_runtime_not_the_spot_wait()
    {
        var timeouts = TaskTimeouts.From(With(maxJobs: 8, maxParallel: 2, maxRuntime: 900, maxWait: 7200, spot: false));

        Assert.Equal(new TaskTimeouts(Tuning: 4 * 1500 + 600, Training: 1500, Transform: 1500), timeouts);
    }

    [Theory]
    [InlineData(8, 4, 2)]
    [InlineData(9, 4, 3)]
    [InlineData(3, 10, 1)]
    [InlineData(1, 1, 1)]
    public void Tuning_allows_one_job_time_per_wave_of_parallel_jobs(int maxJobs, int maxParallel, int waves)
    {
        var timeouts = TaskTimeouts.From(With(maxJobs, maxParallel, maxRuntime: 1000, maxWait: 2000, spot: true));

        Assert.Equal(waves * (2000 + TaskTimeouts.SageMakerStartupSeconds) + TaskTimeouts.SageMakerStartupSeconds, timeouts.Tuning);
    }

    [Fact]
    public void Limits_stay_within_step_functions_maximum()
    {
        var timeouts = TaskTimeouts.From(With(maxJobs: 500, maxParallel: 1, maxRuntime: 2_419_200, maxWait: 2_419_200, spot: true));

        Assert.Equal(TaskTimeouts.MaxSeconds, timeouts.Tuning);
    }

    [Fact]
    public void Lambda_states_allow_the_functions_timeout_plus_the_invoke_margin() =>
        Assert.Equal(90, TaskTimeouts.ForLambda(60));
}
