using System.Globalization;
using System.Text.Json;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.SageMaker;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Training.Json;

namespace MlOps.Serverless.Training.Gate;

/// <summary>
/// The gate stage: reads the evaluation query's result set, applies <see cref="GatePolicy"/> with the run's
/// <c>gate</c> settings, writes <c>{evaluationUri}evaluation.json</c> (the metrics and decision, in
/// SageMaker ModelMetrics statistics style) and returns the decision with the registry's metadata.
/// </summary>
public sealed class EvaluationGate(IObjectStore store)
{
    public const string ReportFileName = "evaluation.json";
    private const int MaxKeyLength = 128;
    private const int MaxValueLength = 256;

    public async Task<GateOutput> RunAsync(GateInput input, CancellationToken cancellationToken = default)
    {
        var metrics = ReadResultSet(input.Evaluation);
        var verdict = new GatePolicy(input.Run.Config.Gate).Decide(metrics, input.Champion, input.FeatureSetVersion);
        var reportUri = input.Run.Output.EvaluationUri + ReportFileName;

        var properties = new SortedDictionary<string, string>(StringComparer.Ordinal);
        void Put(string key, string? value)
        {
            if (value is null) return;
            // CustomerMetadataProperties limits: key ≤ 128, value ≤ 256 characters.
            properties[key.Length > MaxKeyLength ? key[..MaxKeyLength] : key] = value.Length > MaxValueLength ? value[..MaxValueLength] : value;
        }
        Put("wmae", N(verdict.Challenger.Wmae));
        Put("rmse", N(verdict.Challenger.Rmse));
        Put("mae", N(verdict.Challenger.Mae));
        Put("rows", verdict.Challenger.Rows?.ToString(CultureInfo.InvariantCulture));
        Put("naive_wmae", N(verdict.Baseline.Wmae));
        Put("naive_rmse", N(verdict.Baseline.Rmse));
        Put("naive_mae", N(verdict.Baseline.Mae));
        if (verdict.Challenger.Wmae is { } w && verdict.Baseline.Wmae is { } n && n > 0) Put("wmae_ratio_to_naive", N(w / n));
        Put("executionArn", input.Run.ExecutionArn);
        Put("runId", input.Run.RunId);
        Put("dataFingerprint", input.Run.Data.Fingerprint);
        Put("trainingJobName", input.Training.BestTrainingJobName);
        Put("modelArtifactUri", input.Training.ModelArtifactUri);
        Put("evaluationReportUri", reportUri);
        Put("mlflowRunId", input.Mlflow?.ParentRunId);
        Put(ModelPackageMetadata.FeatureSetVersion, input.FeatureSetVersion);

        var output = new GateOutput(verdict.Decision, verdict.Reasons, verdict.Challenger, verdict.Baseline, verdict.Champion,
            properties, reportUri, Summary(verdict));
        await WriteReportAsync(reportUri, input, output, cancellationToken);
        return output;
    }

    /// <summary>One line for the notification: challenger vs champion vs naive on the same test rows.</summary>
    public static string Summary(GateVerdict verdict)
    {
        var decision = verdict.Decision == GateDecision.Promote ? "promote" : "reject";
        var champion = verdict.Champion switch
        {
            null => "no champion",
            { Comparable: true, Wmae: { } c } => $"champion {GatePolicy.F(c)}",
            { Reason: var reason } => $"champion not comparable ({reason})",
        };
        var rows = verdict.Challenger.Rows?.ToString("#,0", CultureInfo.InvariantCulture) ?? "?";
        return $"{decision}: WMAE on the same {rows} test rows: challenger {Text(verdict.Challenger.Wmae)} vs {champion} vs naive {Text(verdict.Baseline.Wmae)}" +
               (verdict.Champion?.StoredWmae is { } stored ? $" (the champion's stored WMAE on its own test weeks: {GatePolicy.F(stored)})" : "");
    }

    /// <summary>Header row of column names, then one data row: the evaluation SQL's single result row.</summary>
    public static IReadOnlyDictionary<string, string?> ReadResultSet(AthenaResultSet resultSet)
    {
        if (resultSet.Rows is not { Count: >= 2 })
            throw new InvalidStageInput($"evaluation: expected Athena's ResultSet with a header row and one metrics row, got {resultSet.Rows?.Count ?? 0} rows.");
        var header = resultSet.Rows[0].Data;
        var values = resultSet.Rows[1].Data;
        var metrics = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < header.Count; i++)
        {
            var name = header[i].VarCharValue;
            if (string.IsNullOrEmpty(name)) continue;
            metrics[name] = i < values.Count ? values[i].VarCharValue : null;
        }
        return metrics;
    }

    private async Task WriteReportAsync(string reportUri, GateInput input, GateOutput output, CancellationToken cancellationToken)
    {
        static StatisticValue? Stat(double? value) => value is { } v ? new StatisticValue(v) : null;
        var report = new EvaluationReport(
            new RegressionStatistics(Stat(output.Challenger.Wmae), Stat(output.Challenger.Rmse), Stat(output.Challenger.Mae)),
            new RegressionStatistics(Stat(output.Baseline.Wmae), Stat(output.Baseline.Rmse), Stat(output.Baseline.Mae)),
            output.Challenger.Rows, output.Decision, output.Reasons, output.Champion, input.Run.RunId, input.Run.ExecutionArn,
            input.Training.BestTrainingJobName, input.Training.ModelArtifactUri, DateTimeOffset.UtcNow);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(report, TrainingJsonContext.Default.EvaluationReport);
        await store.PutAsync(S3Uri.Parse(reportUri), new MemoryStream(bytes), "application/json", cancellationToken);
    }

    private static string? N(double? value) => value?.ToString("R", CultureInfo.InvariantCulture);
    private static string Text(double? value) => value is { } v ? GatePolicy.F(v) : "n/a";
}
