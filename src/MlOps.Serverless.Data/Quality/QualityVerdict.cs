using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Data.Quality;

/// <summary>
/// Applies the data-quality rules (<see cref="DataQualitySettings"/>) to the quality query's measurements and to
/// what SQL cannot see with the header skipped: that each file exists and is not empty, and each file's first
/// bytes (header columns, byte-order mark, line endings, binary content). Writes the full report to
/// <c>{qualityUri}report.json</c>, then throws <see cref="DataQualityFailed"/> if any hard rule failed.
/// </summary>
public sealed partial class QualityVerdict(IObjectStore store)
{
    public const string ReportFileName = "report.json";
    private const int SniffBytes = 64 * 1024;

    public async Task<QualityVerdictOutput> EvaluateAsync(QualityVerdictInput input, CancellationToken cancellationToken = default)
    {
        var run = input.Run;
        var settings = run.Config.DataQuality;
        var measurements = ParseMeasurements(input.Results);
        var hard = new List<QualityFinding>();
        var warnings = new List<QualityFinding>();

        var files = new List<FileCheck>();
        var scans = new Dictionary<string, CsvScanResult>();
        foreach (var dataset in RawDatasets.All)
        {
            files.AddRange(await CheckFilesAsync(run, dataset, hard, warnings, cancellationToken));
            foreach (var file in files.Where(f => f.Dataset == dataset.Folder && !f.LooksBinary && f.LineEnding != "CR"))
                scans[file.Key] = await ScanLinesAsync(run, file, dataset, measurements, hard, cancellationToken);
        }

        ApplyRules(measurements, settings, run.Config.Split, files, hard, warnings, scans);
        OneLine(hard);
        OneLine(warnings);

        var passed = hard.Count == 0;
        var summary = Summarize(passed, measurements, hard, warnings);
        var reportUri = run.Output.QualityUri + ReportFileName;
        var report = new QualityReport(run.RunId, run.Data.BatchId, passed, summary, hard, warnings, files, measurements);
        await using (var content = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(report, DataJsonContext.Default.QualityReport)))
            await store.PutAsync(S3Uri.Parse(reportUri), content, "application/json", cancellationToken);

