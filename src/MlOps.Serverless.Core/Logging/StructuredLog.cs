using System.Text;
using System.Text.Json;

namespace MlOps.Serverless.Core.Logging;

/// <summary>
/// Writes one JSON object per line, the shape Lambda's JSON log format and CloudWatch Logs Insights read
/// directly. By default the lines go to the process's raw standard output stream, not <see cref="Console.Out"/>:
/// the Lambda .NET runtime replaces <see cref="Console.Out"/> with a writer that, under the JSON log format,
/// wraps each line as an escaped string in <c>"message"</c> (Powertools for AWS Lambda (.NET) writes to the
/// raw stream for the same reason). Lines below the minimum level (<see cref="LogLevelSettings"/>) are dropped.
/// Never pass secrets as fields.
/// </summary>
public sealed class StructuredLog(string stage, TextWriter? sink = null, LogLevel? minimumLevel = null)
{
    private static readonly Lazy<TextWriter> StandardOutput = new(() =>
        TextWriter.Synchronized(new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true }));

    private readonly TextWriter _sink = sink ?? StandardOutput.Value;

    /// <summary>The level below which lines are dropped.</summary>
    public LogLevel MinimumLevel { get; } = minimumLevel ?? LogLevelSettings.FromEnvironment(Environment.GetEnvironmentVariable);

    public bool IsEnabled(LogLevel level) => level >= MinimumLevel;

    public void Debug(string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Debug, message, fields);
    public void Info(string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Info, message, fields);
    public void Warn(string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Warn, message, fields);
    public void Error(string message, params (string Key, object? Value)[] fields) => Write(LogLevel.Error, message, fields);

    private void Write(LogLevel level, string message, (string Key, object? Value)[] fields)
    {
        if (!IsEnabled(level)) return;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", DateTimeOffset.UtcNow);
            json.WriteString("level", LogLevelSettings.Name(level));
            json.WriteString("stage", stage);
            json.WriteString("message", message);
            foreach (var (key, value) in fields)
            {
                json.WritePropertyName(key);
                WriteValue(json, value);
            }
            json.WriteEndObject();
        }
        lock (_sink) _sink.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void WriteValue(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null: json.WriteNullValue(); break;
            case string s: json.WriteStringValue(s); break;
            case bool b: json.WriteBooleanValue(b); break;
            case int i: json.WriteNumberValue(i); break;
            case long l: json.WriteNumberValue(l); break;
            case double d when double.IsFinite(d): json.WriteNumberValue(d); break;
            case double d: json.WriteStringValue(d.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case decimal m: json.WriteNumberValue(m); break;
            default: json.WriteStringValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)); break;
        }
    }
}
