using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Mlflow.Client;

namespace MlOps.Serverless.Mlflow.Logging;

/// <summary>
/// The MlflowLogger stage's policy around <see cref="MlflowRunWriter"/>: with no tracking server, or when MLflow
/// is unreachable after the client's bounded retries or rejects a request, the input is written to the
/// outbox and the stage returns <c>deferred</c> with the reason, so the workflow goes on and nothing is lost.
/// An object the logger may not read (StorageAccessDenied) defers the same way, with that reason.
/// Input that breaks the contract still fails the stage (InvalidStageInput): replaying it would not help.
/// </summary>
/// <param name="noClientReason">Why <paramref name="client"/> is null (default: no server configured).</param>
public sealed class MlflowLogger(MlflowClient? client, IObjectStore store, StructuredLog? log = null, TimeProvider? clock = null, string? noClientReason = null)
{
    public const string NoServerReason = "No MLflow tracking server is configured (MLFLOW_TRACKING_URI is not set); the payload is kept in the outbox for `mlops mlflow replay`.";

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public async Task<MlflowLoggerOutput> RunAsync(MlflowLoggerInput input, CancellationToken ct = default)
    {
        MlflowRunWriter.Validate(input);
        // The promotion time is fixed on first sight, so the outbox (and so a replay) carries the same one.
        if (input.Promotion is { PromotedAt: null } promotion)
            input = input with { Promotion = promotion with { PromotedAt = _clock.GetUtcNow() } };
        if (client is null) return await DeferAsync(input, noClientReason ?? NoServerReason, ct);
        try
        {
            var output = await new MlflowRunWriter(client, store, _clock).LogAsync(input, ct);
            if (output.ExperimentId is { } experiment && output.ParentRunId is { } parent)
                output = output with { RunUrl = RunUrl(client.Options.BaseUri, experiment, parent) };
            log?.Info("mlflow logged", ("action", MlflowOutbox.ActionName(input.Action)), ("runId", input.Run.RunId),
                ("experimentId", output.ExperimentId), ("parentRunId", output.ParentRunId), ("childRuns", output.ChildRunIds?.Count ?? 0),
                ("modelVersion", output.ModelVersion));
            return output;
        }
        catch (MlflowError e)
        {
            return await DeferAsync(input, $"{e.GetType().Name}: {e.Message}", ct);
        }
        // An unreadable curves file: the outbox (in the run's work prefix) still keeps the payload, and a
        // replay with credentials that can read it logs everything.
        catch (StorageAccessDenied e)
        {
            return await DeferAsync(input, $"{e.ErrorName}: {e.Message}", ct);
        }
    }

    /// <summary>The run's page in the MLflow UI.</summary>
    public static string RunUrl(Uri trackingUri, string experimentId, string runId) =>
        $"{trackingUri.ToString().TrimEnd('/')}/#/experiments/{experimentId}/runs/{runId}";

    private async Task<MlflowLoggerOutput> DeferAsync(MlflowLoggerInput input, string reason, CancellationToken ct)
    {
        var location = await MlflowOutbox.WriteAsync(store, input, reason, _clock.GetUtcNow(), ct);
        log?.Warn("mlflow logging deferred", ("action", MlflowOutbox.ActionName(input.Action)), ("runId", input.Run.RunId),
            ("outboxUri", location.ToString()), ("reason", reason));
        return new MlflowLoggerOutput(MlflowLoggerStatus.Deferred, OutboxUri: location.ToString(), Reason: reason);
    }
}
