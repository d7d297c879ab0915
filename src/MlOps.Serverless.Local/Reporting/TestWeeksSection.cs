using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Storage;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>One series' share of the run's WMAE: its weighted absolute errors over the weight of every scored row.</summary>
public sealed record SeriesError(ForecastSeries Series, double WmaeContribution, double? RatioToNaive, int SizeRank);

/// <summary>
/// The report's whole-truth view of the held-out test weeks: actual, model and naive totals per week (chart), how the
/// error spreads over the series (share beating the naive, histogram of model/naive ratios) and the series that add
/// most to WMAE beside the largest ones. Reads the same labels and predictions the evaluation query scores.
/// </summary>
public sealed record TestWeeksSection(IReadOnlyList<ForecastSeries> All, string? OmittedBecause)
{
    public const string TotalSvgFile = "test-weeks-total.svg";
    public const string RatioSvgFile = "model-naive-ratios.svg";
    public const int SeriesListed = 10;

    public const string WmaeDefinition =
        "WMAE (weighted mean absolute error) = Σ wᵢ·|actualᵢ − forecastᵢ| / Σ wᵢ over every store, department and test week, " +
        "in dollars of weekly sales, with wᵢ = 5 in holiday weeks and 1 otherwise.";

    /// <summary>Upper edges of the histogram's bins of model WMAE / naive WMAE; the last bin is open.</summary>
    public static IReadOnlyList<double> RatioBins { get; } = [0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0];

