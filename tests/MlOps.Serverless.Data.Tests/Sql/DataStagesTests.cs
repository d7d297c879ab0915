using System.Globalization;
using System.Text.Json.Nodes;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Sample;

namespace MlOps.Serverless.Data.Tests.Sql;

public class DataStagesTests(DataStagesFixture fixture) : IClassFixture<DataStagesFixture>
{
    private static readonly DateOnly FirstWeek = new(2010, 2, 5);
    private static DateOnly Week(int index) => FirstWeek.AddDays(7 * index);

    private IReadOnlyList<string[]> Rows(Func<Core.Runs.OutputLocations, string> uri) => fixture.Workspace.ReadCsv(uri(fixture.Run.Output));

    private static DateOnly DateOfRecord(string recordId) => DateOnly.ParseExact(recordId.Split('_')[2], "yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public void Generated_sample_passes_the_quality_verdict()
    {
        Assert.True(fixture.Verdict.Passed, fixture.Verdict.Summary);
        Assert.Empty(fixture.Verdict.HardFailures);
        Assert.Contains("143 weeks 2010-02-05..2012-10-26", fixture.Verdict.Summary);
        Assert.True(File.Exists(fixture.Workspace.PathOf(fixture.Verdict.ReportUri)));
    }

    [Fact]
    public void Test_is_the_last_26_sales_weeks_and_validation_the_26_before()
    {
        var test = Rows(o => o.TestFeaturesUri).Select(r => DateOfRecord(r[0])).ToList();
        var labels = Rows(o => o.TestLabelsUri);

        Assert.Equal(Week(143 - 26), test.Min());
        Assert.Equal(Week(142), test.Max());
        Assert.Equal(26, test.Distinct().Count());
        Assert.Equal(test.Count, labels.Count);
        // Every sales row of the test weeks is a test row.
        var salesRowsInTest = fixture.Sample.Sales.Split("\r\n").Skip(1)
            .Count(l => DateOnly.ParseExact(l.Split(',')[2], "dd/MM/yyyy", CultureInfo.InvariantCulture) >= Week(117));
        Assert.Equal(salesRowsInTest, test.Count);
    }

    [Fact]
    public void Train_and_validation_are_label_then_wmae_weight_csv_with_every_feature_column()
    {
        var train = Rows(o => o.TrainUri);
        var validation = Rows(o => o.ValidationUri);

        Assert.NotEmpty(train);
        Assert.NotEmpty(validation);
        Assert.All(train.Concat(validation), r => Assert.Equal(2 + DataCatalog.FeatureColumns.Count, r.Length));
        Assert.All(train.Concat(validation), r => double.Parse(r[0], CultureInfo.InvariantCulture));
        // The second column is the instance weight (csv_weights=1): WMAE's 5 for holiday weeks, 1 otherwise.
        var holiday = Index("is_holiday") + 2;
        Assert.All(train.Concat(validation), r => Assert.Equal(r[holiday] == "1" ? "5" : "1", r[1]));
        Assert.Contains(train, r => r[1] == "5");
        // Validation rows are the 26 weeks before the test weeks: read their week from the calendar columns.
        var year = Index("year") + 2;
        var week = Index("week_of_year") + 2;
        var validationWeeks = validation.Select(r => (r[year], r[week])).Distinct().Count();
        Assert.Equal(26, validationWeeks);
    }

    [Fact]
    public void Train_and_validation_are_written_uncompressed_because_file_mode_delivers_objects_as_stored()
    {
        foreach (var prefix in new[] { fixture.Run.Output.TrainUri, fixture.Run.Output.ValidationUri })
        {
            var files = Directory.GetFiles(fixture.Workspace.PathOf(prefix), "*", SearchOption.AllDirectories); // shard=k/ folders
            Assert.NotEmpty(files);
            Assert.All(files, f => Assert.False(File.ReadAllBytes(f) is [0x1f, 0x8b, ..], $"{f} is gzip-compressed"));
        }
    }

    [Fact]
    public void Forecast_features_cover_the_feature_weeks_after_the_last_sales_week()
    {
        var forecast = Rows(o => o.ForecastFeaturesUri).Select(r => DateOfRecord(r[0])).ToList();

        Assert.Equal(Week(143), forecast.Min());
        Assert.Equal(Week(143 + 38), forecast.Max());
        Assert.All(Rows(o => o.ForecastFeaturesUri), r => Assert.Equal(1 + DataCatalog.FeatureColumns.Count, r.Length));
    }

    private static int Index(string column) => DataCatalog.FeatureColumns.Select(c => c.Name).ToList().IndexOf(column);

    private Dictionary<string, string> TestRow(string recordId)
    {
        var row = Rows(o => o.TestFeaturesUri).Single(r => r[0] == recordId);
        return DataCatalog.FeatureColumns.Select((c, i) => (c.Name, row[i + 1])).ToDictionary(p => p.Name, p => p.Item2);
    }

    private double Sales(int store, int dept, DateOnly week) =>
        fixture.Sample.Sales.Split("\r\n").Skip(1).Select(l => l.Split(','))
            .Where(f => f[0] == store.ToString(CultureInfo.InvariantCulture) && f[1] == dept.ToString(CultureInfo.InvariantCulture)
                        && f[2] == week.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture))
            .Select(f => double.Parse(f[3], CultureInfo.InvariantCulture)).Single();

