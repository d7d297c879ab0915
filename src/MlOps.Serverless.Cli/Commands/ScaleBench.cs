using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Run;

namespace MlOps.Serverless.Cli.Commands;

/// <summary>
/// <c>mlops bench --scale 1,4,16</c>: the whole workflow on generated data at multiples of the real data's size
/// (45 × f stores × 77 departments × 143 weeks), one line per factor, then per-stage times and how they grow.
/// </summary>
public static class ScaleBench
{
    private const int StoresPerFactor = 45;
    private const int Departments = 77;

    /// <summary>The states the table shows, in workflow order; the rest are summed as "other".</summary>
    private static readonly string[] Stages =
    [
        "QualityQuery", "BuildFeatures", "SplitData", "TuneHyperparameters", "LogTraining", "PredictTestPeriod", "EvaluationQuery",
        "PredictForecastWeeks",
    ];

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static IReadOnlyList<int> ParseFactors(string text)
    {
        var factors = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(f => int.TryParse(f, NumberStyles.None, Invariant, out var n) && n is >= 1 and <= 64
                ? n
                : throw new ArgumentException($"--scale: '{f}' is not a whole factor from 1 to 64 (e.g. --scale 1,4,16)"))
            .ToList();
        return factors.Count > 0 ? factors : throw new ArgumentException("--scale: give at least one factor, e.g. --scale 1,4,16");
    }

    public static async Task<int> RunAsync(IReadOnlyList<int> factors, int trials, string root, LocalWorkflow workflow, CancellationToken cancellationToken)
    {
        var measured = new List<(int Factor, long Rows, LocalRunResult Result, long PeakBytes)>();
        var overrides = new JsonObject { ["tuning.maxJobs"] = trials, ["tuning.maxParallelJobs"] = Math.Min(4, trials) };
        foreach (var factor in factors)
        {
            var data = EnsureData(factor);
            var rows = SalesRows(data);
            ResetPeak();
            using var self = Process.GetCurrentProcess();
            var cpuBefore = self.TotalProcessorTime;
            // A local account per factor: a champion registered on one size must not judge another's model.
            var result = await workflow.RunAsync(new LocalRunOptions(Path.Combine(root, $"scale-{factor}x"), data, overrides), cancellationToken: cancellationToken);
            self.Refresh();
            var peak = self.PeakWorkingSet64 + (result.Execution.InterpreterPeakBytes ?? 0);
            measured.Add((factor, rows, result, peak));
            Console.WriteLine(string.Create(Invariant,
                $"scale {factor}x: {rows} sales rows, {result.Elapsed.TotalSeconds:0.0} s, peak {peak / 1048576.0:0} MiB"));
            // CPU time does not depend on what else the machine runs; wall time does.
            var cpu = self.TotalProcessorTime - cpuBefore + (result.Execution.InterpreterCpu ?? TimeSpan.Zero);
            Console.WriteLine(string.Create(Invariant, $"   CPU {cpu.TotalSeconds:0.0} s (.NET and node)"));
            if (!result.Execution.Succeeded)
            {
                Console.WriteLine($"   the run failed: {result.Execution.Error}: {result.Execution.Cause}");
                return 1;
            }
        }

        Console.WriteLine();
        var header = string.Concat(measured.Select(m => $"{m.Factor + "x",10}"));
        Console.WriteLine($"{"stage (s)",-22}{header}{"exponent",10}");
        foreach (var stage in Stages.Append("other").Append("total"))
        {
            var times = measured.Select(m => Seconds(m.Result, stage)).ToList();
            Console.WriteLine(string.Create(Invariant, $"{stage,-22}{string.Concat(times.Select(t => $"{t,10:0.0}"))}{Exponent(measured, times),10}"));
        }
        Console.WriteLine();
        Console.WriteLine("exponent: time ~ rows^k between the smallest and the largest factor (1 = linear).");
        if (measured.Count > 1)
        {
            var (first, last) = (measured[0], measured[^1]);
            var ratio = last.Result.Elapsed / first.Result.Elapsed;
            Console.WriteLine(string.Create(Invariant,
                $"{last.Factor}x took {ratio:0.0} times as long as {first.Factor}x for {(double)last.Rows / first.Rows:0.0} times the rows."));
        }
        return 0;
    }

    /// <summary>Generated once per factor and kept (the generator is deterministic): later benchmarks reuse it.</summary>
    private static string EnsureData(int factor)
    {
        var folder = Path.Combine(Path.GetTempPath(), "mlops-bench-data", $"{StoresPerFactor * factor}x{Departments}");
        if (RawDatasets.All.All(d => File.Exists(Path.Combine(folder, d.FileName)))) return folder;
        var clock = Stopwatch.StartNew();
        SampleDataGenerator.Generate(new SampleDataOptions { Stores = StoresPerFactor * factor, Departments = Departments }).WriteTo(folder);
        Console.WriteLine(string.Create(Invariant, $"   (generated {factor}x data in {clock.Elapsed.TotalSeconds:0} s: {folder})"));
        return folder;
    }

    private static long SalesRows(string folder)
    {
        long lines = 0;
        foreach (var _ in File.ReadLines(Path.Combine(folder, RawDatasets.Sales.FileName))) lines++;
        return lines - 1; // header
    }

    /// <summary>Linux: writing 5 to clear_refs resets the peak resident size, so each factor's peak is its own.</summary>
    private static void ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux: the peak is then the process's peak so far (factors run smallest first).
        }
    }

    private static double Seconds(LocalRunResult result, string stage)
    {
        var durations = result.Execution.StateDurations();
        return stage switch
        {
            "total" => result.Elapsed.TotalSeconds,
            "other" => result.Elapsed.TotalSeconds - durations.Where(d => Stages.Contains(d.State)).Sum(d => d.Duration.TotalSeconds),
            _ => durations.Where(d => d.State == stage).Sum(d => d.Duration.TotalSeconds),
        };
    }

    private static string Exponent(List<(int Factor, long Rows, LocalRunResult Result, long PeakBytes)> measured, List<double> times)
    {
        if (measured.Count < 2 || times[0] <= 0.05 || times[^1] <= 0) return "-";
        var k = Math.Log(times[^1] / times[0]) / Math.Log((double)measured[^1].Rows / measured[0].Rows);
        return k.ToString("0.00", Invariant);
    }
}
