using System.Text;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Quality;
using MlOps.Serverless.Data.Sample;

namespace MlOps.Serverless.Data.Tests.Quality;

/// <summary>Each bad input of the issue must fail the quality stage with a message naming file, column, count or examples.</summary>
public class QualityBadInputTests
{
    private static readonly SampleDataSet Sample = SampleDataGenerator.Generate(new SampleDataOptions { Stores = 4, Departments = 4 });

    private static Dictionary<RawDataset, byte[]?> Files(SampleDataSet data) =>
        RawDatasets.All.ToDictionary(d => d, d => (byte[]?)Encoding.UTF8.GetBytes(data.ContentOf(d)));

    private static async Task<(DataQualityFailed Error, QualityReport Report)> Fails(Dictionary<RawDataset, byte[]?> files)
    {
        using var workspace = new Workspace();
        var run = await workspace.UploadAsync("bad", files);
        var error = await Assert.ThrowsAsync<DataQualityFailed>(() => workspace.Stages.QualityAsync(run));
        // The report is written before the error is raised.
        var report = System.Text.Json.JsonSerializer.Deserialize(
            await File.ReadAllBytesAsync(workspace.PathOf(run.Output.QualityUri + QualityVerdict.ReportFileName)), DataJsonContext.Default.QualityReport)!;
        Assert.False(report.Passed);
        return (error, report);
    }

    private static string ReplaceLines(string csv, Func<int, string, string> change) =>
        string.Join("\r\n", csv.Split("\r\n").Select((line, i) => change(i, line)));

    private static string ReplaceFirst(string text, string from, string to) =>
        text.IndexOf(from, StringComparison.Ordinal) is var at and >= 0 ? text[..at] + to + text[(at + from.Length)..] : text;

    [Fact]
    public async Task A_missing_file_is_named()
    {
        var files = Files(Sample);
        files[RawDatasets.Stores] = null;

        var (error, report) = await Fails(files);

        Assert.Contains(report.HardFailures, f => f.Rule == "file_missing" && f.Message.Contains("stores data-set.csv"));
        Assert.Contains("[file_missing]", error.Message);
    }

    [Fact]
    public async Task An_empty_file_is_named()
    {
        var files = Files(Sample);
        files[RawDatasets.Features] = [];

        var (error, _) = await Fails(files);

        Assert.Contains("[file_empty]", error.Message);
        Assert.Contains("Features data set.csv", error.Message);
    }

    [Fact]
    public async Task A_header_only_file_has_no_data_rows()
    {
        var files = Files(Sample);
        files[RawDatasets.Sales] = Encoding.UTF8.GetBytes("Store,Dept,Date,Weekly_Sales,IsHoliday");

        var (error, _) = await Fails(files);

        Assert.Contains("[file_empty] incoming/bad/sales/sales data-set.csv: no data rows below the header", error.Message);
    }

    [Fact]
    public async Task A_missing_column_is_named()
    {
        var files = Files(Sample);
        files[RawDatasets.Sales] = Encoding.UTF8.GetBytes(ReplaceLines(Sample.Sales, (_, l) => string.Join(',', l.Split(',').Take(3).Append(l.Split(',')[4]))));

        var (error, report) = await Fails(files);

        var header = Assert.Single(report.HardFailures, f => f.Rule == "header");
        Assert.Equal("Weekly_Sales", header.Column);
        Assert.Contains("missing column(s): Weekly_Sales", error.Message);
        // Athena reads columns by position, so the shifted values are reported too.
        Assert.Contains(report.HardFailures, f => f.Rule == "unparsable_values" && f.Column == "Weekly_Sales");
    }

    [Fact]
    public async Task A_renamed_column_is_named()
    {
        var files = Files(Sample);
        files[RawDatasets.Stores] = Encoding.UTF8.GetBytes(Sample.Stores.Replace("Store,Type,Size", "Store,StoreType,Size"));

        var (error, _) = await Fails(files);

        Assert.Contains("renamed column(s): 'StoreType' where 'Type' is expected", error.Message);
        Assert.Contains("stores data-set.csv", error.Message);
    }

