using System.Globalization;
using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Data.Tests.Sql;

/// <summary>The data stages on the real files (../shared), when present.</summary>
public class RealDataTests
{
    [RealDataFact]
    public async Task Real_files_pass_quality_and_split_into_the_documented_periods()
    {
        using var workspace = new Workspace();
        workspace.Stages.Upload(RealData.Folder!, "real");
        var run = await workspace.Stages.RunRequestAsync("real", "run-real");

        var verdict = await workspace.Stages.QualityAsync(run);
        Assert.True(verdict.Passed, verdict.Summary);
        Assert.StartsWith("Data quality passed: 421,570 sales rows, 143 weeks 2010-02-05..2012-10-26", verdict.Summary);

        await workspace.Stages.QueryAsync(SqlQuery.Features, run);
        foreach (var split in Local.Athena.LocalDataStages.Splits) await workspace.Stages.QueryAsync(split, run);

        var test = workspace.ReadCsv(run.Output.TestFeaturesUri);
        var labels = workspace.ReadCsv(run.Output.TestLabelsUri);
        var forecast = workspace.ReadCsv(run.Output.ForecastFeaturesUri);
        var dates = test.Select(r => r[0].Split('_')[2]).Distinct().Order().ToList();
        Assert.Equal(("2012-05-04", "2012-10-26", 26), (dates[0], dates[^1], dates.Count));
        // Every sales row of the last 26 weeks is a test row.
        Assert.Equal(76_903, test.Count);
        Assert.Equal(test.Count, labels.Count);
        var forecastDates = forecast.Select(r => r[0].Split('_')[2]).Distinct().Order().ToList();
        Assert.Equal(("2012-11-02", "2013-07-26", 39), (forecastDates[0], forecastDates[^1], forecastDates.Count));

        // Store 1, Dept 1, 2012-09-07 (Labor Day): the real values.
        var label = labels.Single(r => r[0] == "1_1_2012-09-07");
        Assert.Equal(18322.37, double.Parse(label[1], CultureInfo.InvariantCulture), 2);
        Assert.Equal(("5", 17746.68), (label[2], double.Parse(label[3], CultureInfo.InvariantCulture))); // sales of 09/09/2011
        var features = test.Single(r => r[0] == "1_1_2012-09-07");
        string Feature(string name) => features[1 + DataCatalog.FeatureColumns.Select(c => c.Name).ToList().IndexOf(name)];
        Assert.Equal(("0", "151315", "9", "1", "1"), (Feature("store_type"), Feature("store_size"), Feature("month"), Feature("labor_day"), Feature("is_holiday")));
        Assert.Equal(83.96, double.Parse(Feature("temperature"), CultureInfo.InvariantCulture), 2);

        // Train rows: every sales row before the validation weeks with 13 weeks of history and a $500 scale.
        Assert.Equal(171_193, workspace.ReadCsv(run.Output.TrainUri).Count);
        Assert.Equal(68_599, workspace.ReadCsv(run.Output.ValidationUri).Count);
    }
}
