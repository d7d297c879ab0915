using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Reliability.Tests.Support;
using Xunit.Abstractions;

namespace MlOps.Serverless.Reliability.Tests;

/// <summary>
/// Step Functions refuses any state input or output over 256 KB. A real local run at the seed's largest
/// tuning size (20 jobs, 4 in parallel) measures every state's input and output in the execution history.
/// </summary>
public sealed class PayloadBudgetTests(ITestOutputHelper output) : IDisposable
{
    private const int Limit = 262_144;
    private readonly string _root = LocalRuns.NewRoot("payload");

    public void Dispose() => LocalRuns.DeleteRoot(_root);

    [Fact]
    public async Task No_state_input_or_output_of_a_twenty_job_tuning_run_comes_near_256_KB()
    {
        var overrides = new JsonObject
        {
            ["tuning.maxJobs"] = 20, ["tuning.maxParallelJobs"] = 4, ["gate.maxWmaeRatioToNaive"] = 5,
            ["predictions.updateEndpoint"] = false,
        };
        Recorder? answers = null;
        var result = await LocalRuns.RunAsync(_root, "payload-20-jobs-with-a-long-execution-name-for-the-largest-names", overrides,
            t => answers = new Recorder(t));
        Assert.True(result.Execution.Succeeded, result.Execution.Cause);
        Assert.Equal(20, answers!.Answers["ListTrainingJobs"]!["TrainingJobSummaries"]!.AsArray().Count);

        var sizes = result.Execution.History
            .SelectMany(e => new[] { (e.StateName ?? "(execution)", e.Type, "input", e.Input), (e.StateName ?? "(execution)", e.Type, "output", e.Output) })
            .Where(x => x.Item4 is not null)
            .Select(x => (State: x.Item1, x.Type, Kind: x.Item3, Bytes: Encoding.UTF8.GetByteCount(x.Item4!.ToJsonString())))
            .OrderByDescending(x => x.Bytes)
            .ToList();
        Assert.NotEmpty(sizes);
        foreach (var (state, type, kind, bytes) in sizes.DistinctBy(s => (s.State, s.Kind)).Take(6))
            Report.Print(output, $"payload: {state} {kind} ({type}) {bytes:N0} bytes = {100.0 * bytes / Limit:F1}% of 256 KB");
        var largest = sizes[0];
        // A quarter of the limit leaves room for longer names, reasons and reports than the sample produces.
        Assert.True(largest.Bytes < Limit / 4, $"{largest.State} {largest.Kind} is {largest.Bytes:N0} bytes");
    }
}
