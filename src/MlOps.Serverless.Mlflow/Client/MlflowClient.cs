using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MlOps.Serverless.Mlflow.Authentication;
using MlOps.Serverless.Mlflow.Json;

namespace MlOps.Serverless.Mlflow.Client;

/// <summary>Which failures are retried, and for how long. Only transient ones: connection errors, timeouts, 429, 5xx.</summary>
public sealed record MlflowRetryPolicy
{
    public int MaxAttempts { get; init; } = 5;
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(8);
    /// <summary>No retry starts once this much time has passed since the first attempt (attempts + waits).</summary>
    public TimeSpan MaxTotalTime { get; init; } = TimeSpan.FromSeconds(45);
    /// <summary>One attempt's timeout; a timed-out attempt counts as transient.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Exponential backoff with "equal jitter": half the step fixed, half random, capped.</summary>
    public TimeSpan DelayBefore(int retry, double random01)
    {
        var step = Math.Min(MaxDelay.TotalMilliseconds, InitialDelay.TotalMilliseconds * Math.Pow(2, retry - 1));
        return TimeSpan.FromMilliseconds(step / 2 + step / 2 * Math.Clamp(random01, 0, 1));
    }
}

public sealed record MlflowClientOptions
{
    /// <summary>The server's base address, e.g. <c>http://127.0.0.1:5000/</c> or <c>https://us-east-1.experiments.sagemaker.aws/</c>.</summary>
    public required Uri BaseUri { get; init; }
    public IMlflowAuthenticator Authenticator { get; init; } = NoAuthentication.Instance;
    public MlflowRetryPolicy Retry { get; init; } = new();
    public MlflowLimits Limits { get; init; } = MlflowLimits.Default;
    public TimeProvider Clock { get; init; } = TimeProvider.System;
    /// <summary>How the client waits between attempts; tests record instead of sleeping.</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = Task.Delay;
    public Func<double> Jitter { get; init; } = Random.Shared.NextDouble;
    /// <summary>Told about each retry (endpoint, attempt just failed, why, wait), e.g. to log it. Never given secrets.</summary>
    public Action<string, int, string, TimeSpan>? OnRetry { get; init; }
}

