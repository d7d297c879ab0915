using System.Text.Json;
using MlOps.Serverless.Core.Logging;

namespace MlOps.Serverless.Core.Tests.Logging;

// Console.SetOut is process-wide: keep these tests out of parallel collections.
[CollectionDefinition(nameof(ConsoleOutCollection), DisableParallelization = true)]
public sealed class ConsoleOutCollection;

[Collection(nameof(ConsoleOutCollection))]
public sealed class StructuredLogTests
{
    [Fact]
    public void Default_sink_bypasses_Console_Out_which_the_Lambda_runtime_wraps_into_message()
    {
        // The Lambda .NET runtime installs its own Console.Out; under the JSON log format it escapes each
        // line into "message". A line reaching Console.Out here would reach CloudWatch as a string.
        var runtimeWrapper = new StringWriter();
        var original = Console.Out;
        Console.SetOut(runtimeWrapper);
        try
        {
            new StructuredLog("stage", minimumLevel: LogLevel.Info).Info("started", ("runId", "r-1"));
        }
        finally
        {
            Console.SetOut(original);
        }

        Assert.Equal("", runtimeWrapper.ToString());
    }

    [Fact]
    public void Writes_one_raw_json_object_per_line_with_fields_at_the_top_level()
    {
        var sink = new StringWriter();
        new StructuredLog("PrepareRun", sink, LogLevel.Info).Info("run prepared", ("runId", "r-1"), ("rows", 42), ("ok", true));

        var line = Assert.Single(sink.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var json = JsonDocument.Parse(line);
        Assert.Equal("INFO", json.RootElement.GetProperty("level").GetString());
        Assert.Equal("PrepareRun", json.RootElement.GetProperty("stage").GetString());
        Assert.Equal("run prepared", json.RootElement.GetProperty("message").GetString());
        Assert.Equal("r-1", json.RootElement.GetProperty("runId").GetString());
        Assert.Equal(42, json.RootElement.GetProperty("rows").GetInt32());
        Assert.True(json.RootElement.GetProperty("ok").GetBoolean());
    }

    [Theory]
    [InlineData(LogLevel.Debug, "DEBUG,INFO,WARN,ERROR")]
    [InlineData(LogLevel.Info, "INFO,WARN,ERROR")]
    [InlineData(LogLevel.Warn, "WARN,ERROR")]
    [InlineData(LogLevel.Error, "ERROR")]
    [InlineData(LogLevel.Fatal, "")]
    public void Drops_lines_below_the_minimum_level(LogLevel minimum, string expected)
    {
        var sink = new StringWriter();
        var log = new StructuredLog("stage", sink, minimum);
        log.Debug("d");
        log.Info("i");
        log.Warn("w");
        log.Error("e");

        var levels = sink.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("level").GetString());
        Assert.Equal(expected, string.Join(",", levels));
    }

    [Theory]
    [InlineData("WARN", "DEBUG", LogLevel.Warn)]      // Lambda's ApplicationLogLevel wins over Powertools'
    [InlineData(null, "ERROR", LogLevel.Error)]
    [InlineData(null, "warning", LogLevel.Warn)]
    [InlineData("debug", null, LogLevel.Debug)]
    [InlineData(null, null, LogLevel.Info)]
    [InlineData("LOUD", null, LogLevel.Info)]         // unknown values are ignored
    public void Minimum_level_comes_from_Lambda_then_Powertools_settings(string? lambda, string? powertools, LogLevel expected)
    {
        var variables = new Dictionary<string, string?>
        {
            [LogLevelSettings.LambdaLogLevelVariable] = lambda,
            [LogLevelSettings.PowertoolsLogLevelVariable] = powertools,
        };

        Assert.Equal(expected, LogLevelSettings.FromEnvironment(name => variables.GetValueOrDefault(name)));
    }
}
