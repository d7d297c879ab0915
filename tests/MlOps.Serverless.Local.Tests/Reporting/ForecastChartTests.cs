using System.Xml.Linq;
using MlOps.Serverless.Local.Reporting;

namespace MlOps.Serverless.Local.Tests.Reporting;

public sealed class ForecastChartTests
{
    private static readonly DateOnly Week0 = new(2012, 10, 26);

    private static ForecastPoint Point(int week, double actual, double predicted = 50, double naive = 50) =>
        new(Week0.AddDays(7 * week), actual, predicted, naive, 1);

    private static ForecastSeries Series(int store, int dept, params ForecastPoint[] points) => new(store, dept, points);

    private static readonly ForecastSeries Rising = Series(1, 8, Point(0, 0), Point(1, 50), Point(2, 100));

    [Fact]
    public void Dates_map_linearly_across_the_plot_and_the_lowest_value_sits_on_its_bottom_edge()
    {
        var plot = ForecastChart.PlotFor(Rising, 0, 0);

        // Plot area: x 64..440 (panel 480 minus margins), y 28..208; values 0..100 is already a round range.
        Assert.Equal("M64,208 L252,118 L440,28", ForecastChart.PathData(plot, Rising.Points, p => p.Actual));
    }

    [Fact]
    public void Each_panel_is_offset_by_its_grid_position_below_the_header()
    {
        var svg = ForecastChart.Svg([Rising, Rising, Rising], "t");

        Assert.Contains($"d=\"M64,264 L252,174 L440,84\" fill=\"none\" stroke=\"{ForecastChart.ActualColour}\"", svg);   // row 0, column 0
        Assert.Contains($"d=\"M544,264 L732,174 L920,84\" fill=\"none\" stroke=\"{ForecastChart.ActualColour}\"", svg);  // row 0, column 1
        Assert.Contains($"d=\"M64,504 L252,414 L440,324\" fill=\"none\" stroke=\"{ForecastChart.ActualColour}\"", svg);  // row 1, column 0
        Assert.Contains("width=\"960\" height=\"536\"", svg);
    }

    [Fact]
    public void A_week_without_a_prediction_breaks_the_model_line()
    {
        var series = Series(1, 1, Point(0, 10, 10), Point(1, 20, double.NaN), Point(2, 30, 30), Point(3, 40, 40));
        var plot = ForecastChart.PlotFor(series, 0, 0);

        var model = ForecastChart.PathData(plot, series.Points, p => p.Predicted);
        var actual = ForecastChart.PathData(plot, series.Points, p => p.Actual);

        Assert.Equal(["M", "M", "L"], model.Split(' ').Select(s => s[..1]));
        Assert.Equal(["M", "L", "L", "L"], actual.Split(' ').Select(s => s[..1]));
    }

    [Fact]
    public void A_missing_week_breaks_every_line_instead_of_bridging_it()
    {
        var series = Series(1, 1, Point(0, 10), Point(1, 20), Point(3, 40));
        var plot = ForecastChart.PlotFor(series, 0, 0);

        Assert.Equal(["M", "L", "M"], ForecastChart.PathData(plot, series.Points, p => p.Actual).Split(' ').Select(s => s[..1]));
        Assert.Equal(["M", "L", "M"], ForecastChart.PathData(plot, series.Points, p => p.Naive).Split(' ').Select(s => s[..1]));
    }

    [Fact]
    public void A_series_with_no_finite_values_still_renders_an_empty_panel()
    {
        var series = Series(3, 4, Point(0, double.NaN, double.NaN, double.NaN));

        var svg = XDocument.Parse(ForecastChart.Svg([series], "t"));

        Assert.DoesNotContain(svg.Descendants(), e => e.Name.LocalName == "path");
        Assert.Contains(svg.Descendants(), e => e.Value == "Store 3 · Dept 4");
    }

    [Fact]
    public void The_svg_is_well_formed_with_an_escaped_title_a_legend_and_one_panel_per_series()
    {
        const string title = "Run <a & \"b\"> vs 'c'";
        var svg = XDocument.Parse(ForecastChart.Svg([Rising, Series(2, 3, Point(0, 5), Point(1, 6))], title));

        var texts = svg.Descendants().Where(e => e.Name.LocalName == "text").Select(e => e.Value).ToList();
        Assert.Equal(title, texts[0]);
        Assert.Contains("naive (same week last year)", texts);
        Assert.Contains("Store 1 · Dept 8", texts);
        Assert.Contains("Store 2 · Dept 3", texts);
        Assert.Contains("2012-10-26", texts);
        Assert.Contains("$100", texts);
        Assert.Equal(2, svg.Root!.Elements().Count(e => e.Name.LocalName == "g"));
        Assert.Single(svg.Descendants(), e => e.Name.LocalName == "path" && (string?)e.Attribute("stroke-dasharray") is not null
            && e.Parent!.Elements().Any(t => t.Value == "Store 2 · Dept 3"));
    }

    [Fact]
    public void A_chart_needs_at_least_one_series() =>
        Assert.Throws<ArgumentException>(() => ForecastChart.Svg([], "t"));

    [Theory]
    [InlineData(0, 100, 0, 100, 50)]
    [InlineData(13, 987, 0, 1000, 500)]
    [InlineData(-1200, 31000, -10000, 40000, 10000)]
    [InlineData(5, 5, 4.5, 5.5, 0.5)]
    public void Axis_ranges_are_round_and_cover_the_values(double min, double max, double niceMin, double niceMax, double step) =>
        Assert.Equal((niceMin, niceMax, step), ForecastChart.NiceRange(min, max));

    [Theory]
    [InlineData(850, "$850")]
    [InlineData(12500, "$12.5k")]
    [InlineData(-1500, "-$1.5k")]
    [InlineData(2_340_000, "$2.34M")]
    public void Axis_dollars_are_compact(double value, string expected) => Assert.Equal(expected, ForecastChart.Dollars(value));
}
