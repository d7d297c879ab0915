using System.IO.Compression;
using System.Text;
using MlOps.Serverless.Local.Reporting;
using MlOps.Serverless.Local.S3;

namespace MlOps.Serverless.Local.Tests.Reporting;

public sealed class ForecastSeriesReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("mlops-forecast-").FullName;
    private LocalFolderObjectStore Store => new(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    internal const string LabelsUri = "s3://work/runs/r/test-labels/";
    internal const string PredictionsUri = "s3://work/runs/r/predictions/";

    internal static void Write(string root, string uri, string file, string text, bool gzip)
    {
        var path = Path.Combine(root, uri["s3://".Length..], file);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var output = File.Create(path);
        using Stream target = gzip ? new GZipStream(output, CompressionLevel.Fastest) : output;
        target.Write(Encoding.UTF8.GetBytes(text));
    }

    [Fact]
    public async Task Reads_gzip_and_plain_files_by_content_not_name_and_scales_predictions_to_dollars()
    {
        // Names contradict the content on purpose: gzip is detected by magic bytes.
        Write(_root, LabelsUri, "part-0.csv", "1_8_2012-10-26,22419.02,1,24091.45,23000,1,8,2012-10-26\n", gzip: true);
        Write(_root, LabelsUri, "part-1.csv.gz", "1_8_2012-11-02,20000,5,21000,23000,1,8,2012-11-02\n\n2_3_2012-10-26,300,1,310,100,2,3,2012-10-26\n", gzip: false);
        Write(_root, PredictionsUri, "test_features.csv.gz.out", "2_3_2012-10-26,3.5\n1_8_2012-10-26,0.98884976\n", gzip: false);
        Write(_root, PredictionsUri, "part-2.out", "1_8_2012-11-02,0.9\n", gzip: true);
        Write(_root, PredictionsUri, "manifest.json", "{not a prediction}", gzip: false);

        var series = await ForecastSeriesReader.ReadAsync(Store, LabelsUri, PredictionsUri);

        Assert.Equal([(1, 8), (2, 3)], series.Select(s => (s.Store, s.Dept)));
        var big = series[0].Points;
        Assert.Equal([new DateOnly(2012, 10, 26), new DateOnly(2012, 11, 2)], big.Select(p => p.Date));
        Assert.Equal(0.98884976 * 23000, big[0].Predicted, 9);
        Assert.Equal(0.9 * 23000, big[1].Predicted, 9);
        Assert.Equal((22419.02, 24091.45, 1.0), (big[0].Actual, big[0].Naive, big[0].Weight));
        Assert.Equal((20000.0, 21000.0, 5.0), (big[1].Actual, big[1].Naive, big[1].Weight));
        Assert.Equal(350, series[1].Points.Single().Predicted, 9);
    }

    [Fact]
    public async Task No_files_under_the_prefixes_reads_as_no_series() =>
        Assert.Empty(await ForecastSeriesReader.ReadAsync(Store, LabelsUri, PredictionsUri));

    [Fact]
    public async Task A_malformed_label_names_the_object_the_line_and_the_column()
    {
        Write(_root, LabelsUri, "part-0.csv", "a,1,1,1,1,1,1,2012-10-26\nb,lots,1,1,1,1,1,2012-11-02\n", gzip: false);

        var error = await Assert.ThrowsAsync<UnreadableForecastData>(() => ForecastSeriesReader.ReadAsync(Store, LabelsUri, PredictionsUri));

        Assert.Equal("s3://work/runs/r/test-labels/part-0.csv line 2: weekly_sales 'lots' is not a number.", error.Message);
    }

    [Fact]
    public void A_prediction_line_with_extra_fields_is_rejected() =>
        Assert.Contains("3 fields, expected 2", Assert.Throws<UnreadableForecastData>(() => ForecastSeriesReader.ParsePrediction("a,1,2", "here")).Message);

    private static TestLabel Label(string id, int store, int dept, int week, double sales, double scale = 10, double weight = 1, double naive = 0) =>
        new(id, sales, weight, naive, scale, store, dept, new DateOnly(2012, 10, 26).AddDays(7 * week));

    [Fact]
    public void Predictions_join_on_record_id_and_a_label_without_one_keeps_a_NaN_forecast()
    {
        var labels = new[] { Label("c", 1, 1, 2, 30), Label("a", 1, 1, 0, 10), Label("b", 1, 1, 1, 20, scale: 2) };
        var predictions = new Dictionary<string, double> { ["a"] = 1.5, ["b"] = 7, ["zzz"] = 99 };

        var points = ForecastSeriesReader.Join(labels, predictions).Single().Points;

        Assert.Equal([10.0, 20, 30], points.Select(p => p.Actual));
        Assert.Equal(15, points[0].Predicted);
        Assert.Equal(14, points[1].Predicted);
        Assert.True(double.IsNaN(points[2].Predicted));
    }

    [Fact]
    public void Series_errors_are_weighted_and_compare_model_and_naive_on_the_same_weeks()
    {
        var labels = new[]
        {
            Label("a", 1, 1, 0, 100, scale: 1, weight: 1, naive: 90),   // model error 10, naive 10
            Label("b", 1, 1, 1, 100, scale: 1, weight: 5, naive: 50),   // model error 4, naive 50 (holiday week)
            Label("c", 1, 1, 2, 100, scale: 1, weight: 1, naive: 0),    // no prediction: in neither error
        };
        var series = ForecastSeriesReader.Join(labels, new Dictionary<string, double> { ["a"] = 110, ["b"] = 96 }).Single();

        Assert.Equal((10 + 5 * 4) / 6.0, series.Wmae!.Value, 9);
        Assert.Equal((10 + 5 * 50) / 6.0, series.NaiveWmae!.Value, 9);
        Assert.Null(ForecastSeriesReader.Join(labels, new Dictionary<string, double>()).Single().Wmae);
    }

    [Fact]
    public void The_largest_series_are_those_with_the_most_actual_sales_ties_to_the_lower_store_then_dept()
    {
        var labels = new[]
        {
            Label("1", 1, 1, 0, 10), Label("2", 1, 1, 1, 10),   // 20
            Label("3", 2, 1, 0, 50),                            // 50
            Label("4", 3, 2, 0, 20),                            // 20, tie with (1,1) and (3,1)
            Label("5", 3, 1, 0, 20),
            Label("6", 4, 1, 0, 5),
        };

        var largest = ForecastSeriesReader.Largest(ForecastSeriesReader.Join(labels, new Dictionary<string, double>()), 3);

        Assert.Equal([(2, 1), (1, 1), (3, 1)], largest.Select(s => (s.Store, s.Dept)));
    }
}
