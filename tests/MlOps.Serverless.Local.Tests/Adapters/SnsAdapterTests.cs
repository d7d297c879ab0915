using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Adapters;

namespace MlOps.Serverless.Local.Tests.Adapters;

public sealed class SnsAdapterTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("mlops-sns-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_published_message_is_stored_as_written_without_json_escapes_a_person_would_read()
    {
        var file = Path.Combine(_folder, "notifications.jsonl");
        const string Message = "Failed at QualityVerdict: DataQualityFailed: batch 'b-1': Size '<empty>' cannot be parsed as an integer (+1 more) & \"x\"";

        await new SnsAdapter(file).PublishAsync("arn:aws:sns:eu-west-1:000000000000:topic", "Retraining run failed", Message, CancellationToken.None);

        var line = File.ReadAllLines(file).Single();
        Assert.Contains("batch 'b-1': Size '<empty>' cannot be parsed as an integer (+1 more) &", line);
        Assert.Equal(Message, (string?)JsonNode.Parse(line)!["Message"]);
    }
}
