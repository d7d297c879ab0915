using System.Text.Json.Nodes;
using System.Xml.Linq;
using MlOps.Serverless.Local.Reporting;
using MlOps.Serverless.Local.S3;
using static MlOps.Serverless.Local.Tests.Reporting.ForecastSeriesReaderTests;

namespace MlOps.Serverless.Local.Tests.Reporting;

public sealed class ForecastSectionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mlops-section-").FullName;
    private string S3 => Path.Combine(_root, "s3");
    private string RunFolder => Directory.CreateDirectory(Path.Combine(_root, "run")).FullName;
    private string Svg => Path.Combine(RunFolder, ForecastSection.SvgFile);
    private static JsonObject Output => new() { ["testLabelsUri"] = LabelsUri, ["predictionsUri"] = PredictionsUri };

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private Task<ForecastSection> WriteAsync(JsonNode? output) =>
        ForecastSection.WriteAsync(new LocalFolderObjectStore(S3), output, RunFolder, "run-1", CancellationToken.None);

    private void WriteLabels(int series)
    {
        var lines = Enumerable.Range(1, series).SelectMany(store => Enumerable.Range(0, 3).Select(week =>
        {
            var date = new DateOnly(2012, 10, 26).AddDays(7 * week).ToString("yyyy-MM-dd");
            return $"{store}_1_{date},{store * 1000 + week},1,{store * 900},{store * 1000},{store},1,{date}";
        }));
        Write(S3, LabelsUri, "labels.csv.gz", string.Join('\n', lines) + "\n", gzip: true);
    }

    [Fact]
    public async Task Shows_the_four_largest_series_in_an_svg_beside_the_report_with_their_errors()
    {
        WriteLabels(series: 6);
        Write(S3, PredictionsUri, "x.out", string.Join('\n', Enumerable.Range(1, 6).Select(s => $"{s}_1_2012-10-26,1.1")) + "\n", gzip: false);

        var section = await WriteAsync(Output);

        Assert.Equal([6, 5, 4, 3], section.Shown.Select(s => s.Store));
        var svg = XDocument.Load(Svg);
        Assert.Equal(4, svg.Root!.Elements().Count(e => e.Name.LocalName == "g"));
        var markdown = section.Markdown();
        Assert.Contains("![Actual vs predicted, 4 largest series](actual-vs-predicted.svg)", markdown);
        // Store 6 week 0: actual 6000, forecast 1.1 × 6000 = 6600, naive 5400; only that week has a prediction.
        Assert.Contains("| Store 6 · Dept 1 | 3 | $18,003 | 600.0 | 600.0 | 1.00 |", markdown);
    }

    [Fact]
    public async Task Without_output_locations_there_is_no_chart_and_one_line_says_why()
    {
        File.WriteAllText(Svg, "stale");

        var section = await WriteAsync(null);

        Assert.Equal("No actual-vs-predicted chart: the run stopped before its test labels were written.\n", section.Markdown());
        Assert.False(File.Exists(Svg));
    }

    [Fact]
    public async Task Without_predictions_there_is_no_chart_and_the_line_names_where_they_were_expected()
    {
        WriteLabels(series: 2);

        var section = await WriteAsync(Output);

        Assert.Empty(section.Shown);
        Assert.Contains($"no predictions under {PredictionsUri}", section.Markdown());
        Assert.False(File.Exists(Svg));
    }

    [Fact]
    public async Task Unreadable_data_is_reported_in_the_line_instead_of_thrown()
    {
        Write(S3, LabelsUri, "labels.csv", "only,three,fields\n", gzip: false);

        var section = await WriteAsync(Output);

        Assert.Contains("UnreadableForecastData: s3://work/runs/r/test-labels/labels.csv line 1: 3 fields, expected 8.", section.Markdown());
    }
}
