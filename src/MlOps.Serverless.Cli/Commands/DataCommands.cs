using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Athena;

namespace MlOps.Serverless.Cli.Commands;

/// <summary>The data commands: <c>generate-data</c> (sample files) and <c>bench-data</c> (data stages on DuckDB).</summary>
public static class DataCommands
{
    public static Command GenerateData()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "Folder to write the three CSV files into", Required = true };
        var stores = new Option<int>("--stores") { Description = "Number of stores", DefaultValueFactory = _ => new SampleDataOptions().Stores };
        var departments = new Option<int>("--departments") { Description = "Departments per store", DefaultValueFactory = _ => new SampleDataOptions().Departments };
        var weeks = new Option<int>("--weeks") { Description = "Sales weeks from 2010-02-05", DefaultValueFactory = _ => new SampleDataOptions().SalesWeeks };
        var seed = new Option<int>("--seed") { Description = "Random seed (same seed, same files)", DefaultValueFactory = _ => new SampleDataOptions().Seed };
        var command = new Command("generate-data", "Write a deterministic sample of the retail data set (real file names, format and quirks)")
        {
            output, stores, departments, weeks, seed,
        };
        command.SetAction(parse =>
        {
            var options = new SampleDataOptions
            {
                Stores = parse.GetValue(stores), Departments = parse.GetValue(departments),
                SalesWeeks = parse.GetValue(weeks), Seed = parse.GetValue(seed),
            };
            var folder = parse.GetValue(output)!.FullName;
            SampleDataGenerator.Generate(options).WriteTo(folder);
            Console.WriteLine($"Wrote {options.Stores} stores x {options.Departments} departments x {options.SalesWeeks} weeks (seed {options.Seed}) to {folder}");
            return 0;
        });
        return command;
    }

    public static Command BenchData()
    {
        var data = new Option<DirectoryInfo>("--data") { Description = "Folder with the three CSV files (real names)", Required = true };
        var work = new Option<DirectoryInfo?>("--work") { Description = "Local S3 folder to use (default: a temporary folder, deleted afterwards)" };
        var sequential = new Option<bool>("--sequential-splits") { Description = "Run the five split queries one after the other (a figure each) instead of at once as the state machine's Parallel state does" };
        var command = new Command("bench-data", "Run raw files -> quality -> verdict -> features -> splits on DuckDB and print time and peak memory per stage")
        {
            data, work, sequential,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var dataDir = parse.GetValue(data)!.FullName;
            var root = parse.GetValue(work)?.FullName ?? Path.Combine(Path.GetTempPath(), "mlops-bench-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                var total = Stopwatch.StartNew();
                IReadOnlyList<StageTiming> timings;
                using (var stages = new LocalDataStages(root))
                {
                    var setup = Stopwatch.StartNew();
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    var batch = "bench-" + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
                    stages.Upload(dataDir, batch);
                    var run = await stages.RunRequestAsync(batch, batch);
                    timings = [new StageTiming("upload + run request", setup.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu,
                                   Process.GetCurrentProcess().PeakWorkingSet64),
                               .. await stages.RunAllAsync(run, sequentialSplits: parse.GetValue(sequential), cancellationToken: cancellationToken)];
                }
                total.Stop();
                static string Line(string stage, TimeSpan wall, TimeSpan cpu, long peak) => string.Create(CultureInfo.InvariantCulture,
                    $"{stage,-24} {wall.TotalMilliseconds,10:0} {cpu.TotalMilliseconds,10:0} {peak / 1048576.0,12:0}");
                Console.WriteLine($"{"stage",-24} {"wall (ms)",10} {"cpu (ms)",10} {"peak (MiB)",12}");
                foreach (var t in timings) Console.WriteLine(Line(t.Stage, t.Elapsed, t.CpuTime, t.PeakWorkingSetBytes));
                var data = timings.Skip(1).ToList();
                Console.WriteLine(Line("data stages total", data.Aggregate(TimeSpan.Zero, (sum, t) => sum + t.Elapsed),
                    data.Aggregate(TimeSpan.Zero, (sum, t) => sum + t.CpuTime), timings[^1].PeakWorkingSetBytes));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"wall clock incl. setup",-24} {total.Elapsed.TotalMilliseconds,10:0}"));
                var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
                Console.WriteLine($"peak = the process's peak working set so far (DuckDB runs in-process); load average {load} at the end");
                return 0;
            }
            finally
            {
                if (parse.GetValue(work) is null && Directory.Exists(root)) Directory.Delete(root, recursive: true);
            }
        });
        return command;
    }
}
