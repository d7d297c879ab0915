using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Reporting;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Cli.Commands;

/// <summary>
/// <c>mlops bench</c>: times whole local runs (the default sample, and optionally a data folder with a given
/// number of tuning trials) and prints wall time, the slowest states and peak memory of both processes.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var data = new Option<DirectoryInfo?>("--data") { Description = "Also run on this folder (the three real-named CSVs), e.g. ../shared/datasets/retail-data-analytics" };
        var trials = new Option<int>("--trials") { Description = "Tuning jobs for the --data run", DefaultValueFactory = _ => 8 };
        var output = new Option<DirectoryInfo>("--out")
        {
            Description = $"Scratch local account folder, deleted before the bench: it must be new, empty or made by an earlier bench (it holds {BenchFolder.MarkerFile})",
            DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(Path.GetTempPath(), "mlops-bench")),
        };
        var scale = new Option<string?>("--scale")
        {
            Description = "Instead: generate data at these multiples of the real data's size (45 stores x 77 departments each), e.g. 1,4,16, " +
                          "and run the whole workflow on each with --trials tuning jobs; prints time, peak memory, per-stage times and growth",
        };
        var command = new Command("bench", "Benchmark whole local runs: wall time per run and per state, peak memory") { data, trials, output, scale };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = parse.GetValue(output)!.FullName;
            try
            {
                BenchFolder.Reset(root);
            }
            catch (BenchFolderInUse e)
            {
                Console.Error.WriteLine($"{nameof(BenchFolderInUse)}: {e.Message}");
                return 2;
            }
            var workflow = new LocalWorkflow(new StateMachineRunner(NodeEnvironment.Discover()));
            if (parse.GetValue(scale) is { } text)
            {
                IReadOnlyList<int> factors;
                try
                {
                    factors = ScaleBench.ParseFactors(text);
                }
                catch (ArgumentException e)
                {
                    Console.Error.WriteLine(e.Message);
                    return 2;
                }
                return await ScaleBench.RunAsync(factors, parse.GetValue(trials), root, workflow, cancellationToken);
            }
            // Separate local accounts: a champion registered on the sample must not judge the real data's model.
            var ok = await MeasureAsync("default sample", workflow, new LocalRunOptions(Path.Combine(root, "sample")), cancellationToken);
            if (parse.GetValue(data) is { } folder)
                ok &= await MeasureAsync($"{folder.Name}, {parse.GetValue(trials)} tuning jobs", workflow,
                    new LocalRunOptions(Path.Combine(root, "data"), folder.FullName, new JsonObject { ["tuning.maxJobs"] = parse.GetValue(trials), ["tuning.maxParallelJobs"] = Math.Min(4, parse.GetValue(trials)) }),
                    cancellationToken);
            return ok ? 0 : 1;
        });
        return command;
    }

    private static async Task<bool> MeasureAsync(string label, LocalWorkflow workflow, LocalRunOptions options, CancellationToken cancellationToken)
    {
        using var self = Process.GetCurrentProcess();
        var result = await workflow.RunAsync(options, cancellationToken: cancellationToken);
        self.Refresh();
        var summary = RunSummary.Read(result.RunFolder);
        Console.WriteLine($"== {label}: {result.Execution.Status} ({summary.Outcome}) in {result.Elapsed.TotalSeconds:0.00} s");
        if (summary.Gate is { } gate)
        {
            var challenger = gate.Challenger.Wmae;
            var naive = gate.Baseline.Wmae;
            Console.WriteLine($"   WMAE {challenger:0.0}, naive WMAE {naive:0.0}, ratio {challenger / naive:0.000}");
        }
        Console.WriteLine($"   peak memory: .NET {self.PeakWorkingSet64 / 1048576.0:0} MiB, node {result.Execution.InterpreterPeakBytes / 1048576.0:0} MiB");
        foreach (var (state, _, duration, _) in result.Execution.StateDurations().OrderByDescending(d => d.Duration).Take(6))
            Console.WriteLine($"   {state,-26} {duration.TotalSeconds,6:0.00} s");
        return result.Execution.Succeeded;
    }
}
