namespace MlOps.Serverless.Core.Logging;

/// <summary>Lambda's application log levels, lowest first (the names Lambda uses in <c>"level"</c>).</summary>
public enum LogLevel { Trace, Debug, Info, Warn, Error, Fatal }

/// <summary>
/// The minimum level, read as Powertools for AWS Lambda (.NET) reads it: Lambda's advanced logging controls
/// (the function's ApplicationLogLevel, which Lambda passes as <c>AWS_LAMBDA_LOG_LEVEL</c>) win; otherwise
/// <c>POWERTOOLS_LOG_LEVEL</c>; otherwise INFO. Unknown values are ignored, as Powertools ignores them.
/// </summary>
public static class LogLevelSettings
{
    public const string LambdaLogLevelVariable = "AWS_LAMBDA_LOG_LEVEL";
    public const string PowertoolsLogLevelVariable = "POWERTOOLS_LOG_LEVEL";
    public const LogLevel Default = LogLevel.Info;

    public static LogLevel FromEnvironment(Func<string, string?> variable) =>
        Parse(variable(LambdaLogLevelVariable)) ?? Parse(variable(PowertoolsLogLevelVariable)) ?? Default;

    /// <summary>Lambda's names (TRACE…FATAL); WARNING and INFORMATION, .NET's spellings, as Powertools accepts them.</summary>
    public static LogLevel? Parse(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        "TRACE" => LogLevel.Trace,
        "DEBUG" => LogLevel.Debug,
        "INFO" or "INFORMATION" => LogLevel.Info,
        "WARN" or "WARNING" => LogLevel.Warn,
        "ERROR" => LogLevel.Error,
        "FATAL" or "CRITICAL" => LogLevel.Fatal,
        _ => null,
    };

    public static string Name(LogLevel level) => level.ToString().ToUpperInvariant();
}
