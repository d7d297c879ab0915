using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Storage;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>The report's actual-vs-predicted part: the series shown, or why there is no chart.</summary>
public sealed record ForecastSection(IReadOnlyList<ForecastSeries> Shown, string? OmittedBecause)
{
    public const int SeriesShown = 4;
    public const string SvgFile = "actual-vs-predicted.svg";

    /// <summary>
    /// Reads the run's test labels and predictions (locations from the run request's <c>output</c>), writes the
    /// chart of the largest series into the run folder and returns what the report says about it. Never throws
    /// (except on cancellation): a report of a broken run must still be written.
    /// </summary>
    public static async Task<ForecastSection> WriteAsync(IObjectStore store, JsonNode? runOutput, string runFolder, string runId,
        CancellationToken cancellationToken)
    {
        File.Delete(Path.Combine(runFolder, SvgFile)); // a re-used run id must not keep an earlier run's chart
        if ((string?)runOutput?["testLabelsUri"] is not { } labelsUri || (string?)runOutput["predictionsUri"] is not { } predictionsUri)
            return Omitted("the run stopped before its test labels were written.");
        try
        {
            var all = await ForecastSeriesReader.ReadAsync(store, labelsUri, predictionsUri, cancellationToken);
            if (all.Count == 0) return Omitted($"no test labels under {labelsUri} (the run stopped before the split queries).");
            if (all.All(s => s.Wmae is null))
                return Omitted($"no predictions under {predictionsUri} match the test labels (the run stopped before the test-period batch transform?).");
            var shown = ForecastSeriesReader.Largest(all, SeriesShown);
            var svg = ForecastChart.Svg(shown, $"Actual vs predicted, {shown.Count} largest series — run {runId}");
            await File.WriteAllTextAsync(Path.Combine(runFolder, SvgFile), svg, cancellationToken);
            return new ForecastSection(shown, null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return Omitted($"{e.GetType().Name}: {e.Message}");
        }
    }

    private static ForecastSection Omitted(string reason) => new([], reason);

    /// <summary>The chart's image link and a per-series error table, or the one line saying why there is no chart.</summary>
    public string Markdown()
    {
        if (OmittedBecause is not null) return $"No actual-vs-predicted chart: {OmittedBecause}\n";
        var md = new StringBuilder();
        md.AppendLine($"### Actual vs predicted, {Shown.Count} largest series").AppendLine();
        md.AppendLine($"![Actual vs predicted, {Shown.Count} largest series]({SvgFile})").AppendLine();
        md.AppendLine("| series | test weeks | actual sales | model WMAE | naive WMAE | model / naive |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var s in Shown)
            md.AppendLine($"| {s.Title} | {s.Points.Count} | {Number(s.TotalActual, "$#,0")} | {Number(s.Wmae, "#,0.0")} | {Number(s.NaiveWmae, "#,0.0")} | {Number(s.Wmae / s.NaiveWmae, "0.00")} |");
        return md.ToString();
    }

    private static string Number(double? value, string format) =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "—";
}