    [Fact]
    public void Lag_52_is_the_sales_of_the_same_week_a_year_earlier_relative_to_the_label_scale()
    {
        var week = Week(130);
        var recordId = $"1_1_{week:yyyy-MM-dd}";
        var features = TestRow(recordId);
        var label = Rows(o => o.TestLabelsUri).Single(r => r[0] == recordId);
        var scale = double.Parse(label[4], CultureInfo.InvariantCulture);

        Assert.Equal(Sales(1, 1, week.AddDays(-364)), double.Parse(label[3], CultureInfo.InvariantCulture), 2);
        Assert.Equal(Sales(1, 1, week.AddDays(-364)) / scale, double.Parse(features["r_lag52"], CultureInfo.InvariantCulture), 4);
        Assert.Equal(Sales(1, 1, week), double.Parse(label[1], CultureInfo.InvariantCulture), 2);
        // Test rows all see the same origin: the last validation week, 13 weeks before week 130.
        Assert.Equal("14", features["horizon"]);
    }

    [Fact]
    public void Growth26_is_the_origins_26_week_level_over_the_same_26_weeks_a_year_earlier()
    {
        // Test rows' origin is week 116 (the last validation week): levels over weeks 91..116 and 39..64.
        var features = TestRow($"1_1_{Week(130):yyyy-MM-dd}");
        double Level(int from, int to) => Enumerable.Range(from, to - from + 1).Select(w => SalesOrNull(1, 1, Week(w)))
            .Where(v => v is not null).Average(v => v!.Value);
        var expected = Math.Clamp(Level(91, 116) / Level(39, 64), -10, 10);

        Assert.Equal(expected, double.Parse(features["growth26"], CultureInfo.InvariantCulture), 4);
        Assert.NotEqual(double.Parse(features["growth"], CultureInfo.InvariantCulture), double.Parse(features["growth26"], CultureInfo.InvariantCulture));
    }

