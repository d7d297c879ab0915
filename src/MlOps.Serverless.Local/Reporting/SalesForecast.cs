using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Storage;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>One row of the <c>forecast_sales</c> table (forecast_sales.sql): dollars per store, department and week.</summary>
public sealed record SalesForecastRow(int Store, int Dept, DateOnly Week, double PredictedSales, double NaiveSales, int IsHoliday);

/// <summary>One series' forecast horizon against the same weeks last year.</summary>
public sealed record SalesForecastChange(int Store, int Dept, double Predicted, double LastYear)
{
    public double Change => Predicted - LastYear;
}

/// <summary>
/// The report's forecast part: the dollar forecast the ForecastSalesQuery state unloaded, copied into the run folder
/// as <c>forecast.csv</c> (with a header, for a spreadsheet), the total per week as a chart, and the series that
/// change most against last year. <see cref="Markdown"/> says why there is none when the run made no forecast.
/// </summary>
public sealed record SalesForecast(IReadOnlyList<SalesForecastRow> Rows, string? CsvPath, string? OmittedBecause)
{
    public const string CsvFile = "forecast.csv";
    public const string SvgFile = "forecast-total.svg";
    public const int ChangesShown = 10;
    public const string Header = "store,dept,week,predicted_sales,naive_sales,is_holiday";

    /// <summary>Reads the unloaded rows, writes the CSV and chart into the run folder. Never throws (except on cancellation).</summary>
    public static async Task<SalesForecast> WriteAsync(IObjectStore store, JsonNode? runOutput, string runFolder, CancellationToken cancellationToken)
    {
        File.Delete(Path.Combine(runFolder, CsvFile));
        File.Delete(Path.Combine(runFolder, SvgFile));
        if ((string?)runOutput?["forecastSalesUri"] is not { } uri) return Omitted("the run made no forecast: it is made only after a promotion (with predictions.batchPredictions on).");
        try
        {
            var rows = new List<SalesForecastRow>();
            await ForecastSeriesReader.ForEachLineAsync(store, uri, _ => true, (line, where) => rows.Add(Parse(line, where)), cancellationToken);
            if (rows.Count == 0)
                return Omitted($"nothing under {uri}: the forecast is made only after a promotion (with predictions.batchPredictions on).");
            rows.Sort((a, b) => (a.Week, a.Store, a.Dept).CompareTo((b.Week, b.Store, b.Dept)));
            var csv = Path.Combine(runFolder, CsvFile);
            await File.WriteAllTextAsync(csv, Csv(rows), cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(runFolder, SvgFile), ForecastChart.Svg([Totals(rows)], "Forecast: total sales per week"), cancellationToken);
            return new SalesForecast(rows, csv, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Omitted($"{e.GetType().Name}: {e.Message}");
        }
    }

    private static SalesForecast Omitted(string reason) => new([], null, reason);

    public static SalesForecastRow Parse(string line, string where)
    {
        var f = line.Split(',');
        if (f.Length != 6) throw new UnreadableForecastData($"{where}: {f.Length} fields, expected 6 ({Header}).");
        double Number(int i, string column) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new UnreadableForecastData($"{where}: {column} '{f[i]}' is not a number.");
        return new SalesForecastRow((int)Number(0, "store"), (int)Number(1, "dept"),
            DateOnly.TryParseExact(f[2], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var week)
                ? week : throw new UnreadableForecastData($"{where}: week '{f[2]}' is not a yyyy-MM-dd date."),
            Number(3, "predicted_sales"), Number(4, "naive_sales"), (int)Number(5, "is_holiday"));
    }

    public static string Csv(IEnumerable<SalesForecastRow> rows)
    {
        var csv = new StringBuilder(Header).Append('\n');
        foreach (var r in rows)
            csv.Append(CultureInfo.InvariantCulture, $"{r.Store},{r.Dept},{r.Week:yyyy-MM-dd},{r.PredictedSales:0.00},{r.NaiveSales:0.00},{r.IsHoliday}\n");
        return csv.ToString();
    }

    /// <summary>All series summed per week, as one chart series: the forecast as "model", last year's same week as "naive", no actuals.</summary>
    public static ForecastSeries Totals(IEnumerable<SalesForecastRow> rows) =>
        new(0, 0, rows.GroupBy(r => r.Week).OrderBy(g => g.Key)
            .Select(g => new ForecastPoint(g.Key, double.NaN, g.Sum(r => r.PredictedSales), g.Sum(r => r.NaiveSales), 1)).ToList())
        { Label = "All stores and departments" };

    /// <summary>The series whose forecast over the horizon differs most (in dollars, either way) from the same weeks last year.</summary>
    public static IReadOnlyList<SalesForecastChange> LargestChanges(IEnumerable<SalesForecastRow> rows, int count) =>
        rows.GroupBy(r => (r.Store, r.Dept))
            .Select(g => new SalesForecastChange(g.Key.Store, g.Key.Dept, g.Sum(r => r.PredictedSales), g.Sum(r => r.NaiveSales)))
            .OrderByDescending(c => Math.Abs(c.Change)).ThenBy(c => c.Store).ThenBy(c => c.Dept)
            .Take(count).ToList();

    public string Markdown()
    {
        var md = new StringBuilder("## Forecast of the coming weeks, in dollars\n\n");
        if (OmittedBecause is not null) return md.Append($"No forecast: {OmittedBecause}\n\n").ToString();
        var weeks = Rows.Select(r => r.Week).Distinct().Order().ToList();
        var series = Rows.Select(r => (r.Store, r.Dept)).Distinct().Count();
        double predicted = Rows.Sum(r => r.PredictedSales), lastYear = Rows.Sum(r => r.NaiveSales);
        md.AppendLine($"{series:#,0} series × {weeks.Count} weeks ({weeks[0]:yyyy-MM-dd} to {weeks[^1]:yyyy-MM-dd}): " +
                      $"{Money(predicted)} forecast in all, against {Money(lastYear)} in the same weeks last year ({Percent(predicted, lastYear)}).");
        md.AppendLine().AppendLine($"File: `{CsvPath}` (columns `{Header}`; `naive_sales` is the same week last year, the naive forecast; in the cloud: the Athena table `forecast_sales`, `WHERE run_id = '<run id>' AND attempt = '<the ForecastSalesQuery state's attempt>'`).").AppendLine();
        md.AppendLine($"![Total forecast sales per week]({SvgFile})").AppendLine();
        md.AppendLine($"Largest changes against the same weeks last year ({ChangesShown} series, by dollars either way):").AppendLine();
        md.AppendLine("| series | forecast | same weeks last year | change |").AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var c in LargestChanges(Rows, ChangesShown))
            md.AppendLine($"| Store {c.Store} · Dept {c.Dept} | {Money(c.Predicted)} | {Money(c.LastYear)} | {(c.Change >= 0 ? "+" : "−")}{Money(Math.Abs(c.Change))} ({Percent(c.Predicted, c.LastYear)}) |");
        return md.AppendLine().ToString();
    }

    private static string Money(double value) => value.ToString("$#,0;−$#,0", CultureInfo.InvariantCulture);

    private static string Percent(double value, double reference) =>
        reference == 0 ? "no sales last year" : (value / reference - 1).ToString("+0.0%;−0.0%", CultureInfo.InvariantCulture);
}
