using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.S3;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>The report's sections on what the run produced: the dollar forecast, the test weeks in full, tuning, data quality.</summary>
public sealed record OutcomeSections(SalesForecast Forecast, TestWeeksSection TestWeeks, string Tuning, string Quality)
{
    /// <param name="output">The run's output locations with each UNLOAD stage's recorded attempt (<see cref="RunReport.RunOutput"/>).</param>
    public static async Task<OutcomeSections> WriteAsync(LocalRunResult result, LocalLayout layout, JsonNode? run, JsonNode? output, CancellationToken cancellationToken)
    {
        var store = new LocalFolderObjectStore(layout.S3Root);
        var execution = result.Execution;
        var training = execution.History.LastOrDefault(e => e.Type == "StateExited" && e.StateName is "CollectTuningResult" or "CollectSingleJobResult")?.Output?["training"];
        var quality = execution.Output?["quality"]
            ?? execution.History.LastOrDefault(e => e.Type == "StateExited" && e.StateName == "QualityVerdict")?.Output?["quality"];
        return new OutcomeSections(
            await SalesForecast.WriteAsync(store, output, result.RunFolder, cancellationToken),
            await TestWeeksSection.WriteAsync(store, output, result.RunFolder, cancellationToken),
            TuningSummary.Markdown(training, run?["config"]),
            TuningSummary.QualityMarkdown(quality));
    }

    /// <summary>The run folder's forecast CSV, or null when the run made none.</summary>
    public static string? ForecastCsv(string runFolder) =>
        Path.Combine(runFolder, SalesForecast.CsvFile) is var path && File.Exists(path) ? path : null;
}
