using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.StateMachines.Tests;

/// <summary>Every Task state's limit: literal where the work does not depend on the run, from <c>$.run.timeouts</c> where it does.</summary>
public sealed class TaskTimeoutTests
{
    private static IEnumerable<(string Name, JsonObject State)> TaskStates(JsonObject states)
    {
        foreach (var (name, node) in states)
        {
            var state = node!.AsObject();
            if ((string?)state["Type"] == "Task") yield return (name, state);
            if ((string?)state["Type"] == "Parallel")
                foreach (var branch in state["Branches"]!.AsArray())
                    foreach (var inner in TaskStates(branch!["States"]!.AsObject()))
                        yield return inner;
        }
    }

    private static List<(string Name, JsonObject State)> All() =>
        TaskStates(JsonNode.Parse(DefinitionFile.LoadTemplate())!["States"]!.AsObject()).ToList();

    [Fact]
    public void Every_task_state_sets_its_limit_so_none_falls_back_to_a_default()
    {
        var missing = All().Where(t => t.State["TimeoutSeconds"] is null && t.State["TimeoutSecondsPath"] is null).Select(t => t.Name).ToList();
        Assert.Empty(missing);
    }

    [Theory]
    [InlineData("createHyperParameterTuningJob.sync", "$.run.timeouts.tuning")]
    [InlineData("createTrainingJob.sync", "$.run.timeouts.training")]
    [InlineData("createTransformJob.sync", "$.run.timeouts.transform")]
    public void SageMaker_jobs_read_their_limit_from_the_run(string action, string path)
    {
        var states = All().Where(t => ((string)t.State["Resource"]!).EndsWith(":sagemaker:" + action, StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(states);
        Assert.All(states, t => Assert.Equal(path, (string?)t.State["TimeoutSecondsPath"]));
    }

    [Fact]
    public void Lambda_states_allow_their_functions_timeout_plus_the_invoke_margin()
    {
        var lambdas = All().Where(t => (string?)t.State["Resource"] == "arn:aws:states:::lambda:invoke").ToList();
        Assert.NotEmpty(lambdas);
        foreach (var (name, state) in lambdas)
        {
            var placeholder = ((string)state["Parameters"]!["FunctionName"]!)[2..^1];
            var stage = StageSpec.All.Single(s => s.Placeholder == placeholder);
            Assert.True(TaskTimeouts.ForLambda(stage.TimeoutSeconds) == (int?)state["TimeoutSeconds"], $"{name}: {state["TimeoutSeconds"]}");
        }
    }

    [Fact]
    public void Athena_queries_allow_athenas_query_timeout_and_single_calls_a_minute()
    {
        foreach (var (name, state) in All())
        {
            var resource = (string)state["Resource"]!;
            if (resource == "arn:aws:states:::lambda:invoke" || resource.EndsWith("Job.sync", StringComparison.Ordinal)) continue;
            var expected = resource == "arn:aws:states:::athena:startQueryExecution.sync" ? TaskTimeouts.AthenaQuerySeconds : TaskTimeouts.ApiCallSeconds;
            Assert.True(expected == (int?)state["TimeoutSeconds"], $"{name} ({resource}): {state["TimeoutSeconds"]}, expected {expected}");
        }
    }

    [Fact]
    public async Task The_run_request_carries_the_limits_the_definition_reads()
    {
        var run = await TestRuns.RunRequestAsync(overrides: new JsonObject { ["tuning.maxJobs"] = 8, ["tuning.maxParallelJobs"] = 2 });
        var timeouts = run["timeouts"]!.AsObject();

        // 4 waves of 2 jobs, each the spot wait (7200 s) plus start-up, plus the tuning job's own start-up.
        Assert.Equal(4 * (7200 + 600) + 600, (int)timeouts["tuning"]!);
        Assert.Equal(7200 + 600, (int)timeouts["training"]!);
        Assert.Equal(3600 + 600, (int)timeouts["transform"]!);
    }
}
