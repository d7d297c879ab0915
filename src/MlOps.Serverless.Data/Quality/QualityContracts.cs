using System.Text.Json.Serialization;
using MlOps.Serverless.Core.Runs;

namespace MlOps.Serverless.Data.Quality;

/// <summary>The verdict stage's input: the run request and the quality query's result set (from athena:getQueryResults).</summary>
public sealed record QualityVerdictInput(RunRequest Run, AthenaResultSet Results);

/// <summary>What the state machine sees: a short summary and the findings; the full report is at <see cref="ReportUri"/>.</summary>
public sealed record QualityVerdictOutput(
    bool Passed,
    string Summary,
    IReadOnlyList<QualityFinding> HardFailures,
    IReadOnlyList<QualityFinding> Warnings,
    string ReportUri);

/// <summary>One broken rule: what was measured against which threshold, and where (file and column when known).</summary>
public sealed record QualityFinding(string Rule, string Measured, string Threshold, string Message, string? File = null, string? Column = null);

/// <summary>One row of the quality query.</summary>
public sealed record QualityMeasurement(string Metric, string Dataset, string? Column = null, double? Value = null, string? Examples = null);

/// <summary>What the verdict found in one uploaded file's first bytes.</summary>
public sealed record FileCheck(string Dataset, string Key, long Size, string LineEnding, bool HasByteOrderMark, bool LooksBinary, string? Header = null);

/// <summary>The full report written to <c>{qualityUri}report.json</c>.</summary>
public sealed record QualityReport(
    string RunId,
    string BatchId,
    bool Passed,
    string Summary,
    IReadOnlyList<QualityFinding> HardFailures,
    IReadOnlyList<QualityFinding> Warnings,
    IReadOnlyList<FileCheck> Files,
    IReadOnlyList<QualityMeasurement> Measurements);

// Athena's GetQueryResults shapes (PascalCase, as the API returns them).

public sealed record AthenaResultSet(
    [property: JsonPropertyName("Rows")] IReadOnlyList<AthenaRow> Rows,
    [property: JsonPropertyName("ResultSetMetadata")] AthenaResultSetMetadata? ResultSetMetadata = null);

public sealed record AthenaRow([property: JsonPropertyName("Data")] IReadOnlyList<AthenaDatum> Data);

public sealed record AthenaDatum([property: JsonPropertyName("VarCharValue")] string? VarCharValue = null);

public sealed record AthenaResultSetMetadata([property: JsonPropertyName("ColumnInfo")] IReadOnlyList<AthenaColumnInfo> ColumnInfo);

public sealed record AthenaColumnInfo(
    [property: JsonPropertyName("Name")] string Name,
    [property: JsonPropertyName("Type")] string Type);
