using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Costs;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.SageMaker;
using MlOps.Serverless.Core.Storage;

namespace MlOps.Serverless.Core.Runs;

/// <summary>Deployment settings of the prepare-run stage (Lambda environment variables set by the CDK app).</summary>
/// <param name="RawPrefix">Where upload batches live, e.g. <c>incoming/</c>.</param>
/// <param name="CurrentBatch">The batch a scheduled run reads, e.g. <c>current</c>.</param>
/// <param name="DeploymentOverrides">Deployment-level configuration (same keys as run overrides).</param>
/// <param name="EndpointDeployed">Whether the stack deployed the endpoint that <c>predictions.updateEndpoint</c> updates.</param>
/// <param name="Guardrails">The deployment's cost caps (null: <see cref="CostGuardrails.Defaults"/>).</param>
/// <param name="NamePrefix">The deployment's prefix, leading every SageMaker name (IAM is scoped to it); null locally.</param>
public sealed record RunPreparationSettings(
    string RawBucket,
    string RawPrefix,
    string CurrentBatch,
    string WorkBucket,
    string ArtifactBucket,
    JsonObject? DeploymentOverrides = null,
    bool EndpointDeployed = false,
    CostGuardrails? Guardrails = null,
    string? NamePrefix = null)
{
    public const string ManifestName = "manifest.json";
    public const int MaxObjectsPerBatch = 20;
}

/// <summary>What the state machine passes to the prepare-run stage.</summary>
/// <param name="Event">The execution input: an EventBridge event or a manual request.</param>
/// <param name="ExecutionName"><c>$$.Execution.Name</c>; becomes the run id.</param>
/// <param name="ExecutionArn"><c>$$.Execution.Id</c>.</param>
/// <param name="StartTime"><c>$$.Execution.StartTime</c>.</param>
public sealed record PrepareRunInput(JsonElement Event, string ExecutionName, string ExecutionArn, DateTimeOffset? StartTime);

