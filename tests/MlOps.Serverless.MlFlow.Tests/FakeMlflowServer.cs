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

namespace MlOps.Serverless.MlFlow.Tests;

/// <summary>
/// An in-process MLflow tracking server (Kestrel on 127.0.0.1, free port) implementing the REST endpoints
/// the client uses, with MLflow's validation rules and error shapes (mlflow/server/handlers.py,
/// mlflow/utils/validation.py, the SQL store): batch limits, 1 MB log-batch bodies, key rules, immutable
/// params, metric de-duplication on (key, value, timestamp, step), 404 RESOURCE_DOES_NOT_EXIST, aliases that
/// must point at an existing version, tag/param filters in runs/search. Faults can be queued per request.
/// </summary>
public sealed partial class FakeMlflowServer : IAsyncDisposable
{
    public const int MaxEntityKeyLength = 250, MaxParamValueLength = 6000, MaxTagValueLength = 8000;
    public const int MaxMetricsPerBatch = 1000, MaxParamsTagsPerBatch = 100, MaxEntitiesPerBatch = 1000, MaxBatchLogRequestSize = 1_000_000;

    private readonly WebApplication _app;
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _faults = new();
    private readonly object _lock = new();
    private int _nextExperiment = 1;

    public sealed record Recorded(string Method, string Endpoint, string Query, string Body, IReadOnlyDictionary<string, string> Headers);
    public sealed class Experiment { public required string Id; public required string Name; }
    public sealed class Run
    {
        public required string Id; public required string ExperimentId; public string? Name; public string Status = "RUNNING";
        public long StartTime; public long? EndTime;
        public Dictionary<string, string> Params = new(); public Dictionary<string, string> Tags = new();
        public List<(string Key, double Value, long Timestamp, long Step)> Metrics = new();
    }
    public sealed class Version { public required string Number; public required string Source; public string? RunId; public Dictionary<string, string> Tags = new(); }
    public sealed class Model { public required string Name; public List<Version> Versions = new(); public Dictionary<string, string> Aliases = new(); }

    public List<Recorded> Requests { get; } = new();
    public Dictionary<string, Experiment> Experiments { get; } = new();
    public Dictionary<string, Run> Runs { get; } = new();
    public Dictionary<string, Model> Models { get; } = new();
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
        string body;
        using (var reader = new StreamReader(ctx.Request.Body, Encoding.UTF8)) body = await reader.ReadToEndAsync();
        var path = ctx.Request.Path.Value ?? "";
        const string prefix = "/api/2.0/mlflow/";
        var endpoint = path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path;
        lock (_lock)
            Requests.Add(new Recorded(ctx.Request.Method, endpoint, ctx.Request.QueryString.Value ?? "", body,
                ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));

        if (_faults.TryDequeue(out var fault)) { await fault(ctx); return; }

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
        }
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.WriteAsync(response.ToJsonString());
    }

    private JsonNode Dispatch(string method, string endpoint, IQueryCollection query, string body)
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
            case ("POST", "registered-models/create"):
            {
                var name = J(Json(), "name");
                if (Models.ContainsKey(name)) throw Exists($"Registered Model (name={name}) already exists.");
                Models[name] = new Model { Name = name };
                return new JsonObject { ["registered_model"] = ModelJson(Models[name]) };
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
                var alias = J(req, "alias");
                var number = J(req, "version");
                if (AliasPattern().IsMatch(alias) || alias.Equals("latest", StringComparison.OrdinalIgnoreCase))
                    throw Invalid($"Invalid alias name: '{alias}'. Aliases cannot be of the form 'v<number>' or 'latest'.");
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

    private JsonNode LogBatch(string rawBody, JsonObject req)
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
            if (run.Params.TryGetValue(k, out var old) && old != v)
                throw Invalid($"Changing param values is not allowed. Param with key='{k}' was already logged with value='{old}' for run ID='{run.Id}'. Attempted logging new value '{v}'.");
            newParams.Add((k, v));
        }
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
        foreach (var (k, v) in newParams) run.Params[k] = v;
        foreach (var (k, v) in newTags) run.Tags[k] = v;
        foreach (var metric in newMetrics)
            if (!run.Metrics.Contains(metric)) run.Metrics.Add(metric); // the SQL store's primary key de-duplicates
        return new JsonObject();
    }

    private JsonNode SearchRuns(JsonObject req)
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

    private JsonNode SearchVersions(string filter)
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

    [GeneratedRegex(@"^v\d+$", RegexOptions.IgnoreCase)]
    private static partial Regex AliasPattern();

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
    };

    private static JsonObject RunInfoJson(Run r)
    {
        var info = new JsonObject
        {
            ["run_id"] = r.Id, ["run_uuid"] = r.Id, ["run_name"] = r.Name, ["experiment_id"] = r.ExperimentId, ["user_id"] = "",
            ["status"] = r.Status, ["start_time"] = r.StartTime, ["artifact_uri"] = $"mlflow-artifacts:/{r.ExperimentId}/{r.Id}/artifacts", ["lifecycle_stage"] = "active",
        };
        if (r.EndTime is { } end) info["end_time"] = end;
        return info;
    }

    private static JsonObject RunJson(Run r) => new()
    {
        ["info"] = RunInfoJson(r),
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
        ["aliases"] = new JsonArray(m.Aliases.Select(a => (JsonNode)new JsonObject { ["alias"] = a.Key, ["version"] = a.Value }).ToArray()),
    };

    private static JsonObject VersionJson(Model m, Version v) => new()
    {
        ["name"] = m.Name, ["version"] = v.Number, ["source"] = v.Source, ["run_id"] = v.RunId, ["status"] = "READY",
        ["aliases"] = new JsonArray(m.Aliases.Where(a => a.Value == v.Number).Select(a => (JsonNode)a.Key).ToArray()),
    };
}
