using System.Globalization;
using System.Text;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>
/// Renders a few series as one self-contained SVG of small multiples: per panel the actual sales, the model's
/// forecast and the naive same-week-last-year baseline (dashed), with date and dollar axes. Each panel has its
/// own scales, since the series differ by orders of magnitude.
/// </summary>
public static class ForecastChart
{
    public const int Columns = 2;
    public const double PanelWidth = 480, PanelHeight = 240;
    public const double Header = 56;
    /// <summary>The plot area's margins inside a panel: room for the title, the dollar labels and the dates.</summary>
    public const double Left = 64, Right = 40, Top = 28, Bottom = 32;

    public const string ActualColour = "#222222", ModelColour = "#1f77b4", NaiveColour = "#ff7f0e";

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Svg(IReadOnlyList<ForecastSeries> series, string title)
    {
        if (series.Count == 0) throw new ArgumentException("A chart needs at least one series.", nameof(series));
        var rows = (series.Count + Columns - 1) / Columns;
        var width = PanelWidth * Math.Min(Columns, series.Count);
        var height = Header + PanelHeight * rows;
        var svg = new StringBuilder();
        svg.Append(Invariant, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(Invariant, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append(Invariant, $"<text x=\"{Left}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{Escape(title)}</text>\n");
        Legend(svg, Left, 42, series);
        for (var i = 0; i < series.Count; i++)
            Panel(svg, series[i], PanelWidth * (i % Columns), Header + PanelHeight * (i / Columns));
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>A panel's plot area and its scales for one series: dates on x, dollars on y with a grid line every <see cref="Step"/>.</summary>
    public sealed record Plot(double X0, double X1, double Y0, double Y1, DateOnly First, DateOnly Last, double Min, double Max, double Step)
    {
        public double X(DateOnly date) =>
            Last == First ? (X0 + X1) / 2 : X0 + (X1 - X0) * (date.DayNumber - First.DayNumber) / (Last.DayNumber - First.DayNumber);

        /// <summary>SVG's y grows downwards: <see cref="Min"/> sits on the bottom edge (Y1).</summary>
        public double Y(double value) => Y1 - (Y1 - Y0) * (value - Min) / (Max - Min);
    }

    /// <summary>The plot of a panel whose top-left corner is at (x, y): its own date span and a round dollar range over all three lines.</summary>
    public static Plot PlotFor(ForecastSeries series, double x, double y)
    {
        var values = series.Points.SelectMany(p => new[] { p.Actual, p.Predicted, p.Naive }).Where(double.IsFinite).ToList();
        var (min, max, step) = NiceRange(values.Count > 0 ? values.Min() : 0, values.Count > 0 ? values.Max() : 1);
        var first = series.Points.Count > 0 ? series.Points.Min(p => p.Date) : default;
        var last = series.Points.Count > 0 ? series.Points.Max(p => p.Date) : default;
        return new Plot(x + Left, x + PanelWidth - Right, y + Top, y + PanelHeight - Bottom, first, last, min, max, step);
    }

    /// <summary>A range covering [min, max] whose ends and about four steps are round numbers (1, 2 or 5 × 10^k).</summary>
    public static (double Min, double Max, double Step) NiceRange(double min, double max)
    {
        if (max <= min)
        {
            var pad = Math.Abs(min) > 0 ? Math.Abs(min) * 0.1 : 1;
            (min, max) = (min - pad, max + pad);
        }
        var raw = (max - min) / 4;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        var normalised = raw / magnitude;
        var step = (normalised <= 1 ? 1 : normalised <= 2 ? 2 : normalised <= 5 ? 5 : 10) * magnitude;
        return (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step, step);
    }

    private static void Panel(StringBuilder svg, ForecastSeries series, double x, double y)
    {
        var plot = PlotFor(series, x, y);
        svg.Append(Invariant, $"<g>\n<text x=\"{plot.X0}\" y=\"{y + 18}\" font-weight=\"bold\">{Escape(series.Title)}</text>\n");
        for (var k = 0; plot.Min + k * plot.Step <= plot.Max + plot.Step / 2; k++)
        {
            var value = plot.Min + k * plot.Step;
            var ty = F(plot.Y(value));
            svg.Append(Invariant, $"<line x1=\"{F(plot.X0)}\" y1=\"{ty}\" x2=\"{F(plot.X1)}\" y2=\"{ty}\" stroke=\"#e0e0e0\"/>");
            svg.Append(Invariant, $"<text x=\"{F(plot.X0 - 4)}\" y=\"{ty}\" dy=\"4\" text-anchor=\"end\">{Escape(Dollars(value))}</text>\n");
        }
        foreach (var date in DateTicks(series.Points.Select(p => p.Date).Distinct().Order().ToList()))
        {
            var tx = F(plot.X(date));
            svg.Append(Invariant, $"<line x1=\"{tx}\" y1=\"{F(plot.Y1)}\" x2=\"{tx}\" y2=\"{F(plot.Y1 + 4)}\" stroke=\"#666666\"/>");
            svg.Append(Invariant, $"<text x=\"{tx}\" y=\"{F(plot.Y1 + 16)}\" text-anchor=\"middle\">{date.ToString("yyyy-MM-dd", Invariant)}</text>\n");
        }
        svg.Append(Invariant, $"<rect x=\"{F(plot.X0)}\" y=\"{F(plot.Y0)}\" width=\"{F(plot.X1 - plot.X0)}\" height=\"{F(plot.Y1 - plot.Y0)}\" fill=\"none\" stroke=\"#666666\"/>\n");
        Line(svg, plot, series.Points, p => p.Naive, NaiveColour, dashed: true);
        Line(svg, plot, series.Points, p => p.Actual, ActualColour, dashed: false);
        Line(svg, plot, series.Points, p => p.Predicted, ModelColour, dashed: false);
        svg.Append("</g>\n");
    }

    /// <summary>
    /// The path data of one line: a new sub-path after a NaN value or a missing week, so a gap shows as a gap
    /// rather than as a straight line across it.
    /// </summary>
    public static string PathData(Plot plot, IReadOnlyList<ForecastPoint> points, Func<ForecastPoint, double> value)
    {
        var d = new StringBuilder();
        DateOnly? previous = null;
        foreach (var point in points.OrderBy(p => p.Date))
        {
            var v = value(point);
            if (!double.IsFinite(v)) { previous = null; continue; }
            var joined = previous is { } p && point.Date.DayNumber - p.DayNumber <= 7;
            if (d.Length > 0) d.Append(' ');
            d.Append(joined ? 'L' : 'M').Append(F(plot.X(point.Date))).Append(',').Append(F(plot.Y(v)));
            previous = point.Date;
        }
        return d.ToString();
    }

    private static void Line(StringBuilder svg, Plot plot, IReadOnlyList<ForecastPoint> points, Func<ForecastPoint, double> value, string colour, bool dashed)
    {
        var d = PathData(plot, points, value);
        if (d.Length == 0) return;
        // Round caps draw a lone week (a sub-path of one point) as a dot instead of nothing.
        svg.Append(Invariant, $"<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.6\" stroke-linecap=\"round\" stroke-linejoin=\"round\"{(dashed ? " stroke-dasharray=\"5,3\"" : "")}/>\n");
    }

    // Only the lines drawn: a forecast of coming weeks has no actuals.
    private static void Legend(StringBuilder svg, double x, double y, IReadOnlyList<ForecastSeries> series)
    {
        bool Drawn(Func<ForecastPoint, double> value) => series.Any(s => s.Points.Any(p => double.IsFinite(value(p))));
        var lines = new[] { ("actual", ActualColour, false, Drawn(p => p.Actual)), ("model forecast", ModelColour, false, Drawn(p => p.Predicted)),
            ("naive (same week last year)", NaiveColour, true, Drawn(p => p.Naive)) };
        foreach (var (label, colour, dashed, _) in lines.Where(l => l.Item4))
        {
            svg.Append(Invariant, $"<line x1=\"{x}\" y1=\"{y - 4}\" x2=\"{x + 24}\" y2=\"{y - 4}\" stroke=\"{colour}\" stroke-width=\"2\"{(dashed ? " stroke-dasharray=\"5,3\"" : "")}/>");
            svg.Append(Invariant, $"<text x=\"{x + 30}\" y=\"{y}\">{Escape(label)}</text>\n");
            x += 40 + 6.5 * label.Length;
        }
    }

    /// <summary>About four dates spread over the weeks, always including the first and the last.</summary>
    private static IEnumerable<DateOnly> DateTicks(List<DateOnly> dates) =>
        dates.Count == 0 ? [] : Enumerable.Range(0, 4).Select(i => dates[(int)Math.Round(i * (dates.Count - 1) / 3.0)]).Distinct();

    /// <summary>Compact dollars for an axis: $850, $12.5k, $1.2M.</summary>
    public static string Dollars(double value)
    {
        var a = Math.Abs(value);
        var (scaled, suffix) = a >= 1e6 ? (a / 1e6, "M") : a >= 1e3 ? (a / 1e3, "k") : (a, "");
        return $"{(value < 0 ? "-" : "")}${scaled.ToString("0.##", Invariant)}{suffix}";
    }

    public static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&quot;", StringComparison.Ordinal);

    /// <summary>Coordinates with two decimals, invariant culture: small files, no locale commas.</summary>
    public static string F(double value) => Math.Round(value, 2).ToString("0.##", Invariant);
}