    [Fact]
    public async Task A_date_in_another_format_is_counted_with_examples()
    {
        var files = Files(Sample);
        files[RawDatasets.Sales] = Encoding.UTF8.GetBytes(ReplaceLines(Sample.Sales, (i, l) => i is 5 or 6 ? l.Replace(l.Split(',')[2], i == 5 ? "2010-03-05" : "2010-03-12") : l));

        var (error, report) = await Fails(files);

        var finding = Assert.Single(report.HardFailures, f => f.Rule == "unparsable_values");
        Assert.Equal(("Date", "2"), (finding.Column, finding.Measured));
        Assert.Contains("column Date: 2 value(s) cannot be parsed as a DD/MM/YYYY date, e.g. '2010-03-05' (1 rows); '2010-03-12' (1 rows)", error.Message);
    }

    [Fact]
    public async Task A_non_numeric_sales_value_is_counted_with_examples()
    {
        var files = Files(Sample);
        files[RawDatasets.Sales] = Encoding.UTF8.GetBytes(ReplaceLines(Sample.Sales, (i, l) =>
            i == 10 ? string.Join(',', l.Split(',').Select((f, c) => c == 3 ? "12x5" : f)) : l));

        var (error, _) = await Fails(files);

        Assert.Contains("sales data-set.csv, column Weekly_Sales: 1 value(s) cannot be parsed as a number, e.g. '12x5' (1 rows)", error.Message);
    }

    [Fact]
    public async Task A_non_numeric_value_is_located_by_line_and_key()
    {
        var files = Files(Sample);
        var line = Sample.Sales.Split("\r\n")[10].Split(',');
        files[RawDatasets.Sales] = Encoding.UTF8.GetBytes(ReplaceLines(Sample.Sales, (i, l) =>
            i == 10 ? string.Join(',', l.Split(',').Select((f, c) => c == 3 ? "12x5" : f)) : l));

        var (error, _) = await Fails(files);

        Assert.Contains($"'12x5' at line 11 (Store {line[0]}, Dept {line[1]}, Date {line[2]})", error.Message);
    }

    [Fact]
    public async Task A_stray_quote_is_a_named_failure_with_file_line_and_key()
    {
        var files = Files(Sample);
        var line = Sample.Sales.Split("\r\n")[7].Split(',');
        files[RawDatasets.Sales] = Encoding.UTF8.GetBytes(ReplaceLines(Sample.Sales, (i, l) => i == 7 ? ReplaceFirst(l, ",", ",\"") : l));

        var (error, report) = await Fails(files);

        var finding = Assert.Single(report.HardFailures, f => f.Rule == "csv_stray_quote");
        Assert.Contains($"sales data-set.csv: 1 line(s) with an unclosed quote: line 8 (Store {line[0]}, Dept {line[1]}, Date {line[2]})", finding.Message);
        Assert.Contains("[csv_stray_quote]", error.Message);
    }

    [Fact]
    public async Task A_wrong_field_count_is_a_named_failure_with_file_line_and_key()
    {
        var files = Files(Sample);
        var line = Sample.Sales.Split("\r\n")[4].Split(',');
        files[RawDatasets.Sales] = Encoding.UTF8.GetBytes(ReplaceLines(Sample.Sales, (i, l) => i == 4 ? l + ",extra" : l));

        var (_, report) = await Fails(files);

        var finding = Assert.Single(report.HardFailures, f => f.Rule == "csv_field_count");
        Assert.Contains($"sales data-set.csv: 1 line(s) with a wrong number of fields (5 expected, as in the header): line 5 (Store {line[0]}, Dept {line[1]}, Date {line[2]}) has 6", finding.Message);
    }

