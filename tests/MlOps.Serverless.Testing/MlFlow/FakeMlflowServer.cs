using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MlOps.Serverless.Testing;

/// <summary>
/// An in-process MLflow tracking server (Kestrel on 127.0.0.1, free port) implementing the REST endpoints
/// the client uses, with MLflow's validation rules and error shapes (mlflow/server/handlers.py,
/// mlflow/utils/validation.py, mlflow/store/tracking/sqlalchemy_store.py, the model registry's SQL store):
/// batch limits, 1 MB log-batch bodies, key rules, immutable params, the SQL store's metric de-duplication
/// (and its failure on re-sent batches of more than 100 metrics), dataset inputs, alias rules, the
/// mlflow-artifacts proxy, 404 RESOURCE_DOES_NOT_EXIST, tag/param filters in runs/search. Faults can be
/// queued per request.
/// </summary>
public sealed partial class FakeMlflowServer : IAsyncDisposable
{
    public const int MaxEntityKeyLength = 250, MaxParamValueLength = 6000, MaxTagValueLength = 8000;
    public const int MaxMetricsPerBatch = 1000, MaxParamsTagsPerBatch = 100, MaxEntitiesPerBatch = 1000, MaxBatchLogRequestSize = 1_000_000;
    // validation.py: dataset and input-tag limits, alias length.
    public const int MaxDatasetNameSize = 500, MaxDatasetDigestSize = 36, MaxDatasetSourceSize = 65535, MaxDatasetSchemaSize = 1048575,
        MaxDatasetProfileSize = 16777215, MaxInputTagKeySize = 255, MaxInputTagValueSize = 500, MaxAliasLength = 255, MaxExperimentTagValueLength = 5000;

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _faults = new();
    private readonly object _lock = new();
    private int _nextExperiment = 1;

    public sealed record Recorded(string Method, string Endpoint, string Query, string Body, IReadOnlyDictionary<string, string> Headers);
    public sealed class Experiment
    {
        public required string Id { get; init; }
        public required string Name { get; init; }
        public Dictionary<string, string> Tags { get; } = new();
    }
    public sealed class Run
    {
        public required string Id { get; init; }
        public required string ExperimentId { get; init; }
        public string? Name { get; set; }
        public string Status { get; set; } = "RUNNING";
        public long StartTime { get; set; }
        public long? EndTime { get; set; }
        public string ArtifactUri { get; set; } = "";
        public Dictionary<string, string> Params { get; } = new();
        public Dictionary<string, string> Tags { get; } = new();
        public List<(string Key, double Value, long Timestamp, long Step)> Metrics { get; } = new();
        public List<DatasetInput> Inputs { get; } = new();
    }
    public sealed record DatasetInput(string Name, string Digest, string SourceType, string Source, IReadOnlyDictionary<string, string> Tags);
    public sealed class Version
    {
        public required string Number { get; init; }
        public required string Source { get; init; }
        public string? RunId { get; set; }
        public Dictionary<string, string> Tags { get; } = new();
    }
    public sealed class Model
    {
        public required string Name { get; init; }
        public string? Description { get; set; }
        public List<Version> Versions { get; } = new();
        public Dictionary<string, string> Aliases { get; } = new();
    }

    public List<Recorded> Requests { get; } = new();
    /// <summary>Every request the server refused (its own 4xx/5xx answers, not injected faults).</summary>
    public List<(string Endpoint, int Status, string Message)> Rejected { get; } = new();
    public Dictionary<string, Experiment> Experiments { get; } = new();
    public Dictionary<string, Run> Runs { get; } = new();
    public Dictionary<string, Model> Models { get; } = new();
    /// <summary>Files written through the mlflow-artifacts proxy, by path under the artifact root.</summary>
    public Dictionary<string, byte[]> Artifacts { get; } = new();
    /// <summary>False plays <c>mlflow server --no-serve-artifacts</c>: the proxy answers 503 and runs get <see cref="ArtifactRoot"/> URIs.</summary>
    public bool ServeArtifacts { get; set; } = true;
    /// <summary>The default artifact root (<c>mlflow-artifacts:</c> when serving artifacts; e.g. <c>s3://bucket/mlflow</c> for SageMaker's managed MLflow).</summary>
    public string ArtifactRoot { get; set; } = "mlflow-artifacts:";
    /// <summary>Page size of runs/search (MLflow honours max_results; a small value exercises page tokens).</summary>
    public int SearchPageSize { get; set; } = 1000;
    public Uri BaseUri { get; private set; } = null!;

