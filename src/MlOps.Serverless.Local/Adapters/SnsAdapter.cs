using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlOps.Serverless.Local.Adapters;

/// <summary><c>arn:aws:states:::sns:publish</c> locally: each message is appended to a JSON-lines file and shown.</summary>
public sealed class SnsAdapter(string notificationsFile, Action<string, string>? show = null) : ILocalServiceAdapter
{
    // People read this file: quotes, apostrophes and angle brackets stay as written (JSON-lines stays valid).
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public bool CanHandle(string resource) => resource == "arn:aws:states:::sns:publish";

    public async Task<JsonNode?> InvokeAsync(string resource, JsonNode? input, CancellationToken cancellationToken)
    {
        var topic = (string?)input?["TopicArn"] ?? throw new TaskFailure("SNS.InvalidParameterException", "TopicArn is required");
        var message = (string?)input!["Message"] ?? throw new TaskFailure("SNS.InvalidParameterException", "Message is required");
        return new JsonObject { ["MessageId"] = await PublishAsync(topic, (string?)input["Subject"] ?? "", message, cancellationToken) };
    }

    /// <summary>Appends one message (also what an EventBridge rule targeting the topic delivers) and returns its id.</summary>
    public async Task<string> PublishAsync(string topic, string subject, string message, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString();
        var record = new JsonObject
        {
            ["MessageId"] = id, ["TopicArn"] = topic, ["Subject"] = subject, ["Message"] = message,
            ["Timestamp"] = DateTimeOffset.UtcNow.ToString("O"),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(notificationsFile))!);
        await File.AppendAllTextAsync(notificationsFile, record.ToJsonString(Readable) + Environment.NewLine, cancellationToken);
        show?.Invoke(subject, message);
        return id;
    }
}
