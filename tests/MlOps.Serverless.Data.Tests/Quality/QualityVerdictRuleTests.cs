using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Data.Quality;
using MlOps.Serverless.Data.Sample;

namespace MlOps.Serverless.Data.Tests.Quality;

/// <summary>The verdict's rules against hand-written measurements (the files themselves are a clean sample).</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xUnit disposes it in IAsyncLifetime.DisposeAsync")]
public class QualityVerdictRuleTests : IAsyncLifetime
{
    private readonly Workspace _workspace = new();
    private RunRequest _run = null!;

    public async Task InitializeAsync() =>
        _run = await _workspace.UploadAsync("rules", SampleDataGenerator.Generate(new SampleDataOptions { Stores = 2, Departments = 2 }));

    public Task DisposeAsync()
    {
        _workspace.Dispose();
        return Task.CompletedTask;
    }

    private static AthenaResultSet ResultSet(params (string Metric, string Dataset, string? Column, string? Value, string? Examples)[] rows)
    {
        string?[] header = ["metric", "dataset", "column_name", "value", "examples"];
        return new AthenaResultSet(
            [.. new[] { header }.Concat(rows.Select(r => new[] { r.Metric, r.Dataset, r.Column, r.Value, r.Examples }))
                .Select(values => new AthenaRow(values.Select(v => new AthenaDatum(v)).ToList()))],
            new AthenaResultSetMetadata(header.Select(h => new AthenaColumnInfo(h!, "varchar")).ToList()));
    }

    private static (string, string, string?, string?, string?)[] Healthy(double salesRows = 100_000, double negatives = 10, double duplicates = 0) =>
    [
        ("rows", "sales", null, salesRows.ToString(System.Globalization.CultureInfo.InvariantCulture), null),
        ("rows", "features", null, "5000", null),
        ("rows", "stores", null, "45", null),
        ("weeks", "sales", "Date", "143.0", "2010-02-05..2012-10-26"),
        ("negative_sales", "sales", "Weekly_Sales", negatives.ToString(System.Globalization.CultureInfo.InvariantCulture), null),
        ("duplicate_keys", "sales", "Store,Dept,Date", duplicates.ToString(System.Globalization.CultureInfo.InvariantCulture), duplicates > 0 ? "Store=1 Dept=1 Date=05/02/2010 (2 rows)" : null),
        ("null_rate", "features", "MarkDown1", "0.5", null),
        ("zero_sales", "sales", "Weekly_Sales", null, null),
    ];

    private Task<QualityVerdictOutput> Evaluate(AthenaResultSet results, DataQualitySettings? settings = null) =>
        new QualityVerdict(_workspace.Stages.Store).EvaluateAsync(new QualityVerdictInput(
            _run with { Config = _run.Config with { DataQuality = settings ?? new DataQualitySettings() } }, results));

    [Fact]
    public async Task Healthy_measurements_pass_with_a_summary()
    {
        var verdict = await Evaluate(ResultSet(Healthy()));

        Assert.True(verdict.Passed);
        Assert.Equal("Data quality passed: 100,000 sales rows, 143 weeks 2010-02-05..2012-10-26; 0 hard failure(s), 0 warning(s).", verdict.Summary);
        Assert.Equal(_run.Output.QualityUri + "report.json", verdict.ReportUri);
    }

    [Fact]
    public async Task Negative_sales_above_the_configured_rate_are_a_warning_only()
    {
        var verdict = await Evaluate(ResultSet(Healthy(negatives: 2_000)));

        var warning = Assert.Single(verdict.Warnings);
        Assert.Equal(("negative_sales", "2,000 rows (2%)", "1%"), (warning.Rule, warning.Measured, warning.Threshold));
    }

    [Fact]
    public async Task The_duplicate_threshold_comes_from_the_configuration()
    {
        var lenient = await Evaluate(ResultSet(Healthy(duplicates: 3)), new DataQualitySettings { MaxDuplicateSalesKeys = 5 });
        Assert.True(lenient.Passed);

        var error = await Assert.ThrowsAsync<DataQualityFailed>(() => Evaluate(ResultSet(Healthy(duplicates: 3))));
        Assert.Contains("3 duplicate row(s) for the key (Store,Dept,Date), e.g. Store=1 Dept=1 Date=05/02/2010 (2 rows)", error.Message);
    }

    [Fact]
    public async Task Too_few_sales_rows_fail_with_the_measured_value()
    {
        var error = await Assert.ThrowsAsync<DataQualityFailed>(() => Evaluate(ResultSet(Healthy(salesRows: 500))));

        Assert.Contains("[min_sales_rows]", error.Message);
        Assert.Contains("500 sales rows, at least 1,000 required", error.Message);
    }

    [Fact]
    public async Task Fewer_weeks_than_test_plus_validation_plus_training_fail()
    {
        var rows = Healthy().Select(r => r.Item1 == "weeks" ? ("weeks", "sales", "Date", "52", "2011-10-28..2012-10-26") : r).ToArray();

        var error = await Assert.ThrowsAsync<DataQualityFailed>(() => Evaluate(ResultSet(rows), new DataQualitySettings { MinSalesWeeks = 10 }));

        Assert.Contains("52 distinct sales weeks (2011-10-28..2012-10-26); at least 53 needed", error.Message);
    }

    [Fact]
    public async Task A_null_rate_above_the_threshold_is_a_warning_naming_the_column()
    {
        var verdict = await Evaluate(ResultSet(Healthy()), new DataQualitySettings { WarnNullRate = 0.4 });

        var warning = Assert.Single(verdict.Warnings);
        Assert.Equal(("null_rate", "MarkDown1", "50%"), (warning.Rule, warning.Column, warning.Measured));
    }

    [Fact]
    public void Measurements_are_read_by_column_name_and_the_header_row_is_skipped()
    {
        var measurements = QualityVerdict.ParseMeasurements(ResultSet(Healthy()));

        Assert.Equal(8, measurements.Count);
        Assert.Equal(new QualityMeasurement("zero_sales", "sales", "Weekly_Sales", null, null), measurements[^1]);
        Assert.Equal(143, measurements.Single(m => m.Metric == "weeks").Value);
    }

    [Fact]
    public void A_result_set_of_another_query_is_rejected_as_invalid_stage_input()
    {
        var results = new AthenaResultSet([new AthenaRow([new AthenaDatum("wmae")])], new AthenaResultSetMetadata([new AthenaColumnInfo("wmae", "double")]));

        var error = Assert.Throws<InvalidStageInput>(() => QualityVerdict.ParseMeasurements(results));
        Assert.Contains("expected [metric, dataset, column_name, value, examples]", error.Message);
    }
}