    private FakeMlflowServer(WebApplication app) => _app = app;

    public static async Task<FakeMlflowServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeMlflowServer(app);
        server.Experiments["0"] = new Experiment { Id = "0", Name = "Default" };
        app.Run(server.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUri = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // ---- fault injection ----
    public void EnqueueFault(Func<HttpContext, Task> fault, int times = 1) { for (var i = 0; i < times; i++) _faults.Enqueue(fault); }

    public void FailNext(int status, string contentType, string body, int times = 1) => EnqueueFault(async ctx =>
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = contentType;
        await ctx.Response.WriteAsync(body);
    }, times);

    public void DropNextConnection(int times = 1) => EnqueueFault(ctx => { ctx.Abort(); return Task.CompletedTask; }, times);

    /// <summary>Never answers (until the client gives up and the connection closes).</summary>
    public void StallNext(int times = 1) => EnqueueFault(async ctx =>
    {
        try { await Task.Delay(Timeout.Infinite, ctx.RequestAborted); } catch (OperationCanceledException) { }
    }, times);

    public int CountOf(string endpoint) { lock (_lock) return Requests.Count(r => r.Endpoint == endpoint); }

    // ---- request handling ----
    private sealed class MlflowException(int status, string code, string message) : Exception(message)
    {
        public int Status { get; } = status;
        public string Code { get; } = code;
    }

    private static MlflowException Invalid(string message) => new(400, "INVALID_PARAMETER_VALUE", message);
    private static MlflowException NotFound(string message) => new(404, "RESOURCE_DOES_NOT_EXIST", message);
    private static MlflowException Exists(string message) => new(400, "RESOURCE_ALREADY_EXISTS", message);

    private async Task HandleAsync(HttpContext ctx)
    {
        byte[] raw;
        using (var buffer = new MemoryStream()) { await ctx.Request.Body.CopyToAsync(buffer); raw = buffer.ToArray(); }
        var body = Encoding.UTF8.GetString(raw);
        ctx.Items["raw"] = raw;
        var path = ctx.Request.Path.Value ?? "";
        const string prefix = "/api/2.0/mlflow/";
        var endpoint = path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path;
        lock (_lock)
            Requests.Add(new Recorded(ctx.Request.Method, endpoint, ctx.Request.QueryString.Value ?? "", body,
                ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));

        if (_faults.TryDequeue(out var fault)) { await fault(ctx); return; }

        const string artifactsPrefix = "/api/2.0/mlflow-artifacts/artifacts/";
        if (path.StartsWith(artifactsPrefix, StringComparison.Ordinal))
        {
            await HandleArtifactAsync(ctx, path[artifactsPrefix.Length..]);
            return;
        }

        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            // Flask's own 404 page for an unknown route.
            ctx.Response.StatusCode = 404;
            ctx.Response.ContentType = "text/html; charset=utf-8";
            await ctx.Response.WriteAsync("<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server.</p>\n");
            return;
        }