        if (!passed)
            throw new DataQualityFailed(
                $"Data quality failed for batch '{run.Data.BatchId}' ({hard.Count} hard rule(s); report {reportUri}): " +
                string.Join(" | ", hard.Select(f => $"[{f.Rule}] {f.Message}")));
        return new QualityVerdictOutput(true, summary, hard, warnings, reportUri);
    }

    /// <summary>Reads the quality query's rows by column name; Athena's first row repeats the column names.</summary>
    public static IReadOnlyList<QualityMeasurement> ParseMeasurements(AthenaResultSet results)
    {
        string[] expected = ["metric", "dataset", "column_name", "value", "examples"];
        var names = results.ResultSetMetadata?.ColumnInfo.Select(c => c.Name).ToArray()
                    ?? (results.Rows is [var header, ..] ? header.Data.Select(d => d.VarCharValue ?? "").ToArray() : []);
        var index = expected.Select(e => Array.IndexOf(names, e)).ToArray();
        if (index.Any(i => i < 0))
            throw new InvalidStageInput($"The quality result set has columns [{string.Join(", ", names)}]; expected [{string.Join(", ", expected)}] (the Quality query's output).");

        var rows = results.Rows.AsEnumerable();
        if (rows.FirstOrDefault() is { } first && first.Data.Select(d => d.VarCharValue).SequenceEqual(names)) rows = rows.Skip(1);
        return rows.Select(r =>
        {
            string? Cell(int column) => index[column] < r.Data.Count ? r.Data[index[column]].VarCharValue : null;
            var value = Cell(3) is { } v && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : (double?)null;
            return new QualityMeasurement(Cell(0) ?? "", Cell(1) ?? "", Cell(2), value, Cell(4));
        }).ToList();
    }

    private async Task<IReadOnlyList<FileCheck>> CheckFilesAsync(
        RunRequest run, RawDataset dataset, List<QualityFinding> hard, List<QualityFinding> warnings, CancellationToken cancellationToken)
    {
        var data = run.Data;
        var folder = data.Prefix + dataset.Folder + "/";
        var objects = data.Objects.Where(o => o.Key.StartsWith(folder, StringComparison.Ordinal) && !o.Key.EndsWith('/')).ToList();
        var expectedName = $"'{dataset.FileName}' in s3://{data.Bucket}/{folder}";
        if (objects.Count == 0)
        {
            hard.Add(new("file_missing", "0 files", "1 file", $"{expectedName}: no file uploaded", folder));
            return [];
        }
        if (objects.All(o => o.Size == 0))
        {
            hard.Add(new("file_empty", "0 bytes", "> 0 bytes", $"{expectedName}: the file is empty (0 bytes)", objects[0].Key));
            return [];
        }

        var checks = new List<FileCheck>();
        foreach (var obj in objects.Where(o => o.Size > 0))
        {
            var check = await SniffAsync(run.InputOf(obj), obj, dataset, cancellationToken);
            checks.Add(check);
            var file = obj.Key;
            if (check.LooksBinary)
            {
                hard.Add(new("binary_content", "binary bytes", "text", $"{file}: the file is not text (NUL or control bytes in its first {SniffBytes / 1024} KB)", file));
                continue;
            }
            if (check.HasByteOrderMark)
                warnings.Add(new("byte_order_mark", "UTF-8 BOM", "none", $"{file}: starts with a UTF-8 byte-order mark (harmless to Athena, which skips the header line)", file));
            if (check.LineEnding == "CR")
                hard.Add(new("line_endings", "CR only", "LF or CRLF", $"{file}: lines end with CR only; Athena would read the whole file as one line", file));
            CheckHeader(dataset, file, check.Header ?? "", hard);
        }
        return checks;
    }

    /// <summary>
    /// One pass over a file as OpenCSVSerde reads it: malformed lines become hard failures naming the file, the lines and
    /// their keys, and the quality query's unparsable example values are located by line and key.
    /// </summary>
    private async Task<CsvScanResult> ScanLinesAsync(RunRequest run, FileCheck file, RawDataset dataset, IReadOnlyList<QualityMeasurement> measurements,
        List<QualityFinding> hard, CancellationToken cancellationToken)
    {
        var sought = measurements.Where(m => m.Metric == "unparsable" && m.Dataset == dataset.Folder && m.Value > 0 && m.Column is not null)
            .ToDictionary(m => m.Column!, m => CsvLineScan.ExampleValues(m.Examples));
        // The run's copy of the fingerprinted object, never the upload itself.
        var copy = run.InputOf(run.Data.Objects.First(o => o.Key == file.Key));
        await using var stream = await store.OpenReadAsync(copy, cancellationToken)
                                 ?? throw new InvalidStageInput($"{copy} (the run's copy of s3://{run.Data.Bucket}/{file.Key}) cannot be read.");
        var scan = await CsvLineScan.ScanAsync(stream, dataset, sought, cancellationToken);
        static string More(long count, int listed) => count > listed ? $" and {count - listed:#,0} more" : "";
        if (scan.StrayQuoteCount > 0)
            hard.Add(new("csv_stray_quote", $"{scan.StrayQuoteCount:#,0} lines", "0",
                $"{file.Key}: {scan.StrayQuoteCount:#,0} line(s) with an unclosed quote: {string.Join("; ", scan.StrayQuotes)}{More(scan.StrayQuoteCount, scan.StrayQuotes.Count)} " +
                "(Athena's CSV reader keeps only the fields before the quote)", file.Key));
        if (scan.ThousandsSeparatorCount > 0)
            hard.Add(new("csv_thousands_separator", $"{scan.ThousandsSeparatorCount:#,0} lines", "0",
                $"{file.Key}: {scan.ThousandsSeparatorCount:#,0} line(s) with a thousands separator in a number: " +
                string.Join("; ", scan.ThousandsSeparators.Select(t => $"{t.Where} {t.Column} '{t.Value}'")) + More(scan.ThousandsSeparatorCount, scan.ThousandsSeparators.Count) +
                " (the comma splits the number into two fields; write it without separators, e.g. 38614.46)", file.Key, scan.ThousandsSeparators[0].Column));
        if (scan.WrongFieldCountCount > 0)
            hard.Add(new("csv_field_count", $"{scan.WrongFieldCountCount:#,0} lines", "0",
                $"{file.Key}: {scan.WrongFieldCountCount:#,0} line(s) with a wrong number of fields ({scan.ExpectedFields} expected, as in the header): " +
                string.Join("; ", scan.WrongFieldCounts.Select(w => $"{w.Where} has {w.Fields}")) + More(scan.WrongFieldCountCount, scan.WrongFieldCounts.Count) +
                " (Athena's CSV reader drops extra fields and reads missing ones as NULL)", file.Key));
        return scan;
    }

    /// <summary>Reads the run's copy (<paramref name="copy"/>) of the fingerprinted object, never the upload itself.</summary>
    private async Task<FileCheck> SniffAsync(S3Uri copy, StoredObject obj, RawDataset dataset, CancellationToken cancellationToken)
    {
        var buffer = new byte[SniffBytes];
        var read = 0;
        await using (var stream = await store.OpenReadAsync(copy, cancellationToken)
                                  ?? throw new InvalidStageInput($"{copy} (the run's copy of {obj.Key}) cannot be read."))
        {
            int n;
            while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0) read += n;
        }
        var bytes = buffer.AsSpan(0, read);
        var bom = bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]);
        var binary = bytes.IndexOf((byte)0) >= 0 || bytes.ToArray().Count(b => b < 0x09 || b is > 0x0D and < 0x20) > read / 100;
        var lf = bytes.IndexOf((byte)'\n');
        var cr = bytes.IndexOf((byte)'\r');
        var ending = lf > 0 && bytes[lf - 1] == '\r' ? "CRLF" : lf >= 0 ? "LF" : cr >= 0 ? "CR" : "none";
        var end = lf >= 0 ? lf : cr >= 0 ? cr : read;
        var header = binary ? null : Encoding.UTF8.GetString(bytes[(bom ? 3 : 0)..end]).TrimEnd('\r');
        return new FileCheck(dataset.Folder, obj.Key, obj.Size, ending, bom, binary, header);
    }

    private static void CheckHeader(RawDataset dataset, string file, string header, List<QualityFinding> hard)
    {
        var actual = header.Split(',').Select(c => c.Trim().Trim('"')).ToList();
        var expected = dataset.Header;
        if (actual.SequenceEqual(expected, StringComparer.OrdinalIgnoreCase)) return;

        var missing = expected.Where(e => !actual.Contains(e, StringComparer.OrdinalIgnoreCase)).ToList();
        var extra = actual.Where(a => !expected.Contains(a, StringComparer.OrdinalIgnoreCase)).ToList();
        var problems = new List<string>();
        if (missing.Count > 0 && extra.Count > 0 && missing.Count == extra.Count)
            problems.Add("renamed column(s): " + string.Join(", ", missing.Zip(extra, (m, x) => $"'{x}' where '{m}' is expected")));
        else
        {
            if (missing.Count > 0) problems.Add("missing column(s): " + string.Join(", ", missing));
            if (extra.Count > 0) problems.Add("unexpected column(s): " + string.Join(", ", extra));
        }
        if (problems.Count == 0) problems.Add("columns out of order (Athena reads CSV columns by position)");
        hard.Add(new("header", header, string.Join(",", expected),
            $"{file}: header '{header}' does not match '{string.Join(",", expected)}': {string.Join("; ", problems)}",
            file, string.Join(",", missing.Concat(extra))));
    }

    // Long on purpose: a flat rule table, one case per measured metric, each reading as the finding it raises.
    private static void ApplyRules(
        IReadOnlyList<QualityMeasurement> measurements, DataQualitySettings settings, SplitSettings split,
        IReadOnlyList<FileCheck> files, List<QualityFinding> hard, List<QualityFinding> warnings, IReadOnlyDictionary<string, CsvScanResult> scans)
    {
        string FileOf(string dataset) =>
            files.Where(f => f.Dataset == dataset).Select(f => f.Key).FirstOrDefault()
            ?? RawDatasets.All.FirstOrDefault(d => d.Folder == dataset)?.FileName ?? dataset;
        double Value(string metric, string dataset) =>
            measurements.FirstOrDefault(m => m.Metric == metric && m.Dataset == dataset)?.Value ?? 0;
        static string N(double v) => v.ToString("#,0.####", CultureInfo.InvariantCulture);
        static string Pct(double v) => v.ToString("0.##%", CultureInfo.InvariantCulture);
        string Examples(QualityMeasurement m) => string.IsNullOrEmpty(m.Examples) ? "" : $", e.g. {m.Examples}";

        var salesRows = Value("rows", "sales");
        foreach (var dataset in RawDatasets.All)
        {
            var rows = Value("rows", dataset.Folder);
            // Files that exist but hold no data row (a header only); missing files are reported by the file check.
            if (rows == 0 && files.Any(f => f.Dataset == dataset.Folder))
                hard.Add(new("file_empty", "0 rows", "> 0 rows", $"{FileOf(dataset.Folder)}: no data rows below the header", FileOf(dataset.Folder)));
        }
        if (salesRows > 0 && salesRows < settings.MinSalesRows)
            hard.Add(new("min_sales_rows", N(salesRows), N(settings.MinSalesRows),
                $"{FileOf("sales")}: {N(salesRows)} sales rows, at least {N(settings.MinSalesRows)} required", FileOf("sales")));

        foreach (var m in measurements)
        {
            var value = m.Value ?? 0;
            var file = FileOf(m.Dataset);
            switch (m.Metric)
            {
                // Values that only malformed lines hold are the csv_* failures' doing, not the column's.
                case "unparsable" when value > settings.MaxUnparsableValues && !ExplainedByMalformedLines(m, scans):
                    hard.Add(new("unparsable_values", N(value), N(settings.MaxUnparsableValues),
                        $"{file}, column {m.Column}: {N(value)} value(s) cannot be parsed as {ExpectedFormat(m.Column)}{Examples(m)}{Located(m, scans)}", file, m.Column));
                    break;
                case "null_rate" when value > settings.WarnNullRate:
                    warnings.Add(new("null_rate", Pct(value), Pct(settings.WarnNullRate),
                        $"{file}, column {m.Column}: {Pct(value)} of the values are NA or empty", file, m.Column));
                    break;
                case "duplicate_keys" when m.Dataset == "sales" && value > settings.MaxDuplicateSalesKeys:
                    hard.Add(new("duplicate_keys", N(value), N(settings.MaxDuplicateSalesKeys),
                        $"{file}: {N(value)} duplicate row(s) for the key ({m.Column}){Examples(m)}", file, m.Column));
                    break;
                // Duplicate feature or store keys would multiply sales rows in every join: never allowed.
                case "duplicate_keys" when m.Dataset != "sales" && value > 0:
                    hard.Add(new("duplicate_keys", N(value), "0",
                        $"{file}: {N(value)} duplicate row(s) for the key ({m.Column}){Examples(m)}", file, m.Column));
                    break;
                case "weeks" when salesRows > 0 && value < Math.Max(settings.MinSalesWeeks, split.TestWeeks + split.ValidationWeeks + 1):
                    var needed = Math.Max(settings.MinSalesWeeks, split.TestWeeks + split.ValidationWeeks + 1);
                    hard.Add(new("min_sales_weeks", N(value), N(needed),
                        $"{file}, column Date: {N(value)} distinct sales weeks ({m.Examples}); at least {N(needed)} needed " +
                        $"(MinSalesWeeks {settings.MinSalesWeeks}, test {split.TestWeeks} + validation {split.ValidationWeeks} weeks + training)", file, "Date"));
                    break;
                // The week index assumes one date per week, 7 days apart.
                case "off_cadence_dates" when value > 0:
                    hard.Add(new("weekly_cadence", N(value), "0",
                        $"{file}, column Date: {N(value)} date(s) are not a whole number of weeks after the first sales date{Examples(m)}", file, "Date"));
                    break;
                case "missing_weeks" when value > 0:
                    warnings.Add(new("missing_weeks", N(value), "0",
                        $"{file}, column Date: {N(value)} week(s) without any sales row between the first and last date", file, "Date"));
                    break;
                case "sales_without_features" when salesRows > 0 && value / salesRows > settings.MaxSalesWithoutFeaturesRate:
                    hard.Add(new("sales_without_features", $"{N(value)} rows ({Pct(value / salesRows)})", Pct(settings.MaxSalesWithoutFeaturesRate),
                        $"{file}: {N(value)} sales row(s) have no row for the same Store and Date in {FileOf("features")}{Examples(m)}", file, m.Column));
                    break;
                case "stores_without_attributes" when value > settings.MaxStoresWithoutAttributes:
                    hard.Add(new("stores_without_attributes", N(value), N(settings.MaxStoresWithoutAttributes),
                        $"{file}, column Store: {N(value)} store(s) in the sales or features data are missing from the stores file{Examples(m)}", file, "Store"));
                    break;
                case "negative_sales" when salesRows > 0 && value / salesRows > settings.WarnNegativeSalesRate:
                    warnings.Add(new("negative_sales", $"{N(value)} rows ({Pct(value / salesRows)})", Pct(settings.WarnNegativeSalesRate),
                        $"{file}, column Weekly_Sales: {N(value)} negative value(s) (returns); kept as recorded", file, "Weekly_Sales"));
                    break;
                case "holiday_mismatch" when value > 0:
                    warnings.Add(new("holiday_mismatch", N(value), "0",
                        $"{file}, column IsHoliday: {N(value)} sales row(s) disagree with the features file's IsHoliday; the features file's flag is used", file, "IsHoliday"));
                    break;
            }
        }
    }

    /// <summary>
    /// Findings are read as one line (console, report, notification): example values that hold a line break or control
    /// bytes (a quote spanning lines, a binary file) are shown with those as spaces.
    /// </summary>
    private static void OneLine(List<QualityFinding> findings)
    {
        for (var i = 0; i < findings.Count; i++)
            findings[i] = findings[i] with { Message = ControlOrSpaceRun().Replace(findings[i].Message, " ") };
    }

    [GeneratedRegex(@"[\s\p{Cc}]+")]
    private static partial Regex ControlOrSpaceRun();

    private static IEnumerable<CsvScanResult> ScansOf(string dataset, IReadOnlyDictionary<string, CsvScanResult> scans) =>
        scans.Where(s => s.Key.Contains($"/{dataset}/", StringComparison.Ordinal)).Select(s => s.Value);

    private static bool ExplainedByMalformedLines(QualityMeasurement m, IReadOnlyDictionary<string, CsvScanResult> scans) =>
        m.Column is { } column && ScansOf(m.Dataset, scans).Sum(s => s.ValuesOnMalformedLines.GetValueOrDefault(column)) >= (m.Value ?? 0);

    /// <summary>Where the examples are: "; '12x5' at line 11 (Store 1, Dept 1, Date 05/02/2010)".</summary>
    private static string Located(QualityMeasurement m, IReadOnlyDictionary<string, CsvScanResult> scans)
    {
        var found = ScansOf(m.Dataset, scans).SelectMany(s => s.Values.GetValueOrDefault(m.Column ?? "") ?? []).Take(CsvLineScan.Listed).ToList();
        return found.Count == 0 ? "" : "; " + string.Join("; ", found.Select(f => $"'{f.Value}' at {f.Where}"));
    }

    private static string ExpectedFormat(string? column) => column switch
    {
        "Date" => "a DD/MM/YYYY date",
        "IsHoliday" => "TRUE or FALSE",
        "Type" => "a store type A, B or C",
        "Store" or "Dept" or "Size" => "an integer",
        _ => "a number",
    };

    private static string Summarize(bool passed, IReadOnlyList<QualityMeasurement> measurements, List<QualityFinding> hard, List<QualityFinding> warnings)
    {
        var rows = measurements.FirstOrDefault(m => m.Metric == "rows" && m.Dataset == "sales")?.Value ?? 0;
        var weeks = measurements.FirstOrDefault(m => m.Metric == "weeks");
        var span = weeks?.Examples is { Length: > 0 } e ? $", {weeks.Value:0} weeks {e}" : "";
        var verdict = passed ? "passed" : "FAILED (" + string.Join(", ", hard.Select(h => h.Rule).Distinct()) + ")";
        return string.Create(CultureInfo.InvariantCulture,
            $"Data quality {verdict}: {rows:#,0} sales rows{span}; {hard.Count} hard failure(s), {warnings.Count} warning(s).");
    }
}
