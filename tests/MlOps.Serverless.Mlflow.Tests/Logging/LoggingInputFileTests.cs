using System.Text.Json;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Mlflow.Json;
using MlOps.Serverless.Mlflow.Logging;

namespace MlOps.Serverless.Mlflow.Tests.Logging;

public sealed class LoggingInputFileTests
{
    [Fact]
    public void A_bare_tuning_result_becomes_a_training_input_named_after_the_tuning_job()
    {
        var json = JsonSerializer.Serialize(Samples.Tuning(2), MlflowJsonContext.Default.TrainingResult);
        var input = LoggingInputFile.Parse(json, "t.json");
        Assert.Equal(MlflowLoggerAction.Training, input.Action);
        Assert.Equal("tune-a", input.Run.RunId);
        Assert.Equal(2, input.Training!.TrainingJobs!.Count);
        // Same file, same synthetic run: what idempotent re-logging relies on.
        string Serialised(MlflowLoggerInput i) => JsonSerializer.Serialize(i.Run, MlflowJsonContext.Default.RunRequest);
        Assert.Equal(Serialised(input), Serialised(LoggingInputFile.Parse(json, "t.json")));
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 6, 10, 0, TimeSpan.Zero), input.Run.RequestedAt); // the tuning job's CreationTime
    }

    [Fact]
    public void Stage_inputs_and_outbox_entries_are_read_with_overrides_applied()
    {
        var stageInput = Samples.Training();
        var asInput = JsonSerializer.Serialize(stageInput, MlflowJsonContext.Default.MlflowLoggerInput);
        var asEntry = JsonSerializer.Serialize(new OutboxEntry(1, DateTimeOffset.UnixEpoch, "down", stageInput), MlflowJsonContext.Default.OutboxEntry);

        Assert.Equal(stageInput.Run.RunId, LoggingInputFile.Parse(asInput, "i.json").Run.RunId);
        var overridden = LoggingInputFile.Parse(asEntry, "e.json", runId: "other", experimentName: "sandbox");
        Assert.Equal("other", overridden.Run.RunId);
        Assert.Equal("sandbox", overridden.Run.Config.Mlflow.ExperimentName);
    }

    [Theory]
    [InlineData("[1,2]", "expected a JSON object")]
    [InlineData("{\"foo\":1}", "found properties: foo")]
    [InlineData("{\"trainingJobs\":[{\"TrainingJobName\":5}]}", "trainingJobs")]
    public void Unrecognised_files_are_invalid_input_naming_the_problem(string json, string expected)
    {
        var e = Assert.Throws<InvalidStageInput>(() => LoggingInputFile.Parse(json, "x.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("x.json", e.Message);
    }
}
