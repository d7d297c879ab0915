using System.Text.Json.Nodes;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Local.Reporting;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Tests.Reporting;

public sealed class OutcomeSectionsTests
{
    private static ForecastSeries Series(int store, params (double Actual, double Predicted, double Naive, double Weight)[] weeks) =>
        new(store, 1, weeks.Select((w, i) => new ForecastPoint(new DateOnly(2012, 10, 5).AddDays(7 * i), w.Actual, w.Predicted, w.Naive, w.Weight)).ToList());

    [Fact]
    public void Each_series_adds_its_weighted_errors_over_all_weights_to_WMAE_and_the_parts_sum_to_it()
    {
        var big = Series(1, (1000, 900, 1000, 1), (1000, 1000, 500, 5));   // |e| 100 w1, 0 w5
        var small = Series(2, (10, 40, 10, 1), (10, 10, 20, 1));           // |e| 30 w1, 0 w1
        var section = new TestWeeksSection([big, small], null);

        var errors = section.Errors().ToDictionary(e => e.Series.Store);

        Assert.Equal(100.0 / 8, errors[1].WmaeContribution, 9);
        Assert.Equal(30.0 / 8, errors[2].WmaeContribution, 9);
        Assert.Equal((100.0 + 30) / 8, errors.Values.Sum(e => e.WmaeContribution), 9);
        Assert.Equal(1, errors[1].SizeRank);
        // big: model WMAE 100/6 vs naive 2500/6; small: 30/2 vs 10/2.
        Assert.Equal(0.04, errors[1].RatioToNaive!.Value, 9);
        Assert.Equal(3.0, errors[2].RatioToNaive!.Value, 9);
        Assert.Contains("The model beats the naive in 1 of 2 series (50.0%)", section.Markdown());
    }

    [Fact]
    public void The_total_per_week_sums_every_series_over_the_scored_rows_only()
    {
        var a = Series(1, (100, 90, 80, 1), (200, double.NaN, 150, 1));
        var b = Series(2, (10, 11, 12, 1), (20, 21, 22, 1));

        var totals = new TestWeeksSection([a, b], null).Totals();

        Assert.Equal([(110.0, 101.0, 92.0), (20.0, 21.0, 22.0)], totals.Points.Select(p => (p.Actual, p.Predicted, p.Naive)));
    }

    [Fact]
    public void The_ratio_histogram_counts_each_value_in_the_bin_below_its_upper_edge()
    {
        Assert.Equal([1, 2, 0, 1], RatioHistogram.Counts([0.1, 0.5, 0.99, 2.5, double.NaN], [0.5, 1.0, 2.0]));
    }

    [Fact]
    public void Forecast_rows_are_summed_per_week_and_the_largest_changes_against_last_year_come_first_either_way()
    {
        var rows = new[]
        {
            SalesForecast.Parse("1,1,2012-11-02,100.5,90,0", "x"), SalesForecast.Parse("1,1,2012-11-09,100,100,1", "x"),
            SalesForecast.Parse("2,5,2012-11-02,50,400,0", "x"), SalesForecast.Parse("3,7,2012-11-02,300,100,0", "x"),
        };

        Assert.Equal([(450.5, 590.0), (100.0, 100.0)], SalesForecast.Totals(rows).Points.Select(p => (p.Predicted, p.Naive)));
        Assert.Equal([(2, -350.0), (3, 200.0), (1, 10.5)], SalesForecast.LargestChanges(rows, 3).Select(c => (c.Store, c.Change)));
        Assert.StartsWith(SalesForecast.Header + "\n1,1,2012-11-02,100.50,90.00,0\n", SalesForecast.Csv(rows));
        Assert.Throws<UnreadableForecastData>(() => SalesForecast.Parse("1,1,2012-11-02,12x,90,0", "f line 3"));
    }

    [Fact]
    public void A_local_failure_in_a_Parallel_branch_names_the_branch_state_as_the_deployed_notifier_does()
    {
        var t = DateTimeOffset.UnixEpoch;
        ExecutionEvent State(string type, string state, string stateType, string? error = null) => new(type, t, state, stateType, null, null, error, error is null ? null : "c", null);
        var execution = new ExecutionResult("FAILED", null, "States.TaskFailed", "{\"errorMessage\":\"boom\"}",
        [
            new ExecutionEvent("ExecutionStarted", t, null, null, null, null, null, null, null),
            State("StateEntered", "SplitData", "Parallel"), State("StateEntered", "SplitTest", "Task"), State("StateEntered", "SplitTrain", "Task"),
            State("StateExited", "SplitTest", "Task"),
            State("StateFailed", "SplitTrain", "Task", "States.TaskFailed"), State("StateRetried", "SplitTrain", "Task"),
            State("StateEntered", "SplitTrain", "Task"), State("StateFailed", "SplitTrain", "Task", "States.TaskFailed"),
            State("StateFailed", "SplitData", "Parallel", "States.TaskFailed"),
            new ExecutionEvent("ExecutionFailed", t, null, null, null, null, "States.TaskFailed", "{\"errorMessage\":\"boom\"}", null),
        ]);

        Assert.Equal("Failed at SplitTrain: States.TaskFailed: boom", RunFailure.From(execution)!.Line);
        Assert.Equal("boom", (string?)RunFailure.From(execution)!.ToJson()["cause"]!["errorMessage"]);
        // AWS enters a retried state once: its attempts are TaskFailed events of the one entry.
        var events = ExecutionHistory.ToSdkEvents(execution);
        Assert.Single(events, e => (string?)e!["Type"] == "TaskStateEntered" && (string?)e["StateEnteredEventDetails"]!["Name"] == "SplitTrain");
        Assert.Equal(2, events.Count(e => (string?)e!["Type"] == "TaskFailed"));
    }
}