/// <summary>
/// Turns the three ways a run starts — an EventBridge schedule, an S3 upload marker, a manual start —
/// into one validated <see cref="RunRequest"/>. Every rejection is an <see cref="InvalidRunRequest"/>
/// naming the field path and what was expected.
/// </summary>
public sealed partial class RunPreparation(RunPreparationSettings settings, IObjectStore store)
{
    private static readonly string[] ManualKeys = ["batch", "overrides", "comment"];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._=-]{0,127}$")]
    private static partial Regex BatchIdPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,80}$")]
    private static partial Regex ExecutionNamePattern();

    [GeneratedRegex("^arn:aws[a-z-]*:states:([a-z0-9-]+):[0-9]{12}:execution:[^:]+:[^:]+$")]
    private static partial Regex ExecutionArnPattern();

    public async Task<RunRequest> PrepareAsync(PrepareRunInput input, CancellationToken cancellationToken = default)
    {
        if (!ExecutionNamePattern().IsMatch(input.ExecutionName ?? ""))
            throw new InvalidRunRequest($"executionName: expected 1-80 characters of [A-Za-z0-9_-], got '{input.ExecutionName}'");
        var arn = ExecutionArnPattern().Match(input.ExecutionArn ?? "");
        if (!arn.Success)
            throw new InvalidRunRequest($"executionArn: expected arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME, got '{input.ExecutionArn}'");
        var region = arn.Groups[1].Value;

        var (trigger, batchId, requestedAt, runOverrides) = Classify(input.Event, input.StartTime ?? DateTimeOffset.UtcNow);

        var config = ConfigurationValidator.Validate(
            ConfigurationOverrides.Apply(PipelineConfiguration.Defaults, settings.DeploymentOverrides, "deployment settings (PIPELINE_SETTINGS)", m => new InvalidConfiguration(m)),
            m => new InvalidConfiguration(m + " (from the deployment settings)"));
        var guardrails = settings.Guardrails ?? CostGuardrails.Defaults;
        guardrails.Enforce(config, m => new InvalidConfiguration(m + " (from the deployment settings)"));
        config = ConfigurationValidator.Validate(
            ConfigurationOverrides.Apply(config, runOverrides, "overrides", m => new InvalidRunRequest(m)),
            m => new InvalidRunRequest(m));
        // Refused now: later, the run would fail on the endpoint update after registering the model.
        if (config.Predictions.UpdateEndpoint && !settings.EndpointDeployed)
            throw new InvalidRunRequest("predictions.updateEndpoint: expected false, got true: this stack was deployed without an endpoint " +
                                        "(deployEndpoint=false), so there is no endpoint to update; redeploy with -c deployEndpoint=true to use it");
        guardrails.Enforce(config, m => new InvalidRunRequest(m));

        var data = await DescribeBatchAsync(batchId, cancellationToken);
        var run = new RunRequest(
            input.ExecutionName!, input.ExecutionArn!, trigger, requestedAt, data, config.Resolved(),
            OutputLocations.For(settings.WorkBucket, settings.ArtifactBucket, input.ExecutionName!),
            SageMakerParameters.From(config, region, input.ExecutionName!, uniqueBy: input.ExecutionArn, namePrefix: settings.NamePrefix),
            RunCostEstimate.For(config, data.Objects.Sum(o => o.Size)));
        await CopyInputAsync(run, cancellationToken);
        return run;
    }

    /// <summary>
    /// Exact lineage: the fingerprinted objects (by version) are copied under the run's own prefix, and every later
    /// stage reads only the copy, so an upload overwritten during the run cannot change what the run used.
    /// </summary>
    private async Task CopyInputAsync(RunRequest run, CancellationToken cancellationToken)
    {
        foreach (var source in run.Data.Objects)
        {
            var copy = await store.CopyAsync(run.Data.Bucket, source, run.InputOf(source), cancellationToken);
            // Unversioned storage (local mode) cannot pin a version: refuse a copy that is not what was fingerprinted.
            if (source.VersionId is null && copy.ETag != source.ETag)
                throw new InvalidRunRequest($"data: s3://{run.Data.Bucket}/{source.Key} changed while the run was copying it (ETag {source.ETag}, copied {copy.ETag}); start the run again once the upload is complete");
        }
    }

    private (TriggerKind, string BatchId, DateTimeOffset, JsonObject?) Classify(JsonElement evt, DateTimeOffset startTime)
    {
        if (evt.ValueKind != JsonValueKind.Object)
            throw new InvalidRunRequest($"$: expected a JSON object (an EventBridge event or a manual request), got {Kind(evt)}");

        if (!evt.TryGetProperty("detail-type", out var detailType))
        {
            if (evt.TryGetProperty("source", out _) || evt.TryGetProperty("detail", out _))
                throw new InvalidRunRequest("$: looks like an EventBridge event but has no 'detail-type'; expected a 'Scheduled Event' from aws.events or an 'Object Created' event from aws.s3");
            return Manual(evt, startTime);
        }

        var type = String(evt, "detail-type", "$");
        var source = String(evt, "source", "$");
        return (type, source) switch
        {
            ("Scheduled Event", "aws.events") => (TriggerKind.Schedule, settings.CurrentBatch, Time(evt), null),
            ("Object Created", "aws.s3") => (TriggerKind.S3Upload, UploadBatch(evt), Time(evt), null),
            _ => throw new InvalidRunRequest(
                $"$.detail-type/$.source: unknown event '{type}' from '{source}'; expected 'Scheduled Event' from aws.events or 'Object Created' from aws.s3"),
        };
    }

    private (TriggerKind, string, DateTimeOffset, JsonObject?) Manual(JsonElement evt, DateTimeOffset startTime)
    {
        foreach (var property in evt.EnumerateObject())
            if (!ManualKeys.Contains(property.Name, StringComparer.Ordinal))
                throw new InvalidRunRequest($"$.{property.Name}: unknown field of a manual run request; expected only {string.Join(", ", ManualKeys)}");

        var batch = settings.CurrentBatch;
        if (evt.TryGetProperty("batch", out var batchElement))
        {
            if (batchElement.ValueKind != JsonValueKind.String)
                throw new InvalidRunRequest($"$.batch: expected a string batch id, got {Kind(batchElement)}");
            batch = ValidBatchId(batchElement.GetString()!, "$.batch");
        }

        JsonObject? overrides = null;
        if (evt.TryGetProperty("overrides", out var o))
        {
            if (o.ValueKind != JsonValueKind.Object)
                throw new InvalidRunRequest($"$.overrides: expected an object of configuration keys, got {Kind(o)}");
            overrides = JsonNode.Parse(o.GetRawText())!.AsObject();
        }
        if (evt.TryGetProperty("comment", out var comment) && comment.ValueKind != JsonValueKind.String)
            throw new InvalidRunRequest($"$.comment: expected a string, got {Kind(comment)}");
        return (TriggerKind.Manual, batch, startTime, overrides);
    }

    private string UploadBatch(JsonElement evt)
    {
        var detail = Object(evt, "detail", "$");
        var bucket = String(Object(detail, "bucket", "$.detail"), "name", "$.detail.bucket");
        if (bucket != settings.RawBucket)
            throw new InvalidRunRequest($"$.detail.bucket.name: expected the raw-data bucket '{settings.RawBucket}', got '{bucket}'");
        var key = String(Object(detail, "object", "$.detail"), "key", "$.detail.object");

        const string at = "$.detail.object.key";
        if (key.StartsWith('/') || key.Contains('\\') || key.Contains('%') || key.Contains("//", StringComparison.Ordinal)
            || key.Split('/').Any(segment => segment is "." or ".."))
            throw new InvalidRunRequest($"{at}: '{key}' uses a path trick (absolute path, '..', '.', '//', backslash or URL-encoding); expected {settings.RawPrefix}<batch>/{RunPreparationSettings.ManifestName}");
        if (!key.StartsWith(settings.RawPrefix, StringComparison.Ordinal))
            throw new InvalidRunRequest($"{at}: '{key}' is outside the raw-data prefix '{settings.RawPrefix}'");
        var rest = key[settings.RawPrefix.Length..].Split('/');
        // EventBridge's wildcard also matches '/', so the upload rule delivers nested markers too: not a run, not a failure.
        if (rest.Length > 2 && rest[^1] == RunPreparationSettings.ManifestName)
            throw new UploadIgnored($"{at}: '{key}' is a {RunPreparationSettings.ManifestName} inside a batch folder, not an upload marker ({settings.RawPrefix}<batch>/{RunPreparationSettings.ManifestName}); no run started");
        if (rest.Length != 2 || rest[1] != RunPreparationSettings.ManifestName)
            throw new InvalidRunRequest($"{at}: '{key}' is not an upload marker; expected {settings.RawPrefix}<batch>/{RunPreparationSettings.ManifestName}");
        return ValidBatchId(rest[0], at);
    }

    private static string ValidBatchId(string batch, string at) =>
        BatchIdPattern().IsMatch(batch) && !batch.Contains("..", StringComparison.Ordinal)
            ? batch
            : throw new InvalidRunRequest($"{at}: batch id '{batch}' must be 1-128 characters of [A-Za-z0-9._=-], start with a letter or digit and contain no '..'");

    private async Task<DataLocation> DescribeBatchAsync(string batchId, CancellationToken cancellationToken)
    {
        var prefix = $"{settings.RawPrefix}{batchId}/";
        var objects = await store.ListAsync(settings.RawBucket, prefix, cancellationToken);
        if (objects.Count == 0)
            throw new InvalidRunRequest($"data: no objects under s3://{settings.RawBucket}/{prefix}; upload sales/, features/ and stores/ CSVs there (see the upload convention)");
        if (objects.Count > RunPreparationSettings.MaxObjectsPerBatch)
            throw new InvalidRunRequest($"data: {objects.Count} objects under s3://{settings.RawBucket}/{prefix}; a batch holds at most {RunPreparationSettings.MaxObjectsPerBatch} (three CSV files and the manifest)");
        return new DataLocation(settings.RawBucket, prefix, batchId, objects, Fingerprint(objects));
    }

    /// <summary>Same objects (key, ETag, version) → same fingerprint, whatever the listing order.</summary>
    public static string Fingerprint(IEnumerable<StoredObject> objects)
    {
        var canonical = string.Join('\n', objects.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}\t{o.ETag}\t{o.VersionId}"));
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static DateTimeOffset Time(JsonElement evt)
    {
        var text = String(evt, "time", "$");
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : throw new InvalidRunRequest($"$.time: expected an ISO-8601 timestamp, got '{text}'");
    }

    private static JsonElement Object(JsonElement parent, string name, string at) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : throw new InvalidRunRequest($"{at}.{name}: expected an object, got {(parent.TryGetProperty(name, out var v) ? Kind(v) : "nothing (missing)")}");

    private static string String(JsonElement parent, string name, string at) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s
            ? s
            : throw new InvalidRunRequest($"{at}.{name}: expected a non-empty string, got {(parent.TryGetProperty(name, out var v) ? Kind(v) : "nothing (missing)")}");

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string '{Truncate(e.GetString()!)}'",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {e.GetRawText()}",
        _ => "null",
    };

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";
}
