using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Json;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Functions.Hosting;

namespace MlOps.Serverless.Functions;

/// <summary>
/// Lambda: normalises a schedule, an S3 upload marker or a manual start into the run request.
/// Handler: <c>MlOps.Serverless.Functions::MlOps.Serverless.Functions.PrepareRunFunction::Handle</c>.
/// Environment: RAW_BUCKET, RAW_PREFIX, CURRENT_BATCH, WORK_BUCKET, ARTIFACT_BUCKET, PIPELINE_SETTINGS, GUARDRAILS, NAME_PREFIX,
/// ENDPOINT_NAME (set when the stack deploys the endpoint).
/// </summary>
public sealed class PrepareRunFunction : StageFunction<PrepareRunInput, RunRequest>
{
    private readonly RunPreparation _preparation;

    public PrepareRunFunction() : this(SettingsFromEnvironment(), new S3ObjectStore()) { }

    public PrepareRunFunction(RunPreparationSettings settings, IObjectStore store, StructuredLog? log = null) : base(log) =>
        _preparation = new RunPreparation(settings, store);

    protected override JsonTypeInfo<PrepareRunInput> InputContract => CoreJsonContext.Default.PrepareRunInput;
    protected override JsonTypeInfo<RunRequest> OutputContract => CoreJsonContext.Default.RunRequest;

    // A payload that is not even the state machine's envelope is still a bad run request, not a wiring bug.
    protected override Exception InvalidInput(string message, JsonException? cause) => new InvalidRunRequest(message);

    protected override async Task<RunRequest> RunAsync(PrepareRunInput input, CancellationToken cancellationToken)
    {
        var run = await _preparation.PrepareAsync(input, cancellationToken);
        Log.Info("run prepared", ("runId", run.RunId), ("trigger", run.Trigger.ToString()), ("batch", run.Data.BatchId),
            ("objects", run.Data.Objects.Count), ("fingerprint", run.Data.Fingerprint), ("input", run.Output.InputUri));
        if (run.CostEstimate is { } cost)
            Log.Info("cost estimate", ("runId", run.RunId), ("totalUsd", cost.TotalUsd), ("trainingOnDemandUsd", cost.TrainingOnDemandUsd),
                ("spotDiscountUpToUsd", cost.SpotDiscountUpToUsd), ("athenaUsd", cost.AthenaUsd), ("orchestrationUsd", cost.OrchestrationUsd),
                ("summary", cost.Summary));
        return run;
    }

    public static RunPreparationSettings SettingsFromEnvironment()
    {
        JsonObject? deployment = null;
        if (StageEnvironment.Optional("PIPELINE_SETTINGS") is { } json)
        {
            try { deployment = JsonNode.Parse(json)?.AsObject(); }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new InvalidConfiguration($"PIPELINE_SETTINGS: expected a JSON object of configuration keys ({e.Message})");
            }
        }
        CostGuardrails? guardrails = null;
        if (StageEnvironment.Optional("GUARDRAILS") is { } caps)
        {
            try { guardrails = JsonSerializer.Deserialize(caps, CoreJsonContext.Default.CostGuardrails); }
            catch (JsonException e)
            {
                throw new InvalidConfiguration($"GUARDRAILS: expected a JSON object of cost caps ({e.Message})");
            }
        }
        return new RunPreparationSettings(
            StageEnvironment.Required("RAW_BUCKET"),
            StageEnvironment.Optional("RAW_PREFIX") ?? "incoming/",
            StageEnvironment.Optional("CURRENT_BATCH") ?? "current",
            StageEnvironment.Required("WORK_BUCKET"),
            StageEnvironment.Required("ARTIFACT_BUCKET"),
            deployment,
            EndpointDeployed: StageEnvironment.Optional("ENDPOINT_NAME") is not null,
            Guardrails: guardrails,
            NamePrefix: StageEnvironment.Optional("NAME_PREFIX"));
    }
}
