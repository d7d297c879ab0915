using System.Text;
using System.Text.Json;

namespace MlOps.Serverless.Core.Logging;

/// <summary>
/// Writes one JSON object per line to stdout, the shape Lambda's JSON log format and CloudWatch
/// Logs Insights read directly. Never pass secrets as fields.
/// </summary>
public sealed class StructuredLog(string stage, TextWriter? sink = null)
{
    private readonly TextWriter _sink = sink ?? Console.Out;

    public void Info(string message, params (string Key, object? Value)[] fields) => Write("INFO", message, fields);
    public void Warn(string message, params (string Key, object? Value)[] fields) => Write("WARN", message, fields);
    public void Error(string message, params (string Key, object? Value)[] fields) => Write("ERROR", message, fields);

    private void Write(string level, string message, (string Key, object? Value)[] fields)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("timestamp", DateTimeOffset.UtcNow);
            json.WriteString("level", level);
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
