using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Local.S3;

namespace MlOps.Serverless.Functions.Tests;

/// <summary>The Lambda entry point exactly as the managed runtime calls it: a stream in, a stream out.</summary>
public sealed class PrepareRunFunctionTests : IDisposable
{
    private readonly TempFolder _folder = new("mlops-fn-");

    public void Dispose() => _folder.Dispose();

    private PrepareRunFunction Function()
    {
        var root = _folder.Path;
        Directory.CreateDirectory(Path.Combine(root, "raw", "incoming", "current", "sales"));
        File.WriteAllText(Path.Combine(root, "raw", "incoming", "current", "sales", "sales.csv"), "Store,Dept,Date,Weekly_Sales,IsHoliday");
        return new PrepareRunFunction(new RunPreparationSettings("raw", "incoming/", "current", "work", "artifacts"), new LocalFolderObjectStore(root));
    }

    private static MemoryStream Json(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task Stream_handler_returns_the_run_request_in_the_state_machines_camel_case()
    {
        var output = await Function().Handle(Json("""
            {"event":{"batch":"current"},"executionName":"run-7","executionArn":"arn:aws:states:us-east-1:123456789012:execution:sm:run-7","startTime":"2026-11-27T06:00:00Z"}
            """));
        var run = JsonNode.Parse(output)!;

        Assert.Equal("run-7", (string?)run["runId"]);
        Assert.Equal("manual", (string?)run["trigger"]);
        Assert.Equal("s3://work/runs/run-7/quality/", (string?)run["output"]!["qualityUri"]);
        Assert.Equal(20, (int)run["config"]!["tuning"]!["maxJobs"]!);
        Assert.Equal("Auto", (string?)run["sageMaker"]!["parameterRanges"]!["IntegerParameterRanges"]![0]!["ScalingType"]);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"event":{},"executionName":5}""")]
    public async Task Payload_that_is_not_the_envelope_is_an_invalid_run_request(string payload)
    {
        var error = await Assert.ThrowsAsync<InvalidRunRequest>(() => Function().Handle(Json(payload)));
        Assert.Contains("PrepareRunFunction", error.Message);
    }

    [Fact]
    public void Settings_come_from_the_environment_variables_the_cdk_app_sets()
    {
        Environment.SetEnvironmentVariable("RAW_BUCKET", "raw-b");
        Environment.SetEnvironmentVariable("WORK_BUCKET", "work-b");
        Environment.SetEnvironmentVariable("ARTIFACT_BUCKET", "art-b");
        Environment.SetEnvironmentVariable("PIPELINE_SETTINGS", """{"tuning.maxJobs":12}""");
        try
        {
            var settings = PrepareRunFunction.SettingsFromEnvironment();
            Assert.Equal(("raw-b", "incoming/", "current", "work-b", "art-b"), (settings.RawBucket, settings.RawPrefix, settings.CurrentBatch, settings.WorkBucket, settings.ArtifactBucket));
            Assert.Equal(12, (int)settings.DeploymentOverrides!["tuning.maxJobs"]!);

            Environment.SetEnvironmentVariable("PIPELINE_SETTINGS", "[1");
            Assert.Throws<InvalidConfiguration>(PrepareRunFunction.SettingsFromEnvironment);
        }
        finally
        {
            foreach (var name in new[] { "RAW_BUCKET", "WORK_BUCKET", "ARTIFACT_BUCKET", "PIPELINE_SETTINGS" }) Environment.SetEnvironmentVariable(name, null);
        }
    }
}