/// <summary>
/// A typed client for the MLflow REST API 2.0 (<c>/api/2.0/mlflow/...</c>). Non-success answers become
/// <see cref="MlflowError"/> subclasses; transient failures are retried within <see cref="MlflowRetryPolicy"/>.
/// </summary>
public sealed class MlflowClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Uri _api;
    private readonly Uri _artifacts;
    private int _attempts;

    public MlflowClient(MlflowClientOptions options, HttpMessageHandler? handler = null)
    {
        Options = options;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: handler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan, // per-attempt timeouts come from the retry policy
        };
        var baseText = options.BaseUri.ToString();
        _api = new Uri(baseText.EndsWith('/') ? baseText : baseText + "/", UriKind.Absolute);
        _artifacts = new Uri(_api, "api/2.0/mlflow-artifacts/artifacts/");
        _api = new Uri(_api, "api/2.0/mlflow/");
    }

    public MlflowClientOptions Options { get; }

    /// <summary>Number of HTTP attempts made so far (diagnostics for callers and tests).</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    // ---- experiments ----

    /// <summary>The experiment, or null when MLflow answers RESOURCE_DOES_NOT_EXIST.</summary>
    public async Task<MlflowExperiment?> GetExperimentByNameAsync(string name, CancellationToken ct = default)
    {
        try
        {
            var r = await GetAsync("experiments/get-by-name", [("experiment_name", name)], MlflowJsonContext.Default.GetExperimentResponse, ct);
            return r.Experiment;
        }
        catch (MlflowResourceNotFound) { return null; }
    }

    public async Task<string> CreateExperimentAsync(string name, CancellationToken ct = default) =>
        (await PostAsync("experiments/create", new CreateExperimentRequest(name), MlflowJsonContext.Default.CreateExperimentRequest,
            MlflowJsonContext.Default.CreateExperimentResponse, ct)).ExperimentId;

    /// <summary>Gets or creates the experiment; a concurrent creator's RESOURCE_ALREADY_EXISTS is resolved by reading it back.</summary>
    public async Task<string> GetOrCreateExperimentAsync(string name, CancellationToken ct = default)
    {
        if (await GetExperimentByNameAsync(name, ct) is { } existing)
        {
            // A deleted experiment keeps its name; logging into it would fail run by run.
            if (existing.LifecycleStage == "deleted")
                throw new MlflowInvalidParameter($"Experiment '{name}' (id {existing.ExperimentId}) is deleted; restore it (mlflow experiments restore) or configure another mlflow.experimentName.",
                    "experiments/get-by-name", null, "INVALID_STATE");
            return existing.ExperimentId;
        }
        try { return await CreateExperimentAsync(name, ct); }
        catch (MlflowResourceAlreadyExists)
        {
            return (await GetExperimentByNameAsync(name, ct))?.ExperimentId
                ?? throw new MlflowResourceNotFound($"Experiment '{name}' was reported as existing but cannot be read back.", "experiments/get-by-name", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        }
    }

    // ---- runs ----

    public async Task<MlflowRun> CreateRunAsync(string experimentId, string? runName, DateTimeOffset startTime, IReadOnlyList<MlflowTag> tags, CancellationToken ct = default)
    {
        foreach (var t in tags) MlflowBatching.CheckKey(t.Key, "tag", Options.Limits, "runs/create");
        return (await PostAsync("runs/create", new CreateRunRequest(experimentId, runName, startTime.ToUnixTimeMilliseconds(), tags),
            MlflowJsonContext.Default.CreateRunRequest, MlflowJsonContext.Default.RunResponse, ct)).Run;
    }

    public async Task<MlflowRun> GetRunAsync(string runId, CancellationToken ct = default) =>
        (await GetAsync("runs/get", [("run_id", runId)], MlflowJsonContext.Default.RunResponse, ct)).Run;

    /// <summary>Logs everything, split into as many log-batch requests as the limits need. Returns the number of requests sent.</summary>
    public async Task<int> LogBatchAsync(string runId, IEnumerable<MlflowMetric> metrics, IEnumerable<MlflowParam> parameters, IEnumerable<MlflowTag> tags, CancellationToken ct = default)
    {
        var batches = MlflowBatching.Split(runId, metrics, parameters, tags, Options.Limits);
        foreach (var batch in batches)
            await PostAsync("runs/log-batch", batch, MlflowJsonContext.Default.LogBatchRequest, MlflowJsonContext.Default.EmptyResponse, ct);
        return batches.Count;
    }

    public Task UpdateRunAsync(string runId, string status, DateTimeOffset? endTime, CancellationToken ct = default) =>
        PostAsync("runs/update", new UpdateRunRequest(runId, status, endTime?.ToUnixTimeMilliseconds()),
            MlflowJsonContext.Default.UpdateRunRequest, MlflowJsonContext.Default.EmptyResponse, ct);

    /// <summary>Every run matching an MLflow search filter, following page tokens.</summary>
    public async Task<IReadOnlyList<MlflowRun>> SearchRunsAsync(IReadOnlyList<string> experimentIds, string filter, CancellationToken ct = default)
    {
        var runs = new List<MlflowRun>();
        string? token = null;
        do
        {
            var page = await PostAsync("runs/search", new SearchRunsRequest(experimentIds, filter, "ACTIVE_ONLY", 1000, token),
                MlflowJsonContext.Default.SearchRunsRequest, MlflowJsonContext.Default.SearchRunsResponse, ct);
            runs.AddRange(page.Runs ?? []);
            token = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
        } while (token is not null);
        return runs;
    }

    /// <summary>The runs whose tag <paramref name="key"/> equals <paramref name="value"/>: <c>tags.`key` = 'value'</c>.</summary>
    public Task<IReadOnlyList<MlflowRun>> FindRunsByTagAsync(string experimentId, string key, string value, CancellationToken ct = default)
    {
        MlflowBatching.CheckKey(key, "tag", Options.Limits, "runs/search");
        return SearchRunsAsync([experimentId], $"tags.`{key}` = {QuoteFilterValue(value, "runs/search")}", ct);
    }

    /// <summary>
    /// A search-filter string literal. MLflow's filter parser takes single- or double-quoted values and has no
    /// escape sequence, so a value holding both quote characters cannot be searched for.
    /// </summary>
    public static string QuoteFilterValue(string value, string endpoint)
    {
        if (!value.Contains('\'')) return "'" + value + "'";
        if (!value.Contains('"')) return "\"" + value + "\"";
        throw new MlflowInvalidParameter($"'{value}' cannot be used in an MLflow search filter: it contains both quote characters.", endpoint, null, "INVALID_PARAMETER_VALUE");
    }

    /// <summary>runs/log-inputs. The server keeps one input per (dataset name, digest) and run, so re-sending changes nothing.</summary>
    public Task LogInputsAsync(string runId, IReadOnlyList<MlflowDatasetInput> datasets, CancellationToken ct = default) =>
        PostAsync("runs/log-inputs", new LogInputsRequest(runId, datasets), MlflowJsonContext.Default.LogInputsRequest, MlflowJsonContext.Default.EmptyResponse, ct);

    /// <summary>experiments/set-experiment-tag (e.g. <c>mlflow.note.content</c>, the description the UI shows); setting it again is a no-op.</summary>
    public Task SetExperimentTagAsync(string experimentId, string key, string value, CancellationToken ct = default) =>
        PostAsync("experiments/set-experiment-tag", new SetExperimentTagRequest(experimentId, key, value), MlflowJsonContext.Default.SetExperimentTagRequest,
            MlflowJsonContext.Default.EmptyResponse, ct);

    // ---- artifacts (the tracking server's mlflow-artifacts proxy) ----

    /// <summary>
    /// <c>PUT /api/2.0/mlflow-artifacts/artifacts/{path}</c>: writes one file under a run's <c>mlflow-artifacts:</c>
    /// artifact URI. A PUT of the same path replaces the file, so re-sending is idempotent.
    /// </summary>
    public async Task UploadArtifactAsync(string artifactUri, string relativePath, ReadOnlyMemory<byte> content, CancellationToken ct = default)
    {
        var path = MlflowArtifactPaths.ProxyPath(artifactUri, relativePath);
        var escaped = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        await SendAsync(HttpMethod.Put, "mlflow-artifacts/artifacts", new Uri(_artifacts, escaped), content, "application/octet-stream",
            MlflowJsonContext.Default.EmptyResponse, ct);
    }

    // ---- model registry ----

    /// <summary>The registered model, or null when it does not exist.</summary>
    public async Task<MlflowRegisteredModel?> GetRegisteredModelAsync(string name, CancellationToken ct = default)
    {
        try { return (await GetAsync("registered-models/get", [("name", name)], MlflowJsonContext.Default.RegisteredModelResponse, ct)).RegisteredModel; }
        catch (MlflowResourceNotFound) { return null; }
    }

    public async Task<MlflowRegisteredModel> CreateRegisteredModelAsync(string name, string? description = null, CancellationToken ct = default) =>
        (await PostAsync("registered-models/create", new CreateRegisteredModelRequest(name, description), MlflowJsonContext.Default.CreateRegisteredModelRequest,
            MlflowJsonContext.Default.RegisteredModelResponse, ct)).RegisteredModel;

    public async Task<MlflowRegisteredModel> UpdateRegisteredModelAsync(string name, string description, CancellationToken ct = default) =>
        (await SendAsync(HttpMethod.Patch, "registered-models/update", new Uri(_api, "registered-models/update"),
            JsonSerializer.SerializeToUtf8Bytes(new UpdateRegisteredModelRequest(name, description), MlflowJsonContext.Default.UpdateRegisteredModelRequest),
            "application/json", MlflowJsonContext.Default.RegisteredModelResponse, ct)).RegisteredModel;

    /// <summary>Gets or creates the registered model, tolerating a concurrent creator; a given description is set when it differs.</summary>
    public async Task<MlflowRegisteredModel> GetOrCreateRegisteredModelAsync(string name, string? description = null, CancellationToken ct = default)
    {
        if (await GetRegisteredModelAsync(name, ct) is { } existing)
            return description is null || existing.Description == description ? existing : await UpdateRegisteredModelAsync(name, description, ct);
        try { return await CreateRegisteredModelAsync(name, description, ct); }
        catch (MlflowResourceAlreadyExists)
        {
            return await GetRegisteredModelAsync(name, ct)
                ?? throw new MlflowResourceNotFound($"Registered model '{name}' was reported as existing but cannot be read back.", "registered-models/get", HttpStatusCode.NotFound, "RESOURCE_DOES_NOT_EXIST");
        }
    }

    public async Task<MlflowModelVersion> CreateModelVersionAsync(string name, string source, string? runId, IReadOnlyList<MlflowTag>? tags = null, CancellationToken ct = default) =>
        (await PostAsync("model-versions/create", new CreateModelVersionRequest(name, source, runId, tags), MlflowJsonContext.Default.CreateModelVersionRequest,
            MlflowJsonContext.Default.ModelVersionResponse, ct)).ModelVersion;

    public async Task<MlflowModelVersion> GetModelVersionAsync(string name, string version, CancellationToken ct = default) =>
        (await GetAsync("model-versions/get", [("name", name), ("version", version)], MlflowJsonContext.Default.ModelVersionResponse, ct)).ModelVersion;

    /// <summary>Model versions matching a filter such as <c>name='m' AND run_id='r'</c>.</summary>
    public async Task<IReadOnlyList<MlflowModelVersion>> SearchModelVersionsAsync(string filter, CancellationToken ct = default)
    {
        var versions = new List<MlflowModelVersion>();
        string? token = null;
        do
        {
            List<(string, string)> query = [("filter", filter), ("max_results", "200")];
            if (token is not null) query.Add(("page_token", token));
            var page = await GetAsync("model-versions/search", query, MlflowJsonContext.Default.SearchModelVersionsResponse, ct);
            versions.AddRange(page.ModelVersions ?? []);
            token = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
        } while (token is not null);
        return versions;
    }

    public Task SetRegisteredModelAliasAsync(string name, string alias, string version, CancellationToken ct = default) =>
        PostAsync("registered-models/alias", new SetAliasRequest(name, alias, version), MlflowJsonContext.Default.SetAliasRequest,
            MlflowJsonContext.Default.EmptyResponse, ct);

    /// <summary>The version an alias points at, or null when the alias (or the model) does not exist.</summary>
    public async Task<MlflowModelVersion?> GetModelVersionByAliasAsync(string name, string alias, CancellationToken ct = default)
    {
        try { return (await GetAsync("registered-models/alias", [("name", name), ("alias", alias)], MlflowJsonContext.Default.ModelVersionResponse, ct)).ModelVersion; }
        catch (MlflowResourceNotFound) { return null; }
    }

    // ---- transport ----

    private Task<TResponse> GetAsync<TResponse>(string endpoint, IReadOnlyList<(string Key, string Value)> query, JsonTypeInfo<TResponse> response, CancellationToken ct)
    {
        var qs = string.Join('&', query.Select(q => Uri.EscapeDataString(q.Key) + "=" + Uri.EscapeDataString(q.Value)));
        return SendAsync(HttpMethod.Get, endpoint, new Uri(_api, endpoint + (qs.Length > 0 ? "?" + qs : "")), ReadOnlyMemory<byte>.Empty, null, response, ct);
    }

    private Task<TResponse> PostAsync<TRequest, TResponse>(string endpoint, TRequest body, JsonTypeInfo<TRequest> request, JsonTypeInfo<TResponse> response, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, endpoint, new Uri(_api, endpoint), JsonSerializer.SerializeToUtf8Bytes(body, request), "application/json", response, ct);

    private async Task<TResponse> SendAsync<TResponse>(HttpMethod method, string endpoint, Uri uri, ReadOnlyMemory<byte> body, string? contentType,
        JsonTypeInfo<TResponse> responseType, CancellationToken ct)
    {
        var policy = Options.Retry;
        var started = Options.Clock.GetTimestamp();
        string lastFailure = "";
        HttpStatusCode? lastStatus = null;
        string? lastCode = null;
        Exception? lastException = null;

        for (var attempt = 1; ; attempt++)
        {
            TimeSpan? retryAfter = null;
            using (var request = await NewRequestAsync(method, uri, body, contentType, ct))
            {
                using var timeout = new CancellationTokenSource(policy.AttemptTimeout, Options.Clock);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
                Interlocked.Increment(ref _attempts);
                try
                {
                    using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token);
                    var text = await response.Content.ReadAsStringAsync(linked.Token);
                    if (response.IsSuccessStatusCode)
                        return Parse(text, responseType, method, endpoint, response);

                    var (code, message) = ReadError(text, response);
                    if (!IsTransient(response.StatusCode))
                        throw MapError(method, endpoint, response.StatusCode, code, message);
                    lastStatus = response.StatusCode; lastCode = code; lastException = null;
                    lastFailure = $"HTTP {(int)response.StatusCode}{(code is null ? "" : " " + code)}: {message}";
                    retryAfter = response.Headers.RetryAfter?.Delta;
                }
                catch (HttpRequestException e)
                {
                    lastStatus = null; lastCode = null; lastException = e;
                    lastFailure = $"connection failed ({e.HttpRequestError}: {e.Message})";
                }
                catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
                {
                    lastStatus = null; lastCode = null; lastException = e;
                    lastFailure = $"no answer within the {policy.AttemptTimeout.TotalSeconds:0.###} s attempt timeout";
                }
            }

            var elapsed = Options.Clock.GetElapsedTime(started);
            var delay = policy.DelayBefore(attempt, Options.Jitter());
            if (retryAfter is { } ra && ra > delay) delay = ra < policy.MaxDelay ? ra : policy.MaxDelay;
            if (attempt >= policy.MaxAttempts || elapsed + delay > policy.MaxTotalTime)
                throw new MlflowUnavailable(
                    $"MLflow at {_api.Scheme}://{_api.Authority} is unavailable: {method} {endpoint} failed {attempt} time(s) over {elapsed.TotalSeconds:0.0} s; last: {lastFailure}",
                    endpoint, lastStatus, lastCode, lastException);
            Options.OnRetry?.Invoke(endpoint, attempt, lastFailure, delay);
            await Options.Delay(delay, ct);
        }
    }

    /// <summary>A new request per attempt (a sent request cannot be sent again), authenticated over its body.</summary>
    private async Task<HttpRequestMessage> NewRequestAsync(HttpMethod method, Uri uri, ReadOnlyMemory<byte> body, string? contentType, CancellationToken ct)
    {
        var request = new HttpRequestMessage(method, uri);
        try
        {
            if (contentType is not null)
            {
                request.Content = new ReadOnlyMemoryContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
            }
            await Options.Authenticator.ApplyAsync(request, body, ct);
            return request;
        }
        catch
        {
            request.Dispose();
            throw;
        }
    }

    private static bool IsTransient(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    private static TResponse Parse<TResponse>(string text, JsonTypeInfo<TResponse> type, HttpMethod method, string endpoint, HttpResponseMessage response)
    {
        try
        {
            return JsonSerializer.Deserialize(string.IsNullOrWhiteSpace(text) ? "{}" : text, type)
                ?? throw new JsonException("null body");
        }
        catch (JsonException e)
        {
            throw new MlflowRequestFailed($"MLflow {method} {endpoint} answered HTTP {(int)response.StatusCode} with a body that is not the expected JSON ({Describe(text, response)}): {e.Message}",
                endpoint, response.StatusCode, null);
        }
    }

    /// <summary>MLflow's <c>{"error_code","message"}</c>, or a description of a non-JSON page (a proxy's HTML 502, say).</summary>
    private static (string? Code, string Message) ReadError(string text, HttpResponseMessage response)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        if (mediaType.Contains("json", StringComparison.OrdinalIgnoreCase) || text.TrimStart().StartsWith('{'))
        {
            try
            {
                var body = JsonSerializer.Deserialize(text, MlflowJsonContext.Default.MlflowErrorBody);
                if (body is { ErrorCode: not null } or { Message: not null })
                    return (body.ErrorCode, body.Message ?? "(no message)");
            }
            catch (JsonException) { /* fall through: describe the raw body */ }
        }
        return (null, $"non-JSON error body ({Describe(text, response)})");
    }

    private static string Describe(string text, HttpResponseMessage response)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "no content type";
        var title = System.Text.RegularExpressions.Regex.Match(text, "<title>(.*?)</title>", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.Singleline);
        var snippet = title.Success ? title.Groups[1].Value : text;
        snippet = System.Text.RegularExpressions.Regex.Replace(snippet, @"\s+", " ").Trim();
        if (snippet.Length > 160) snippet = snippet[..160] + "...";
        return snippet.Length == 0 ? $"{mediaType}, empty" : $"{mediaType}: \"{snippet}\"";
    }

    private static MlflowError MapError(HttpMethod method, string endpoint, HttpStatusCode status, string? code, string message)
    {
        var text = $"MLflow {method} {endpoint} failed with HTTP {(int)status}{(code is null ? "" : " " + code)}: {message}";
        return code switch
        {
            "RESOURCE_DOES_NOT_EXIST" => new MlflowResourceNotFound(text, endpoint, status, code),
            "RESOURCE_ALREADY_EXISTS" => new MlflowResourceAlreadyExists(text, endpoint, status, code),
            "INVALID_PARAMETER_VALUE" or "MALFORMED_REQUEST" or "BAD_REQUEST" or "INVALID_STATE" => new MlflowInvalidParameter(text, endpoint, status, code),
            null when status == HttpStatusCode.NotFound => new MlflowResourceNotFound(text, endpoint, status, code),
            _ => new MlflowRequestFailed(text, endpoint, status, code),
        };
    }

    /// <summary>Disposes the HttpClient; a handler passed in by the caller stays the caller's.</summary>
    public void Dispose() => _http.Dispose();
}
