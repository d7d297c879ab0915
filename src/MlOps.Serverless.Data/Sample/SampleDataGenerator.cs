using System.Globalization;
using System.Text;
using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Data.Sample;

/// <summary>Size and seed of a generated sample. The default (10 stores × 10 departments × 143 weeks) runs in seconds.</summary>
public sealed record SampleDataOptions
{
    public int Stores { get; init; } = 10;
    public int Departments { get; init; } = 10;
    /// <summary>Sales weeks from <see cref="FirstWeek"/> (the real data: 143, 2010-02-05 to 2012-10-26).</summary>
    public int SalesWeeks { get; init; } = 143;
    /// <summary>Feature weeks after the last sales week (the real data: 39, to 2013-07-26).</summary>
    public int ForecastWeeks { get; init; } = 39;
    /// <summary>Trailing feature weeks whose CPI and Unemployment are NA (the real data: 13).</summary>
    public int MissingCpiWeeks { get; init; } = 13;
    public int Seed { get; init; } = 42;
    /// <summary>A Friday; weeks end on Fridays as in the real data.</summary>
    public DateOnly FirstWeek { get; init; } = new(2010, 2, 5);
}

/// <summary>The three files' contents, byte-exact as written (CRLF, no newline after the last line).</summary>
public sealed record SampleDataSet(string Sales, string Features, string Stores)
{
    public string ContentOf(RawDataset dataset) =>
        dataset == RawDatasets.Sales ? Sales : dataset == RawDatasets.Features ? Features : Stores;

    /// <summary>Writes the files under their real names (UTF-8 without BOM) into <paramref name="directory"/>.</summary>
    public void WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var dataset in RawDatasets.All)
            File.WriteAllText(Path.Combine(directory, dataset.FileName), ContentOf(dataset), new UTF8Encoding(false));
    }
}

/// <summary>
/// A deterministic stand-in for the Retail Data Analytics files with their schema and quirks (DD/MM/YYYY dates,
/// CRLF, <c>NA</c>, <c>TRUE</c>/<c>FALSE</c>, the real file names) and a learnable structure: sales =
/// store size × department level × yearly seasonality × holiday effects × store trend × markdown lift × noise,
/// with occasional returns (negative sales) and gaps; markdowns from 2011-11-11; CPI/Unemployment NA at the end.
/// </summary>
public static class SampleDataGenerator
{
    private static readonly DateOnly MarkdownsStart = new(2011, 11, 11);

    // The real holiday weeks (week-ending Fridays) of the data set's years.
    private static readonly HashSet<DateOnly> SuperBowl = [new(2010, 2, 12), new(2011, 2, 11), new(2012, 2, 10), new(2013, 2, 8)];
    private static readonly HashSet<DateOnly> LaborDay = [new(2010, 9, 10), new(2011, 9, 9), new(2012, 9, 7), new(2013, 9, 6)];
    private static readonly HashSet<DateOnly> Thanksgiving = [new(2010, 11, 26), new(2011, 11, 25), new(2012, 11, 23), new(2013, 11, 29)];
    private static readonly HashSet<DateOnly> Christmas = [new(2010, 12, 31), new(2011, 12, 30), new(2012, 12, 28), new(2013, 12, 27)];