    public static async Task<TestWeeksSection> WriteAsync(IObjectStore store, JsonNode? runOutput, string runFolder, CancellationToken cancellationToken)
    {
        File.Delete(Path.Combine(runFolder, TotalSvgFile));
        File.Delete(Path.Combine(runFolder, RatioSvgFile));
        if ((string?)runOutput?["testLabelsUri"] is not { } labelsUri || (string?)runOutput["predictionsUri"] is not { } predictionsUri)
            return new([], "the run stopped before its test labels were written.");
        try
        {
            var all = await ForecastSeriesReader.ReadAsync(store, labelsUri, predictionsUri, cancellationToken);
            if (all.All(s => s.Wmae is null)) return new([], "the run has no test-week predictions.");
            var section = new TestWeeksSection(all, null);
            await File.WriteAllTextAsync(Path.Combine(runFolder, TotalSvgFile),
                ForecastChart.Svg([section.Totals()], "Test weeks: total sales per week"), cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(runFolder, RatioSvgFile), RatioHistogram.Svg(section.Ratios(), RatioBins,
                "Series by model WMAE / naive WMAE"), cancellationToken);
            return section;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new([], $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>Every series summed per week, over the rows the evaluation scores (those with a prediction).</summary>
    public ForecastSeries Totals() =>
        new(0, 0, All.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Predicted)).GroupBy(p => p.Date).OrderBy(g => g.Key)
            .Select(g => new ForecastPoint(g.Key, g.Sum(p => p.Actual), g.Sum(p => p.Predicted), g.Sum(p => p.Naive), 1)).ToList())
        { Label = "All stores and departments" };

    /// <summary>Model WMAE / naive WMAE per series, where the naive has an error to compare with.</summary>
    public IReadOnlyList<double> Ratios() =>
        All.Where(s => s.Wmae is not null && s.NaiveWmae is > 0).Select(s => s.Wmae!.Value / s.NaiveWmae!.Value).ToList();

    /// <summary>Each series' contribution to the run's WMAE, with its rank by actual sales (1 = largest).</summary>
    public IReadOnlyList<SeriesError> Errors()
    {
        var scored = All.SelectMany(s => s.Points).Where(p => double.IsFinite(p.Predicted)).ToList();
        var totalWeight = scored.Sum(p => p.Weight);
        var rank = All.OrderByDescending(s => s.TotalActual).ThenBy(s => s.Store).ThenBy(s => s.Dept)
            .Select((s, i) => (s, i)).ToDictionary(x => (x.s.Store, x.s.Dept), x => x.i + 1);
        return All.Select(s => new SeriesError(s,
                totalWeight == 0 ? 0 : s.Points.Where(p => double.IsFinite(p.Predicted)).Sum(p => p.Weight * Math.Abs(p.Actual - p.Predicted)) / totalWeight,
                s.Wmae is { } m && s.NaiveWmae is > 0 ? m / s.NaiveWmae!.Value : null,
                rank[(s.Store, s.Dept)]))
            .ToList();
    }

    public string Markdown()
    {
        var md = new StringBuilder("## The test weeks in full\n\n");
        md.AppendLine(WmaeDefinition).AppendLine();
        if (OmittedBecause is not null) return md.AppendLine($"No test-week detail: {OmittedBecause}").AppendLine().ToString();

        var totals = Totals();
        double actual = totals.Points.Sum(p => p.Actual), predicted = totals.Points.Sum(p => p.Predicted), naive = totals.Points.Sum(p => p.Naive);
        md.AppendLine($"### Total sales per test week").AppendLine();
        md.AppendLine($"![Total weekly sales in the test weeks]({TotalSvgFile})").AppendLine();
        md.AppendLine($"Over {totals.Points.Count} weeks: actual {Money(actual)}, model {Money(predicted)} ({Percent(predicted, actual)}), naive {Money(naive)} ({Percent(naive, actual)}).").AppendLine();

        var ratios = Ratios();
        var beating = ratios.Count(r => r < 1);
        md.AppendLine("### How the error spreads over the series").AppendLine();
        md.AppendLine($"![Series by model WMAE / naive WMAE]({RatioSvgFile})").AppendLine();
        md.AppendLine($"The model beats the naive in {beating:#,0} of {ratios.Count:#,0} series ({Share(beating, ratios.Count)}); " +
                      $"median model/naive ratio {Median(ratios):0.00}, worst decile from {Quantile(ratios, 0.9):0.00}. " +
                      $"({All.Count - ratios.Count:#,0} series without a naive error are left out of the ratio.)").AppendLine();

        var errors = Errors();
        var wmae = errors.Sum(e => e.WmaeContribution);
        md.AppendLine($"### The series that add most to WMAE ({Money(wmae, "0.00")})").AppendLine();
        Table(md, errors.OrderByDescending(e => e.WmaeContribution).Take(SeriesListed), wmae);
        md.AppendLine($"### The {SeriesListed} largest series, for comparison").AppendLine();
        Table(md, errors.OrderBy(e => e.SizeRank).Take(SeriesListed), wmae);
        return md.ToString();
    }

    private static void Table(StringBuilder md, IEnumerable<SeriesError> rows, double wmae)
    {
        md.AppendLine("| series | size rank | actual sales | adds to WMAE | share of WMAE | model / naive |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var e in rows)
            md.AppendLine($"| {e.Series.Title} | {e.SizeRank:#,0} | {Money(e.Series.TotalActual)} | {Money(e.WmaeContribution, "0.00")} | " +
                          $"{(wmae == 0 ? "—" : (e.WmaeContribution / wmae).ToString("0.0%", CultureInfo.InvariantCulture))} | " +
                          $"{(e.RatioToNaive is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "—")} |");
        md.AppendLine();
    }

    public static double Median(IReadOnlyList<double> values) => Quantile(values, 0.5);

    public static double Quantile(IReadOnlyList<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        var at = q * (sorted.Count - 1);
        var low = (int)Math.Floor(at);
        var high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
    }

    private static string Money(double value, string decimals = "0") =>
        value.ToString($"$#,{decimals};−$#,{decimals}", CultureInfo.InvariantCulture);

    private static string Percent(double value, double reference) =>
        reference == 0 ? "—" : (value / reference - 1).ToString("+0.0%;−0.0%", CultureInfo.InvariantCulture) + " vs actual";

    private static string Share(int part, int whole) =>
        whole == 0 ? "—" : ((double)part / whole).ToString("0.0%", CultureInfo.InvariantCulture);
}

/// <summary>A bar chart of how many values fall in each bin, as a self-contained SVG; bars right of 1 (worse than the naive) in orange.</summary>
public static class RatioHistogram
{
    public const double Width = 640, Height = 300, Left = 56, Right = 16, Top = 40, Bottom = 40;

    /// <summary>Counts per bin: bin i holds values below <paramref name="upperEdges"/>[i] (and at or above the previous edge); the last bin the rest.</summary>
    public static int[] Counts(IReadOnlyList<double> values, IReadOnlyList<double> upperEdges)
    {
        var counts = new int[upperEdges.Count + 1];
        foreach (var v in values.Where(double.IsFinite))
        {
            var bin = 0;
            while (bin < upperEdges.Count && v >= upperEdges[bin]) bin++;
            counts[bin]++;
        }
        return counts;
    }

    public static string Svg(IReadOnlyList<double> values, IReadOnlyList<double> upperEdges, string title)
    {
        var inv = CultureInfo.InvariantCulture;
        var counts = Counts(values, upperEdges);
        var (_, max, step) = ForecastChart.NiceRange(0, Math.Max(1, counts.Max()));
        double x0 = Left, x1 = Width - Right, y0 = Top, y1 = Height - Bottom;
        var barWidth = (x1 - x0) / counts.Length;
        double Y(double v) => y1 - (y1 - y0) * v / max;
        var svg = new StringBuilder();
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(inv, $"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append(inv, $"<text x=\"{Left}\" y=\"20\" font-size=\"14\" font-weight=\"bold\">{ForecastChart.Escape(title)}</text>\n");
        for (var v = 0.0; v <= max + step / 2; v += step)
        {
            var y = ForecastChart.F(Y(v));
            svg.Append(inv, $"<line x1=\"{x0}\" y1=\"{y}\" x2=\"{x1}\" y2=\"{y}\" stroke=\"#e0e0e0\"/><text x=\"{x0 - 4}\" y=\"{y}\" dy=\"4\" text-anchor=\"end\">{v.ToString("#,0", inv)}</text>\n");
        }
        for (var i = 0; i < counts.Length; i++)
        {
            var x = x0 + i * barWidth;
            var worse = i > 0 && upperEdges[i - 1] >= 1;
            var label = i == 0 ? $"< {upperEdges[0].ToString("0.##", inv)}" : i == counts.Length - 1 ? $"≥ {upperEdges[^1].ToString("0.##", inv)}"
                : $"{upperEdges[i - 1].ToString("0.##", inv)}–{upperEdges[i].ToString("0.##", inv)}";
            svg.Append(inv, $"<rect x=\"{ForecastChart.F(x + 4)}\" y=\"{ForecastChart.F(Y(counts[i]))}\" width=\"{ForecastChart.F(barWidth - 8)}\" height=\"{ForecastChart.F(y1 - Y(counts[i]))}\" fill=\"{(worse ? ForecastChart.NaiveColour : ForecastChart.ModelColour)}\"/>");
            svg.Append(inv, $"<text x=\"{ForecastChart.F(x + barWidth / 2)}\" y=\"{ForecastChart.F(Y(counts[i]) - 4)}\" text-anchor=\"middle\">{counts[i].ToString("#,0", inv)}</text>");
            svg.Append(inv, $"<text x=\"{ForecastChart.F(x + barWidth / 2)}\" y=\"{ForecastChart.F(y1 + 16)}\" text-anchor=\"middle\">{ForecastChart.Escape(label)}</text>\n");
        }
        svg.Append(inv, $"<line x1=\"{x0}\" y1=\"{y1}\" x2=\"{x1}\" y2=\"{y1}\" stroke=\"#666666\"/>\n");
        svg.Append(inv, $"<text x=\"{ForecastChart.F((x0 + x1) / 2)}\" y=\"{Height - 6}\" text-anchor=\"middle\">model WMAE / naive WMAE per series (below 1, blue: the model beats the naive)</text>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }
}
