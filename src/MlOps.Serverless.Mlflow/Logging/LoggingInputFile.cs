using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.SageMaker;
using MlOps.Serverless.Mlflow.Json;

namespace MlOps.Serverless.Mlflow.Logging;

/// <summary>
/// Reads what <c>mlops mlflow log</c> is given: a stage input (<c>{"action","run",...}</c>), an outbox entry
/// (<c>{"input":{...}}</c>), or a bare tuning result (<c>{"tuningJob","trainingJobs","bestTrainingJob"}</c>),
/// for which a run request is synthesised from the run id (default: the tuning job's name) so that logging
/// the same file twice still finds the same runs.
/// </summary>
public static class LoggingInputFile
{
    public static MlflowLoggerInput Parse(string json, string source, string? runId = null, string? experimentName = null)
    {
        JsonObject root;
        try { root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidStageInput($"{source}: expected a JSON object."); }
        catch (JsonException e) { throw new InvalidStageInput($"{source}: not valid JSON: {e.Message}", e); }

        MlflowLoggerInput input;
        try
        {
            if (root.ContainsKey("input"))
                input = root.Deserialize(MlflowJsonContext.Default.OutboxEntry)!.Input;
            else if (root.ContainsKey("action") && root.ContainsKey("run"))
                input = root.Deserialize(MlflowJsonContext.Default.MlflowLoggerInput)!;
            else if (root.ContainsKey("tuningJob") || root.ContainsKey("trainingJobs") || root.ContainsKey("bestTrainingJob"))
            {
                var training = root.Deserialize(MlflowJsonContext.Default.TrainingResult)!;
                var id = runId ?? training.TuningJob?.HyperParameterTuningJobName ?? training.BestTrainingJob?.TrainingJobName
                    ?? throw new InvalidStageInput($"{source}: the tuning result names no job; pass a run id.");
                input = new MlflowLoggerInput(MlflowLoggerAction.Training, SyntheticRun(id, training), training);
            }
            else
                throw new InvalidStageInput($"{source}: expected a logging-stage input ({{\"action\",\"run\",...}}), an outbox entry ({{\"input\":...}}) or a tuning result ({{\"tuningJob\",\"trainingJobs\",\"bestTrainingJob\"}}); found properties: {string.Join(", ", root.Select(p => p.Key))}.");
        }
        catch (JsonException e)
        {
            throw new InvalidStageInput($"{source}: {(string.IsNullOrEmpty(e.Path) ? "" : e.Path + ": ")}{e.Message.Split(" Path:", 2)[0]}", e);
        }

        if (runId is not null && input.Run.RunId != runId)
            input = input with { Run = input.Run with { RunId = runId } };
        if (experimentName is not null)
            input = input with { Run = input.Run with { Config = input.Run.Config with { Mlflow = input.Run.Config.Mlflow with { ExperimentName = experimentName } } } };
        return input;
    }

    /// <summary>A run request for a result logged outside the workflow; every field derives from the file, so it is stable.</summary>
    private static RunRequest SyntheticRun(string runId, TrainingResult training)
    {
        var config = PipelineConfiguration.Defaults;
        var requestedAt = training.TuningJob?.CreationTime
            ?? training.TrainingJobs?.Select(j => j.TrainingStartTime ?? j.CreationTime).Where(t => t is not null).Min()
            ?? training.BestTrainingJob?.TrainingStartTime
            ?? DateTimeOffset.UnixEpoch;
        return new RunRequest(runId, $"manual:{runId}", TriggerKind.Manual, requestedAt,
            new DataLocation("", "", "", [], ""), config, OutputLocations.For("local", "local", runId),
            SageMakerParameters.From(config, "us-east-1", runId));
    }
}