        int status = 200;
        JsonNode response;
        try
        {
            lock (_lock) response = Dispatch(ctx.Request.Method, endpoint, ctx.Request.Query, body);
        }
        catch (MlflowException e)
        {
            status = e.Status;
            response = new JsonObject { ["error_code"] = e.Code, ["message"] = e.Message };
            lock (_lock) Rejected.Add((endpoint, e.Status, e.Message));
        }
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(response.ToJsonString());
    }

    /// <summary>
    /// The mlflow-artifacts proxy (mlflow/server/handlers.py <c>_upload_artifact</c>, <c>_download_artifact</c>): both
    /// answer 503 in plain text when the server runs with <c>--no-serve-artifacts</c> (<c>_disable_unless_serve_artifacts</c>),
    /// and refuse unsafe paths with 400 INVALID_PARAMETER_VALUE "Invalid path" (mlflow/utils/uri.py <c>validate_path_is_safe</c>).
    /// A PUT replaces the file.
    /// </summary>
    private async Task HandleArtifactAsync(HttpContext ctx, string encodedPath)
    {
        if (!ServeArtifacts)
        {
            ctx.Response.StatusCode = 503;
            ctx.Response.ContentType = "text/html; charset=utf-8";
            await ctx.Response.WriteAsync("Endpoint: /api/2.0/mlflow-artifacts/artifacts/<path:artifact_path> disabled due to the mlflow server running with `--no-serve-artifacts`. To enable artifacts server functionality, run `mlflow server` with `--serve-artifacts`");
            return;
        }
        var path = Uri.UnescapeDataString(encodedPath);
        JsonNode response = new JsonObject();
        var status = 200;
        if (path.Contains('#') || path.Contains('\\') || path.Split('/').Contains("..") || path.StartsWith('/') || Regex.IsMatch(path, "^[A-Za-z]:"))
        {
            status = 400;
            response = new JsonObject { ["error_code"] = "INVALID_PARAMETER_VALUE", ["message"] = "Invalid path" };
        }
        else if (ctx.Request.Method == "PUT")
        {
            lock (_lock) Artifacts[path] = (byte[])ctx.Items["raw"]!;
        }
        else if (ctx.Request.Method == "GET")
        {
            byte[]? content;
            lock (_lock) Artifacts.TryGetValue(path, out content);
            if (content is not null)
            {
                ctx.Response.ContentType = "application/octet-stream";
                await ctx.Response.Body.WriteAsync(content);
                return;
            }
            status = 404;
            response = new JsonObject { ["error_code"] = "RESOURCE_DOES_NOT_EXIST", ["message"] = $"File {path} does not exist" };
        }
        else
        {
            status = 405;
            response = new JsonObject { ["error_code"] = "ENDPOINT_NOT_FOUND", ["message"] = $"No {ctx.Request.Method} endpoint" };
        }
        if (status >= 400) lock (_lock) Rejected.Add(("mlflow-artifacts/artifacts", status, response.ToJsonString()));
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(response.ToJsonString());
    }

    private JsonObject Dispatch(string method, string endpoint, IQueryCollection query, string body)
    {
        JsonObject Json()
        {
            try { return JsonNode.Parse(body.Length == 0 ? "{}" : body) as JsonObject ?? throw new MlflowException(400, "MALFORMED_REQUEST", "Request body must be a JSON object"); }
            catch (System.Text.Json.JsonException e) { throw new MlflowException(400, "MALFORMED_REQUEST", $"Malformed request body: {e.Message}"); }
        }
        string Q(string name) => query[name].ToString() is { Length: > 0 } v ? v : throw Invalid($"Missing value for required parameter '{name}'. See the API docs for more information about request parameters.");
        string J(JsonObject o, string name) => o[name]?.GetValue<string>() is { Length: > 0 } v ? v : throw Invalid($"Missing value for required parameter '{name}'. See the API docs for more information about request parameters.");

        switch (method, endpoint)
        {
            case ("GET", "experiments/get-by-name"):
                {
                    var name = Q("experiment_name");
                    var exp = Experiments.Values.FirstOrDefault(e => e.Name == name) ?? throw NotFound($"Could not find experiment with name '{name}'");
                    return new JsonObject { ["experiment"] = ExperimentJson(exp) };
                }
            case ("POST", "experiments/create"):
                {
                    var name = J(Json(), "name");
                    if (Experiments.Values.Any(e => e.Name == name)) throw Exists($"Experiment(name={name}) already exists.");
                    var id = (_nextExperiment++).ToString();
                    Experiments[id] = new Experiment { Id = id, Name = name };
                    return new JsonObject { ["experiment_id"] = id };
                }
            case ("POST", "runs/create"):
                {
                    var req = Json();
                    var expId = J(req, "experiment_id");
                    if (!Experiments.ContainsKey(expId)) throw NotFound($"No Experiment with id={expId} exists");
                    var run = new Run { Id = Guid.NewGuid().ToString("N"), ExperimentId = expId, Name = req["run_name"]?.GetValue<string>(), StartTime = req["start_time"]?.GetValue<long>() ?? 0 };
                    foreach (var t in req["tags"]?.AsArray() ?? [])
                    {
                        var (k, v) = (t!["key"]!.GetValue<string>(), t["value"]!.GetValue<string>());
                        ValidateKey(k, "tag"); ValidateValue(v, "Tag", k, MaxTagValueLength);
                        run.Tags[k] = v;
                    }
                    if (run.Name is not null) run.Tags["mlflow.runName"] = run.Name;
                    run.ArtifactUri = $"{ArtifactRoot.TrimEnd('/')}/{expId}/{run.Id}/artifacts";
                    Runs[run.Id] = run;
                    return new JsonObject { ["run"] = RunJson(run) };
                }
            case ("GET", "runs/get"):
                return new JsonObject { ["run"] = RunJson(FindRun(Q("run_id"))) };
            case ("POST", "runs/log-batch"):
                return LogBatch(body, Json());
            case ("POST", "runs/update"):
                {
                    var req = Json();
                    var run = FindRun(J(req, "run_id"));
                    if (req["status"]?.GetValue<string>() is { } st)
                    {
                        if (st is not ("RUNNING" or "SCHEDULED" or "FINISHED" or "FAILED" or "KILLED")) throw Invalid($"Invalid value {st} for parameter 'status' supplied.");
                        run.Status = st;
                    }
                    if (req["end_time"] is { } end) run.EndTime = end.GetValue<long>();
                    return new JsonObject { ["run_info"] = RunInfoJson(run) };
                }
            case ("POST", "runs/search"):
                return SearchRuns(Json());
            case ("POST", "runs/log-inputs"):
                return LogInputs(Json());
            case ("POST", "experiments/set-experiment-tag"):
                {
                    var req = Json();
                    var id = J(req, "experiment_id");
                    var exp = Experiments.GetValueOrDefault(id) ?? throw NotFound($"No Experiment with id={id} exists");
                    var (k, v) = (J(req, "key"), req["value"]?.GetValue<string>() ?? "");
                    ValidateKey(k, "tag"); ValidateValue(v, "Experiment tag", k, MaxExperimentTagValueLength);
                    exp.Tags[k] = v;
                    return new JsonObject();
                }
            case ("POST", "registered-models/create"):
                {
                    var req = Json();
                    var name = J(req, "name");
                    if (Models.ContainsKey(name)) throw Exists($"Registered Model (name={name}) already exists.");
                    Models[name] = new Model { Name = name, Description = req["description"]?.GetValue<string>() };
                    return new JsonObject { ["registered_model"] = ModelJson(Models[name]) };
                }
            case ("PATCH", "registered-models/update"):
                {
                    var req = Json();
                    var model = FindModel(J(req, "name"));
                    if (req["description"]?.GetValue<string>() is { } d) model.Description = d;
                    return new JsonObject { ["registered_model"] = ModelJson(model) };
                }
            case ("GET", "model-versions/get"):
                {
                    var model = FindModel(Q("name"));
                    var number = Q("version");
                    var version = model.Versions.FirstOrDefault(v => v.Number == number) ?? throw NotFound($"Model Version (name={model.Name}, version={number}) not found");
                    return new JsonObject { ["model_version"] = VersionJson(model, version) };
                }
            case ("GET", "registered-models/get"):
                return new JsonObject { ["registered_model"] = ModelJson(FindModel(Q("name"))) };
            case ("POST", "model-versions/create"):
                {
                    var req = Json();
                    var model = FindModel(J(req, "name"));
                    var version = new Version { Number = (model.Versions.Count + 1).ToString(), Source = J(req, "source"), RunId = req["run_id"]?.GetValue<string>() };
                    foreach (var t in req["tags"]?.AsArray() ?? []) version.Tags[t!["key"]!.GetValue<string>()] = t["value"]!.GetValue<string>();
                    model.Versions.Add(version);
                    return new JsonObject { ["model_version"] = VersionJson(model, version) };
                }
            case ("GET", "model-versions/search"):
                return SearchVersions(query["filter"].ToString());
            case ("POST", "registered-models/alias"):
                {
                    var req = Json();
                    var model = FindModel(J(req, "name"));
                    var alias = req["alias"]?.GetValue<string>() ?? "";
                    var number = J(req, "version");
                    ValidateAlias(alias);
                    _ = model.Versions.FirstOrDefault(v => v.Number == number) ?? throw NotFound($"Model Version (name={model.Name}, version={number}) not found");
                    model.Aliases[alias] = number;
                    return new JsonObject();
                }
            case ("GET", "registered-models/alias"):
                {
                    var model = FindModel(Q("name"));
                    var alias = Q("alias");
                    if (!model.Aliases.TryGetValue(alias, out var number)) throw NotFound($"Registered model alias {alias} not found.");
                    return new JsonObject { ["model_version"] = VersionJson(model, model.Versions.First(v => v.Number == number)) };
                }
            default:
                throw new MlflowException(404, "ENDPOINT_NOT_FOUND", $"No {method} endpoint {endpoint}");
        }
    }

    /// <summary>
    /// log_batch as the SQL store runs it (mlflow/store/tracking/sqlalchemy_store.py): everything is validated
    /// first (validation.py), then params are written, then metrics, then tags, each committed on its own, so
    /// a failure in the metrics keeps the params. Metrics follow <c>_log_metrics</c>, failure included.
    /// </summary>
    private JsonObject LogBatch(string rawBody, JsonObject req)
    {
        if (Encoding.UTF8.GetByteCount(rawBody) > MaxBatchLogRequestSize)
            throw Invalid($"Batched logging API requests must be at most {MaxBatchLogRequestSize} bytes, got a request of size {Encoding.UTF8.GetByteCount(rawBody)}.");
        var run = FindRun(req["run_id"]?.GetValue<string>() ?? throw Invalid("Missing value for required parameter 'run_id'."));
        var metrics = req["metrics"]?.AsArray() ?? [];
        var ps = req["params"]?.AsArray() ?? [];
        var tags = req["tags"]?.AsArray() ?? [];
        Limit("metrics", MaxMetricsPerBatch, metrics.Count);
        Limit("params", MaxParamsTagsPerBatch, ps.Count);
        Limit("tags", MaxParamsTagsPerBatch, tags.Count);
        Limit("metrics, params, and tags", MaxEntitiesPerBatch, metrics.Count + ps.Count + tags.Count);

        var newParams = new List<(string, string)>();
        foreach (var p in ps)
        {
            var (k, v) = (p!["key"]!.GetValue<string>(), p["value"]!.GetValue<string>());
            ValidateKey(k, "param"); ValidateValue(v, "Param", k, MaxParamValueLength);
            newParams.Add((k, v));
        }
        var dupes = newParams.GroupBy(p => p.Item1).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (dupes.Count > 0)
            throw Invalid($"Duplicate parameter keys have been submitted: [{string.Join(", ", dupes.Select(d => $"'{d}'"))}]. Please ensure the request contains only one param value per param key.");
        var newTags = new List<(string, string)>();
        foreach (var t in tags)
        {
            var (k, v) = (t!["key"]!.GetValue<string>(), t["value"]!.GetValue<string>());
            ValidateKey(k, "tag"); ValidateValue(v, "Tag", k, MaxTagValueLength);
            newTags.Add((k, v));
        }
        var newMetrics = new List<(string, double, long, long)>();
        foreach (var m in metrics)
        {
            var k = m!["key"]!.GetValue<string>();
            ValidateKey(k, "metric");
            var valueNode = m["value"] ?? throw Invalid($"Got invalid value None for metric '{k}' (timestamp=..). Please specify value as a valid double (64-bit floating point)");
            var value = valueNode.GetValueKind() == System.Text.Json.JsonValueKind.String ? double.Parse(valueNode.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) : valueNode.GetValue<double>();
            var ts = m["timestamp"]?.GetValue<long>() ?? throw Invalid($"Metric '{k}' has no timestamp.");
            newMetrics.Add((k, value, ts, m["step"]?.GetValue<long>() ?? 0));
        }

        // _log_params: a key already logged with another value is refused; the same value is accepted.
        foreach (var (k, v) in newParams)
            if (run.Params.TryGetValue(k, out var old) && old != v)
                throw Invalid($"Changing param values is not allowed. Param with key='{k}' was already logged with value='{old}' for run ID='{run.Id}'. Attempted logging new value '{v}'.");
        foreach (var (k, v) in newParams) run.Params[k] = v;

        LogMetrics(run, newMetrics);

        foreach (var (k, v) in newTags) run.Tags[k] = v;
        return new JsonObject();
    }

    /// <summary>
    /// sqlalchemy_store.py <c>_log_metrics</c>: metrics are de-duplicated within the request and inserted in one
    /// commit. When the primary key (key, timestamp, step, value) is violated, the store rolls back and walks the
    /// request's metric keys in windows of 100 metrics, each time inserting every metric of the request that is
    /// not in the history of that window's keys. A metric already logged under a key outside the window is then
    /// inserted again and the commit fails with a UNIQUE constraint error, answered as 400 BAD_REQUEST (the
    /// managed session turns SQLAlchemy errors into BAD_REQUEST). Windows committed before the failure stay.
    /// </summary>
    private static void LogMetrics(Run run, List<(string Key, double Value, long Timestamp, long Step)> metrics)
    {
        var instances = metrics.Distinct().ToList();
        void Insert(IReadOnlyList<(string Key, double Value, long Timestamp, long Step)> batch)
        {
            if (batch.Any(run.Metrics.Contains) || batch.Distinct().Count() != batch.Count)
                throw new MlflowException(400, "BAD_REQUEST", "(sqlite3.IntegrityError) UNIQUE constraint failed: metrics.key, metrics.timestamp, metrics.step, metrics.run_uuid, metrics.value, metrics.is_nan");
            run.Metrics.AddRange(batch);
        }
        if (!instances.Any(run.Metrics.Contains)) { Insert(instances); return; }
        var keys = instances.Select(m => m.Key).ToList();
        for (var i = 0; i < keys.Count; i += 100)
        {
            var window = keys.Skip(i).Take(100).ToHashSet();
            var history = run.Metrics.Where(m => window.Contains(m.Key)).ToHashSet();
            Insert(instances.Where(m => !history.Contains(m)).ToList());
        }
    }

    /// <summary>
    /// runs/log-inputs (sqlalchemy_store.py <c>log_inputs</c>, validation.py <c>_validate_dataset</c> and input-tag
    /// limits): a dataset is identified by (name, digest); a run keeps one input per dataset.
    /// </summary>
    private JsonObject LogInputs(JsonObject req)
    {
        var run = FindRun(req["run_id"]?.GetValue<string>() ?? throw Invalid("Missing value for required parameter 'run_id'."));
        foreach (var item in req["datasets"]?.AsArray() ?? [])
        {
            var d = item!["dataset"] ?? throw Invalid("Dataset input must have a dataset associated with it.");
            string Field(string name, string label, int limit)
            {
                var value = d[name]?.GetValue<string>() ?? throw Invalid($"Dataset {label} cannot be None");
                if (value.Length > limit) throw Invalid($"Dataset {label} exceeds the maximum length of {limit}");
                return value;
            }
            var (name, digest) = (Field("name", "name", MaxDatasetNameSize), Field("digest", "digest", MaxDatasetDigestSize));
            var sourceType = d["source_type"]?.GetValue<string>() ?? throw Invalid("Dataset source_type cannot be None");
            var source = Field("source", "source", MaxDatasetSourceSize);
            if (d["schema"]?.GetValue<string>() is { Length: > MaxDatasetSchemaSize }) throw Invalid($"Dataset schema exceeds the maximum length of {MaxDatasetSchemaSize}");
            if (d["profile"]?.GetValue<string>() is { Length: > MaxDatasetProfileSize }) throw Invalid($"Dataset profile exceeds the maximum length of {MaxDatasetProfileSize}");
            var inputTags = new Dictionary<string, string>();
            foreach (var t in item["tags"]?.AsArray() ?? [])
            {
                var (k, v) = (t!["key"]!.GetValue<string>(), t["value"]!.GetValue<string>());
                if (k.Length > MaxInputTagKeySize) throw Invalid($"'key' exceeds the maximum length of {MaxInputTagKeySize} characters");
                if (v.Length > MaxInputTagValueSize) throw Invalid($"'value' exceeds the maximum length of {MaxInputTagValueSize} characters");
                inputTags[k] = v;
            }
            if (!run.Inputs.Any(i => i.Name == name && i.Digest == digest))
                run.Inputs.Add(new DatasetInput(name, digest, sourceType, source, inputTags));
        }
        return new JsonObject();
    }

    private JsonObject SearchRuns(JsonObject req)
    {
        var ids = req["experiment_ids"]?.AsArray().Select(n => n!.GetValue<string>()).ToList() ?? [];
        if (ids.Count == 0) throw Invalid("Missing value for required parameter 'experiment_ids'.");
        var max = req["max_results"]?.GetValue<int>() ?? 1000;
        if (max > 50000) throw Invalid($"Invalid value {max} for parameter 'max_results' supplied. It must be at most 50000, but got value {max}");
        var clauses = ParseFilter(req["filter"]?.GetValue<string>() ?? "");
        var matches = Runs.Values.Where(r => ids.Contains(r.ExperimentId))
            .Where(r => clauses.All(c =>
            {
                var source = c.Kind == "tags" ? r.Tags : r.Params;
                var has = source.TryGetValue(c.Key, out var v);
                return c.Op == "=" ? has && v == c.Value : !has || v != c.Value;
            }))
            .OrderByDescending(r => r.StartTime).ThenBy(r => r.Id).ToList();
        var offset = req["page_token"]?.GetValue<string>() is { Length: > 0 } token ? int.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(token))) : 0;
        var size = Math.Min(max, SearchPageSize);
        var page = matches.Skip(offset).Take(size).ToList();
        var result = new JsonObject { ["runs"] = new JsonArray(page.Select(r => (JsonNode)RunJson(r)).ToArray()) };
        if (offset + size < matches.Count) result["next_page_token"] = Convert.ToBase64String(Encoding.UTF8.GetBytes((offset + size).ToString()));
        return result;
    }

    private JsonObject SearchVersions(string filter)
    {
        var clauses = new Dictionary<string, string>();
        foreach (var part in Regex.Split(filter, @"\s+AND\s+", RegexOptions.IgnoreCase).Where(p => p.Trim().Length > 0))
        {
            var m = Regex.Match(part.Trim(), @"^(name|run_id|source_path)\s*=\s*(?:'(?<v>[^']*)'|""(?<v>[^""]*)"")$");
            if (!m.Success) throw Invalid($"Invalid filter '{filter}'. Could not parse '{part.Trim()}'.");
            clauses[m.Groups[1].Value] = m.Groups["v"].Value;
        }
        var versions = Models.Values.SelectMany(model => model.Versions.Select(v => (model, v)))
            .Where(x => (!clauses.TryGetValue("name", out var n) || x.model.Name == n)
                && (!clauses.TryGetValue("run_id", out var r) || x.v.RunId == r)
                && (!clauses.TryGetValue("source_path", out var s) || x.v.Source == s))
            .Select(x => (JsonNode)VersionJson(x.model, x.v)).ToArray();
        return new JsonObject { ["model_versions"] = new JsonArray(versions) };
    }

    private sealed record Clause(string Kind, string Key, string Op, string Value);

    private static List<Clause> ParseFilter(string filter)
    {
        var result = new List<Clause>();
        if (string.IsNullOrWhiteSpace(filter)) return result;
        foreach (var part in Regex.Split(filter, @"\s+and\s+", RegexOptions.IgnoreCase))
        {
            var m = FilterClause().Match(part.Trim());
            if (!m.Success) throw Invalid($"Invalid clause(s) in filter string: '{part.Trim()}'");
            var key = m.Groups["bq"].Success ? m.Groups["bq"].Value : m.Groups["plain"].Value;
            result.Add(new Clause(m.Groups["kind"].Value, key, m.Groups["op"].Value, m.Groups["value"].Value));
        }
        return result;
    }

    [GeneratedRegex(@"^(?<kind>tags|params)\.(?:`(?<bq>[^`]+)`|(?<plain>[A-Za-z0-9_.\-]+))\s*(?<op>!=|=)\s*(?:'(?<value>[^']*)'|""(?<value>[^""]*)"")$")]
    private static partial Regex FilterClause();

    [GeneratedRegex(@"^[vV]\d+$")]
    private static partial Regex AliasVersionPattern();

    [GeneratedRegex(@"^[\w\-]*$")]
    private static partial Regex AliasCharacters();

    /// <summary>mlflow/utils/validation.py <c>_validate_model_alias_name</c>, in its order.</summary>
    private static void ValidateAlias(string alias)
    {
        if (alias.Length == 0) throw Invalid("Registered model alias name cannot be empty.");
        if (!AliasCharacters().IsMatch(alias)) throw Invalid($"Invalid alias name: '{alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).");
        if (alias.Length > MaxAliasLength) throw Invalid($"'Registered model alias name' exceeds the maximum length of {MaxAliasLength} characters");
        if (alias.Equals("latest", StringComparison.OrdinalIgnoreCase)) throw Invalid("'latest' alias name (case insensitive) is reserved.");
        if (AliasVersionPattern().IsMatch(alias)) throw Invalid($"Version alias name '{alias}' is reserved.");
    }

    [GeneratedRegex(@"^[/\w.\- ]*$")]
    private static partial Regex ValidName();

    private static void Limit(string entity, int limit, int length)
    {
        if (length > limit)
            throw Invalid($"A batch logging request can contain at most {limit} {entity}. Got {length} {entity}. Please split up {entity} across multiple requests and try again.");
    }

    private static void ValidateKey(string key, string kind)
    {
        if (!ValidName().IsMatch(key) || key.Length == 0)
            throw Invalid($"Invalid {kind} name: '{key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).");
        if (key.Length > MaxEntityKeyLength)
            throw Invalid($"{char.ToUpperInvariant(kind[0]) + kind[1..]} name '{key}' had length {key.Length}, which exceeded length limit of {MaxEntityKeyLength}");
    }

    private static void ValidateValue(string value, string entity, string key, int limit)
    {
        if (value.Length > limit)
            throw Invalid($"{entity} value '{value[..Math.Min(value.Length, 20)]}...' had length {value.Length}, which exceeded length limit of {limit}");
    }

    private Run FindRun(string id) => Runs.TryGetValue(id, out var run) ? run : throw NotFound($"Run with id={id} not found");
    private Model FindModel(string name) => Models.TryGetValue(name, out var m) ? m : throw NotFound($"Registered Model with name={name} not found");

    private static JsonObject ExperimentJson(Experiment e) => new()
    {
        ["experiment_id"] = e.Id, ["name"] = e.Name, ["artifact_location"] = $"mlflow-artifacts:/{e.Id}", ["lifecycle_stage"] = "active",
        ["tags"] = new JsonArray(e.Tags.Select(t => (JsonNode)new JsonObject { ["key"] = t.Key, ["value"] = t.Value }).ToArray()),
    };

    private static JsonObject RunInfoJson(Run r)
    {
        var info = new JsonObject
        {
            ["run_id"] = r.Id, ["run_uuid"] = r.Id, ["run_name"] = r.Name, ["experiment_id"] = r.ExperimentId, ["user_id"] = "",
            ["status"] = r.Status, ["start_time"] = r.StartTime, ["artifact_uri"] = r.ArtifactUri, ["lifecycle_stage"] = "active",
        };
        if (r.EndTime is { } end) info["end_time"] = end;
        return info;
    }

    private static JsonObject RunJson(Run r) => new()
    {
        ["info"] = RunInfoJson(r),
        ["inputs"] = new JsonObject
        {
            ["dataset_inputs"] = new JsonArray(r.Inputs.Select(i => (JsonNode)new JsonObject
            {
                ["tags"] = new JsonArray(i.Tags.Select(t => (JsonNode)new JsonObject { ["key"] = t.Key, ["value"] = t.Value }).ToArray()),
                ["dataset"] = new JsonObject { ["name"] = i.Name, ["digest"] = i.Digest, ["source_type"] = i.SourceType, ["source"] = i.Source },
            }).ToArray()),
        },
        ["data"] = new JsonObject
        {
            // Like MLflow: the latest value per metric key (highest step, then timestamp).
            ["metrics"] = new JsonArray(r.Metrics.GroupBy(m => m.Key).Select(g => g.OrderBy(m => m.Step).ThenBy(m => m.Timestamp).Last())
                .Select(m => (JsonNode)new JsonObject { ["key"] = m.Key, ["value"] = m.Value, ["timestamp"] = m.Timestamp, ["step"] = m.Step }).ToArray()),
            ["params"] = new JsonArray(r.Params.Select(p => (JsonNode)new JsonObject { ["key"] = p.Key, ["value"] = p.Value }).ToArray()),
            ["tags"] = new JsonArray(r.Tags.Select(t => (JsonNode)new JsonObject { ["key"] = t.Key, ["value"] = t.Value }).ToArray()),
        },
    };

    private static JsonObject ModelJson(Model m) => new()
    {
        ["name"] = m.Name,
        ["creation_timestamp"] = 0,
        ["description"] = m.Description,
        ["aliases"] = new JsonArray(m.Aliases.Select(a => (JsonNode)new JsonObject { ["alias"] = a.Key, ["version"] = a.Value }).ToArray()),
    };

    private static JsonObject VersionJson(Model m, Version v) => new()
    {
        ["name"] = m.Name, ["version"] = v.Number, ["source"] = v.Source, ["run_id"] = v.RunId, ["status"] = "READY",
        ["tags"] = new JsonArray(v.Tags.Select(t => (JsonNode)new JsonObject { ["key"] = t.Key, ["value"] = t.Value }).ToArray()),
        ["aliases"] = new JsonArray(m.Aliases.Where(a => a.Value == v.Number).Select(a => (JsonNode)a.Key).ToArray()),
    };
}