    private double? SalesOrNull(int store, int dept, DateOnly week) =>
        fixture.Sample.Sales.Split("\r\n").Skip(1).Select(l => l.Split(','))
            .Where(f => f[0] == store.ToString(CultureInfo.InvariantCulture) && f[1] == dept.ToString(CultureInfo.InvariantCulture)
                        && f[2] == week.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture))
            .Select(f => (double?)double.Parse(f[3], CultureInfo.InvariantCulture)).SingleOrDefault();

    [Fact]
    public void Calendar_holiday_and_markdown_features_come_from_the_parsed_day_first_dates()
    {
        var features = TestRow("1_1_2012-09-07"); // Labor Day week; DD/MM would read 09/07 as 9 July
        Assert.Equal(("2012", "9", "1", "1", "0"), (features["year"], features["month"], features["is_holiday"], features["labor_day"], features["christmas"]));
        var rawFeatures = fixture.Sample.Features.Split("\r\n").Single(l => l.StartsWith("1,07/09/2012,", StringComparison.Ordinal)).Split(',');
        Assert.Equal(rawFeatures[4] == "NA" ? 0 : double.Parse(rawFeatures[4], CultureInfo.InvariantCulture),
            double.Parse(features["markdown1"], CultureInfo.InvariantCulture));
        Assert.Equal("1", features["markdown_active"]);
    }

    [Fact]
    public void Missing_markdowns_are_zero_and_inactive_before_november_2011()
    {
        var train = Rows(o => o.TrainUri);
        // Train rows: label, weight, then the features.
        var early = train.Where(r => r[Index("year") + 2] == "2010").ToList();

        Assert.NotEmpty(early);
        Assert.All(early, r => Assert.Equal((0.0, "0"), (double.Parse(r[Index("markdown1") + 2], CultureInfo.InvariantCulture), r[Index("markdown_active") + 2])));
    }

    [Fact]
    public void Cpi_and_unemployment_carry_the_last_known_value_forward()
    {
        var forecast = Rows(o => o.ForecastFeaturesUri).Where(r => r[0].StartsWith("1_1_", StringComparison.Ordinal))
            .OrderBy(r => DateOfRecord(r[0])).ToList();
        var lastKnown = fixture.Sample.Features.Split("\r\n").Skip(1).Select(l => l.Split(','))
            .Where(f => f[0] == "1" && f[9] != "NA").Last();

        var last = forecast[^1];
        Assert.Equal(double.Parse(lastKnown[9], CultureInfo.InvariantCulture), double.Parse(last[Index("cpi") + 1], CultureInfo.InvariantCulture), 6);
        Assert.Equal(double.Parse(lastKnown[10], CultureInfo.InvariantCulture), double.Parse(last[Index("unemployment") + 1], CultureInfo.InvariantCulture), 6);
    }

    [Fact]
    public async Task Evaluation_scores_challenger_champion_and_naive_on_the_same_rows_on_the_weekly_sales_scale()
    {
        // Challenger predictions equal to the naive value (in label units) must score exactly the naive metrics.
        var labels = Rows(o => o.TestLabelsUri);
        var predictions = fixture.Workspace.PathOf(fixture.Run.Output.PredictionsUri + "test_features.csv.gz.out");
        Directory.CreateDirectory(Path.GetDirectoryName(predictions)!);
        static double D(string text) => double.Parse(text, CultureInfo.InvariantCulture);
        static string R(double value) => value.ToString("R", CultureInfo.InvariantCulture);
        await File.WriteAllLinesAsync(predictions, labels.Select(l => $"{l[0]},{R(D(l[3]) / D(l[4]))}"));

        async Task<Dictionary<string, string?>> EvaluateAsync()
        {
            var results = await fixture.Workspace.Stages.ResultsAsync(await fixture.Workspace.Stages.QueryAsync(SqlQuery.Evaluation, fixture.Run));
            var header = results.Rows[0].Data.Select(d => d.VarCharValue!).ToList();
            Assert.Equal(["wmae", "rmse", "mae", "naive_wmae", "naive_rmse", "naive_mae", "rows", "champion_wmae", "champion_rmse", "champion_mae", "champion_rows"], header);
            return header.Zip(results.Rows[1].Data, (name, cell) => (name, cell.VarCharValue)).ToDictionary(p => p.name, p => p.VarCharValue);
        }

        // No champion scored: its metrics are NULL, and it covered no rows.
        var alone = await EvaluateAsync();
        Assert.Equal(D(alone["naive_wmae"]!), D(alone["wmae"]!), 6);
        Assert.Equal(D(alone["naive_rmse"]!), D(alone["rmse"]!), 6);
        Assert.Equal(labels.Count, int.Parse(alone["rows"]!, CultureInfo.InvariantCulture));
        Assert.True(D(alone["naive_wmae"]!) > 0);
        Assert.Equal((null, null, "0"), (alone["champion_wmae"], alone["champion_mae"], alone["champion_rows"]));

        // A champion that predicted only some of the rows gets no figures: they would not be the same rows.
        var champion = fixture.Workspace.PathOf(fixture.Run.Output.ChampionPredictionsUri + "test_features.csv.gz.out");
        Directory.CreateDirectory(Path.GetDirectoryName(champion)!);
        await File.WriteAllLinesAsync(champion, labels.Skip(1).Select(l => $"{l[0]},{R(D(l[1]) / D(l[4]))}"));
        var partial = await EvaluateAsync();
        Assert.Equal((labels.Count - 1).ToString(CultureInfo.InvariantCulture), partial["champion_rows"]);
        Assert.Null(partial["champion_wmae"]);

        // A champion that predicted every row exactly (actual / scale) scores 0 on those rows; the challenger's figures do not move.
        await File.WriteAllLinesAsync(champion, labels.Select(l => $"{l[0]},{R(D(l[1]) / D(l[4]))}"));
        var both = await EvaluateAsync();
        Assert.Equal(labels.Count.ToString(CultureInfo.InvariantCulture), both["champion_rows"]);
        Assert.Equal(0, D(both["champion_wmae"]!), 3);
        Assert.Equal(0, D(both["champion_rmse"]!), 3);
        Assert.Equal(alone["wmae"], both["wmae"]);
        Assert.Equal(alone["rows"], both["rows"]);
        File.Delete(champion);
    }
}