    // Department ids as in the real data (1-99 with gaps).
    private static readonly int[] DepartmentIds =
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34,
         35, 36, 37, 38, 40, 41, 42, 44, 45, 46, 47, 48, 49, 51, 52, 54, 55, 56, 58, 59, 60, 67, 71, 72, 74, 77, 78, 79, 80, 81,
         82, 83, 85, 87, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99];

    public static bool IsHoliday(DateOnly week) =>
        SuperBowl.Contains(week) || LaborDay.Contains(week) || Thanksgiving.Contains(week) || Christmas.Contains(week);

    public static SampleDataSet Generate(SampleDataOptions? options = null)
    {
        options ??= new SampleDataOptions();
        if (options.Departments > DepartmentIds.Length)
            throw new ArgumentOutOfRangeException(nameof(options), $"At most {DepartmentIds.Length} departments.");
        var random = new Random(options.Seed);
        var weeks = Enumerable.Range(0, options.SalesWeeks + options.ForecastWeeks).Select(i => options.FirstWeek.AddDays(7 * i)).ToList();

        var stores = Enumerable.Range(1, options.Stores).Select(id => NewStore(id, random)).ToList();
        var departments = DepartmentIds.Take(options.Departments).Select(id => NewDepartment(id, random)).ToList();

        var storesCsv = new CsvText(RawDatasets.Stores.Header);
        foreach (var s in stores) storesCsv.Row(I(s.Id), s.Type, I(s.Size));

        var markdowns = new Dictionary<(int Store, DateOnly Week), double>();
        var featuresCsv = FeaturesCsv(options, random, weeks, stores, markdowns);
        var salesCsv = SalesCsv(options, random, weeks, stores, departments, markdowns);
        return new SampleDataSet(salesCsv.ToString(), featuresCsv.ToString(), storesCsv.ToString());
    }

    /// <summary>Weekly weather, fuel, CPI, unemployment and markdowns per store; each week's markdown total goes to <paramref name="markdowns"/>.</summary>
    private static CsvText FeaturesCsv(SampleDataOptions options, Random random, List<DateOnly> weeks, List<Store> stores,
        Dictionary<(int Store, DateOnly Week), double> markdowns)
    {
        var featuresCsv = new CsvText(RawDatasets.Features.Header);
        foreach (var s in stores)
        {
            var fuel = 2.6 + random.NextDouble() * 0.3;
            var cpi = s.Cpi;
            var unemployment = s.Unemployment;
            for (var w = 0; w < weeks.Count; w++)
            {
                var week = weeks[w];
                var season = Math.Cos(2 * Math.PI * (week.DayOfYear - 200) / 365.25);
                var temperature = s.Climate + 25 * season + Normal(random) * 5;
                fuel = Math.Clamp(fuel + Normal(random) * 0.04 + 0.002, 2.4, 4.5);
                cpi *= 1 + 0.0004 + Normal(random) * 0.0005;
                unemployment = Math.Clamp(unemployment + Normal(random) * 0.03 - 0.004, 3.5, 14.5);
                var md = new string[5];
                var lift = 0.0;
                for (var k = 0; k < 5; k++)
                {
                    if (week < MarkdownsStart || random.NextDouble() < 0.25) { md[k] = "NA"; continue; }
                    var value = Math.Exp(6 + 2.2 * random.NextDouble()) * (IsHoliday(week) ? 3 : 1);
                    if (random.NextDouble() < 0.01) value = -random.NextDouble() * 50; // real data has a few negative markdowns
                    lift += Math.Max(value, 0);
                    md[k] = D2(value);
                }
                markdowns[(s.Id, week)] = lift;
                var cpiKnown = w < weeks.Count - options.MissingCpiWeeks;
                featuresCsv.Row(I(s.Id), Date(week), D2(temperature), D3(fuel), md[0], md[1], md[2], md[3], md[4],
                    cpiKnown ? cpi.ToString("0.#######", CultureInfo.InvariantCulture) : "NA",
                    cpiKnown ? D3(unemployment) : "NA", Bool(IsHoliday(week)));
            }
        }
        return featuresCsv;
    }

    /// <summary>Weekly sales per store and department: level, seasons, holidays, trend, markdown lift, noise, gaps and returns.</summary>
    private static CsvText SalesCsv(SampleDataOptions options, Random random, List<DateOnly> weeks, List<Store> stores, List<Department> departments,
        Dictionary<(int Store, DateOnly Week), double> markdowns)
    {
        var salesCsv = new CsvText(RawDatasets.Sales.Header);
        foreach (var s in stores)
            foreach (var d in departments)
            {
                // Some series start late or pause, as in the real data.
                var start = random.NextDouble() < 0.1 ? random.Next(1, options.SalesWeeks / 2) : 0;
                for (var w = start; w < options.SalesWeeks; w++)
                {
                    var week = weeks[w];
                    if (random.NextDouble() < d.GapRate) continue;
                    var years = w / 52.18;
                    var phase = 2 * Math.PI * week.DayOfYear / 365.25;
                    var seasonal = 1 + d.SeasonA * Math.Sin(phase + d.SeasonPhase) + d.SeasonB * Math.Cos(2 * phase);
                    var holiday = Thanksgiving.Contains(week) ? 1 + d.HolidayLift
                        : Christmas.Contains(week) ? 1 + d.HolidayLift * 0.6
                        : SuperBowl.Contains(week) || LaborDay.Contains(week) ? 1 + d.HolidayLift * 0.15
                        : week.Month == 12 && week.Day is >= 14 and <= 24 ? 1 + d.HolidayLift * 1.2 // the shopping weeks before Christmas
                        : 1;
                    var trend = Math.Exp(s.Growth * years);
                    var markdownLift = 1 + 0.02 * Math.Log(1 + markdowns[(s.Id, week)] / 1000);
                    var level = s.Size / 150_000.0 * d.Level * (s.Type == "C" ? 0.8 : 1);
                    var value = level * Math.Max(seasonal, 0.05) * holiday * trend * markdownLift * Math.Exp(Normal(random) * d.Noise);
                    if (random.NextDouble() < d.ReturnRate) value = -random.NextDouble() * Math.Min(level * 0.05, 500); // returns
                    salesCsv.Row(I(s.Id), I(d.Id), Date(week), D2(value), Bool(IsHoliday(week)));
                }
            }
        return salesCsv;
    }

    private sealed record Store(int Id, string Type, int Size, double Climate, double Cpi, double Unemployment, double Growth);

    private sealed record Department(int Id, double Level, double SeasonA, double SeasonPhase, double SeasonB, double HolidayLift,
        double Noise, double GapRate, double ReturnRate);

    private static Store NewStore(int id, Random random)
    {
        var u = random.NextDouble();
        var (type, size) = u < 0.49 ? ("A", random.Next(120_000, 219_623))
            : u < 0.87 ? ("B", random.Next(34_875, 140_000))
            : ("C", random.Next(34_875, 42_000));
        return new Store(id, type, size, 45 + random.NextDouble() * 30, 126 + random.NextDouble() * 100,
            4 + random.NextDouble() * 9, -0.04 + random.NextDouble() * 0.12);
    }

    private static Department NewDepartment(int id, Random random) => new(
        id,
        Level: Math.Exp(7.5 + 1.6 * Normal(random)),
        SeasonA: random.NextDouble() * 0.35,
        SeasonPhase: random.NextDouble() * 2 * Math.PI,
        SeasonB: random.NextDouble() * 0.1,
        HolidayLift: random.NextDouble() < 0.3 ? 0.5 + random.NextDouble() * 1.5 : random.NextDouble() * 0.2,
        Noise: 0.04 + random.NextDouble() * 0.12,
        GapRate: random.NextDouble() < 0.15 ? 0.2 : 0.0,
        ReturnRate: random.NextDouble() < 0.2 ? 0.02 : 0.0);

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
    private static string D2(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);
    private static string D3(double value) => Math.Round(value, 3).ToString("0.###", CultureInfo.InvariantCulture);
    private static string Date(DateOnly date) => date.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture);
    private static string Bool(bool value) => value ? "TRUE" : "FALSE";

    /// <summary>CRLF between lines, none after the last, like the real files.</summary>
    private sealed class CsvText(IReadOnlyList<string> header)
    {
        private readonly StringBuilder _text = new(string.Join(",", header));

        public void Row(params string[] fields) => _text.Append("\r\n").AppendJoin(',', fields);

        public override string ToString() => _text.ToString();
    }
}