    [Fact]
    public async Task A_thousands_separator_is_named_as_such_not_blamed_on_IsHoliday()
    {
        var files = Files(Sample);
        var line = Sample.Sales.Split("\r\n")[3].Split(',');
        files[RawDatasets.Sales] = Encoding.UTF8.GetBytes(ReplaceLines(Sample.Sales, (i, l) =>
            i == 3 ? string.Join(',', l.Split(',').Select((f, c) => c == 3 ? "38,614.46" : f)) : l));

        var (error, report) = await Fails(files);

        var finding = Assert.Single(report.HardFailures, f => f.Rule == "csv_thousands_separator");
        Assert.Contains($"sales data-set.csv: 1 line(s) with a thousands separator in a number: line 4 (Store {line[0]}, Dept {line[1]}, Date {line[2]}) Weekly_Sales '38,614.46'", finding.Message);
        Assert.DoesNotContain(report.HardFailures, f => f.Column == "IsHoliday");
    }

    [Fact]
    public async Task Duplicate_rows_are_counted_with_examples()
    {
        var lines = Sample.Sales.Split("\r\n").ToList();
        lines.Insert(3, lines[1]);
        lines.Insert(3, lines[1]);
        var files = Files(Sample);
        files[RawDatasets.Sales] = Encoding.UTF8.GetBytes(string.Join("\r\n", lines));

        var (error, report) = await Fails(files);

        var finding = Assert.Single(report.HardFailures, f => f.Rule == "duplicate_keys");
        Assert.Equal("2", finding.Measured);
        Assert.Contains("Store=1 Dept=1 Date=05/02/2010 (3 rows)", error.Message);
    }

    [Fact]
    public async Task A_store_missing_from_the_stores_file_is_named()
    {
        var files = Files(Sample);
        files[RawDatasets.Stores] = Encoding.UTF8.GetBytes(string.Join("\r\n", Sample.Stores.Split("\r\n").Where(l => !l.StartsWith("3,", StringComparison.Ordinal))));

        var (error, _) = await Fails(files);

        Assert.Contains("column Store: 1 store(s) in the sales or features data are missing from the stores file, e.g. Store=3", error.Message);
    }

    [Fact]
    public async Task Sales_without_a_features_row_are_named()
    {
        var files = Files(Sample);
        files[RawDatasets.Features] = Encoding.UTF8.GetBytes(string.Join("\r\n", Sample.Features.Split("\r\n").Where(l => !l.StartsWith("2,12/02/2010,", StringComparison.Ordinal))));

        var (error, _) = await Fails(files);

        Assert.Contains("[sales_without_features]", error.Message);
        Assert.Contains("Store=2 Date=2010-02-12", error.Message);
    }

    [Fact]
    public async Task Cr_only_line_endings_fail()
    {
        var files = Files(Sample);
        files[RawDatasets.Stores] = Encoding.UTF8.GetBytes(Sample.Stores.Replace("\r\n", "\r"));

        var (error, _) = await Fails(files);

        Assert.Contains("[line_endings] incoming/bad/stores/stores data-set.csv: lines end with CR only", error.Message);
    }

    [Fact]
    public async Task Binary_content_fails()
    {
        var files = Files(Sample);
        files[RawDatasets.Stores] = [0x50, 0x4B, 0x03, 0x04, 0x00, 0x00, 0x08, 0x00, 0x01, 0x02];

        var (error, _) = await Fails(files);

        Assert.Contains("[binary_content]", error.Message);
    }

    [Fact]
    public async Task A_byte_order_mark_is_only_a_warning()
    {
        var files = Files(Sample);
        files[RawDatasets.Stores] = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(Sample.Stores)];
        using var workspace = new Workspace();
        var run = await workspace.UploadAsync("bom", files);

        var verdict = await workspace.Stages.QualityAsync(run);

        Assert.True(verdict.Passed);
        Assert.Contains(verdict.Warnings, w => w.Rule == "byte_order_mark");
    }
}