/// <summary>Leakage: nothing inside the test horizon may change a test row's features.</summary>
public class LeakageTests
{
    [Fact]
    public async Task Changing_sales_inside_the_test_horizon_changes_no_test_feature()
    {
        var options = new SampleDataOptions { Stores = 3, Departments = 4 };
        var sample = SampleDataGenerator.Generate(options);
        var testStart = options.FirstWeek.AddDays(7 * (options.SalesWeeks - 26));
        // Multiply every test-week sale by 10 (and make some negative) in a second batch.
        var altered = string.Join("\r\n", sample.Sales.Split("\r\n").Select((line, i) =>
        {
            if (i == 0) return line;
            var f = line.Split(',');
            var date = DateOnly.ParseExact(f[2], "dd/MM/yyyy", CultureInfo.InvariantCulture);
            if (date < testStart) return line;
            f[3] = (double.Parse(f[3], CultureInfo.InvariantCulture) * (i % 3 == 0 ? -10 : 10)).ToString("0.##", CultureInfo.InvariantCulture);
            return string.Join(',', f);
        }));

        using var workspace = new Workspace();
        var original = await RunFeatures(workspace, "original", sample);
        var changed = await RunFeatures(workspace, "altered", sample with { Sales = altered });

        Assert.Equal(original.Count, changed.Count);
        Assert.Equal(original, changed);
    }

    private static async Task<List<string>> RunFeatures(Workspace workspace, string batch, SampleDataSet data)
    {
        var run = await workspace.UploadAsync(batch, data);
        await workspace.Stages.QueryAsync(SqlQuery.Features, run);
        await workspace.Stages.QueryAsync(SqlQuery.SplitTestFeatures, run);
        return workspace.ReadCsv(run.Output.TestFeaturesUri).Select(r => string.Join(',', r)).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task Split_sizes_follow_the_run_configuration()
    {
        using var workspace = new Workspace();
        var run = await workspace.UploadAsync("short", SampleDataGenerator.Generate(new SampleDataOptions { Stores = 2, Departments = 3 }),
            new JsonObject { ["split.testWeeks"] = 10, ["split.validationWeeks"] = 8 });
        await workspace.Stages.QueryAsync(SqlQuery.Features, run);
        await workspace.Stages.QueryAsync(SqlQuery.SplitTestFeatures, run);

        var dates = workspace.ReadCsv(run.Output.TestFeaturesUri).Select(r => r[0].Split('_')[2]).Distinct().Order().ToList();

        Assert.Equal(10, dates.Count);
        Assert.Equal("2012-08-24", dates[0]);
        Assert.Equal("2012-10-26", dates[^1]);
    }
}
