using System.Net;
using MlOps.Serverless.Mlflow.Client;

namespace MlOps.Serverless.Mlflow.Tests.Client;

public sealed class MlflowClientTests : IAsyncLifetime
{
    private FakeMlflowServer _server = null!;
    public async Task InitializeAsync() => _server = await FakeMlflowServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task<string> NewRunAsync(MlflowClient client)
    {
        var exp = await client.GetOrCreateExperimentAsync("e");
        return (await client.CreateRunAsync(exp, "r", DateTimeOffset.UnixEpoch, [])).Info.RunId;
    }

    [Fact]
    public async Task Experiment_is_created_once_and_found_by_name_afterwards()
    {
        using var client = Samples.Client(_server.BaseUri);
        var first = await client.GetOrCreateExperimentAsync("retail");
        var second = await client.GetOrCreateExperimentAsync("retail");
        Assert.Equal(first, second);
        Assert.Equal(1, _server.CountOf("experiments/create"));
        Assert.Null(await client.GetExperimentByNameAsync("missing"));
    }

    [Fact]
    public async Task Experiment_create_race_is_resolved_by_reading_the_winner_back()
    {
        using var client = Samples.Client(_server.BaseUri);
        _server.Experiments["7"] = new FakeMlflowServer.Experiment { Id = "7", Name = "raced" };
        // Our lookup misses (the other writer has not committed yet), then our create loses the race.
        _server.FailNext(404, "application/json", """{"error_code":"RESOURCE_DOES_NOT_EXIST","message":"Could not find experiment with name 'raced'"}""");
        Assert.Equal("7", await client.GetOrCreateExperimentAsync("raced"));
        Assert.Equal(1, _server.CountOf("experiments/create"));
    }

    [Fact]
    public async Task Twenty_five_hundred_metrics_go_out_as_twenty_five_requests_of_one_hundred()
    {
        using var client = Samples.Client(_server.BaseUri);
        var runId = await NewRunAsync(client);
        var metrics = Enumerable.Range(0, 2500).Select(i => new MlflowMetric("loss", i, 1000, i));
        var sent = await client.LogBatchAsync(runId, metrics, [], []);
        Assert.Equal(25, sent);
        Assert.Equal(25, _server.CountOf("runs/log-batch"));
        Assert.Equal(2500, _server.Runs[runId].Metrics.Count);
    }

    [Fact]
    public async Task Params_and_tags_are_split_at_one_hundred_per_request()
    {
        using var client = Samples.Client(_server.BaseUri);
        var runId = await NewRunAsync(client);
        var sent = await client.LogBatchAsync(runId, [],
            Enumerable.Range(0, 250).Select(i => new MlflowParam($"p{i}", "v")),
            Enumerable.Range(0, 150).Select(i => new MlflowTag($"t{i}", "v")));
        Assert.Equal(4, sent); // params 100, 100, then 50 params + 100 tags, then the last 50 tags
        Assert.Equal(250, _server.Runs[runId].Params.Count);
        Assert.Equal(151, _server.Runs[runId].Tags.Count); // + mlflow.runName
    }

    [Fact]
    public async Task Batches_stay_under_one_megabyte_even_when_counts_would_fit()
    {
        using var client = Samples.Client(_server.BaseUri);
        var runId = await NewRunAsync(client);
        // 100 params × 6000 chars + 100 tags × 5000 chars ≈ 1.1 MB: within the count limits, over the size limit.
        await client.LogBatchAsync(runId, [],
            Enumerable.Range(0, 100).Select(i => new MlflowParam($"p{i}", new string('x', 6000))),
            Enumerable.Range(0, 100).Select(i => new MlflowTag($"t{i}", new string('y', 5000))));
        var bodies = _server.Requests.Where(r => r.Endpoint == "runs/log-batch").Select(r => r.Body.Length).ToList();
        Assert.True(bodies.Count >= 2, $"expected a split, got {bodies.Count} request(s)");
        Assert.All(bodies, size => Assert.True(size <= FakeMlflowServer.MaxBatchLogRequestSize, $"{size} bytes"));
        Assert.Equal(100, _server.Runs[runId].Params.Count);
    }

    [Fact]
    public async Task An_oversized_batch_is_rejected_by_the_server_with_MLflows_message()
    {
        // A client configured with a wrong limit lets the server's own validation show.
        using var client = Samples.Client(_server.BaseUri, limits: new MlflowLimits { MaxMetricsPerBatch = 5000, MaxEntitiesPerBatch = 5000 });
        var runId = await NewRunAsync(client);
        var e = await Assert.ThrowsAsync<MlflowInvalidParameter>(() =>
            client.LogBatchAsync(runId, Enumerable.Range(0, 2500).Select(i => new MlflowMetric("m", i, 0, i)), [], []));
        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("INVALID_PARAMETER_VALUE", e.ErrorCode);
        Assert.Contains("A batch logging request can contain at most 1000 metrics. Got 2500 metrics.", e.Message);
        Assert.Equal(1, _server.CountOf("runs/log-batch")); // a 400 is never retried
    }

    [Fact]
    public async Task Changing_a_logged_param_is_rejected_as_invalid_parameter()
    {
        using var client = Samples.Client(_server.BaseUri);
        var runId = await NewRunAsync(client);
        await client.LogBatchAsync(runId, [], [new MlflowParam("eta", "0.1")], []);
        await client.LogBatchAsync(runId, [], [new MlflowParam("eta", "0.1")], []); // same value: accepted
        var e = await Assert.ThrowsAsync<MlflowInvalidParameter>(() => client.LogBatchAsync(runId, [], [new MlflowParam("eta", "0.2")], []));
        Assert.Contains("Changing param values is not allowed", e.Message);
        Assert.Equal("0.1", _server.Runs[runId].Params["eta"]);
    }

    [Fact]
    public async Task A_key_over_250_characters_is_rejected_before_anything_is_sent()
    {
        using var client = Samples.Client(_server.BaseUri);
        var runId = await NewRunAsync(client);
        var e = await Assert.ThrowsAsync<MlflowInvalidParameter>(() => client.LogBatchAsync(runId, [new MlflowMetric(new string('k', 251), 1, 0)], [], []));
        Assert.Contains("251 characters", e.Message);
        Assert.Equal(0, _server.CountOf("runs/log-batch"));
    }

    [Fact]
    public async Task Long_param_and_tag_values_are_truncated_to_the_limits()
    {
        using var client = Samples.Client(_server.BaseUri);
        var runId = await NewRunAsync(client);
        await client.LogBatchAsync(runId, [], [new MlflowParam("p", new string('x', 7000))], [new MlflowTag("t", new string('y', 9000))]);
        Assert.Equal(6000, _server.Runs[runId].Params["p"].Length);
        Assert.Equal(MlflowLimits.Default.MaxTagValueLength, _server.Runs[runId].Tags["t"].Length);
    }

    [Fact]
    public async Task Metric_names_MLflow_refuses_are_rejected_and_sanitising_makes_them_valid()
    {
        using var client = Samples.Client(_server.BaseUri);
        var runId = await NewRunAsync(client);
        await Assert.ThrowsAsync<MlflowInvalidParameter>(() => client.LogBatchAsync(runId, [new MlflowMetric("validation:rmse", 1, 0)], [], []));
        await client.LogBatchAsync(runId, [new MlflowMetric(MlflowBatching.SanitizeKey("validation:rmse"), 1, 0)], [], []);
        Assert.Equal("validation_rmse", Assert.Single(_server.Runs[runId].Metrics).Key);
    }

    [Fact]
    public async Task Missing_run_experiment_and_model_map_to_resource_not_found()
    {
        using var client = Samples.Client(_server.BaseUri);
        var run = await Assert.ThrowsAsync<MlflowResourceNotFound>(() => client.GetRunAsync("0123456789abcdef0123456789abcdef"));
        Assert.Equal(HttpStatusCode.NotFound, run.StatusCode);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", run.ErrorCode);
        await Assert.ThrowsAsync<MlflowResourceNotFound>(() => client.CreateRunAsync("999", "x", DateTimeOffset.UnixEpoch, []));
        await Assert.ThrowsAsync<MlflowResourceNotFound>(() => client.CreateModelVersionAsync("no-model", "s3://b/m.tar.gz", null));
        Assert.Null(await client.GetRegisteredModelAsync("no-model"));
    }

    [Fact]
    public async Task Registered_model_created_twice_is_resource_already_exists()
    {
        using var client = Samples.Client(_server.BaseUri);
        await client.CreateRegisteredModelAsync("m");
        var e = await Assert.ThrowsAsync<MlflowResourceAlreadyExists>(() => client.CreateRegisteredModelAsync("m"));
        Assert.Equal("RESOURCE_ALREADY_EXISTS", e.ErrorCode);
        Assert.Equal("m", (await client.GetOrCreateRegisteredModelAsync("m")).Name);
    }

    [Fact]
    public async Task Alias_points_at_an_existing_version_and_a_missing_version_is_refused()
    {
        using var client = Samples.Client(_server.BaseUri);
        await client.CreateRegisteredModelAsync("m");
        var v = await client.CreateModelVersionAsync("m", "s3://b/model.tar.gz", null);
        await client.SetRegisteredModelAliasAsync("m", "champion", v.Version);
        Assert.Equal(v.Version, (await client.GetModelVersionByAliasAsync("m", "champion"))!.Version);
        await Assert.ThrowsAsync<MlflowResourceNotFound>(() => client.SetRegisteredModelAliasAsync("m", "champion", "42"));
        Assert.Equal("1", _server.Models["m"].Aliases["champion"]);
        Assert.Null(await client.GetModelVersionByAliasAsync("m", "nobody"));
    }

    [Fact]
    public async Task Search_follows_page_tokens_and_filters_on_tags()
    {
        using var client = Samples.Client(_server.BaseUri);
        _server.SearchPageSize = 2;
        var exp = await client.GetOrCreateExperimentAsync("e");
        for (var i = 0; i < 5; i++)
            await client.CreateRunAsync(exp, $"r{i}", DateTimeOffset.UnixEpoch.AddSeconds(i), [new MlflowTag("mlops.run_key", i % 2 == 0 ? "even" : "odd")]);
        Assert.Equal(3, (await client.FindRunsByTagAsync(exp, "mlops.run_key", "even")).Count);
        Assert.Equal(5, (await client.SearchRunsAsync([exp], "")).Count);
        Assert.True(_server.CountOf("runs/search") >= 4);
    }

    [Fact]
    public async Task A_proxy_html_403_is_a_request_failure_that_quotes_the_page_title_and_is_not_retried()
    {
        using var client = Samples.Client(_server.BaseUri);
        _server.FailNext(403, "text/html", "<html><head><title>403 Forbidden</title></head><body><h1>Forbidden</h1></body></html>");
        var e = await Assert.ThrowsAsync<MlflowRequestFailed>(() => client.GetOrCreateExperimentAsync("e"));
        Assert.Equal(HttpStatusCode.Forbidden, e.StatusCode);
        Assert.Null(e.ErrorCode);
        Assert.Contains("non-JSON", e.Message);
        Assert.Contains("403 Forbidden", e.Message);
        Assert.Equal(1, client.Attempts);
    }

    [Fact]
    public async Task An_unknown_endpoints_html_404_page_maps_to_not_found()
    {
        using var client = Samples.Client(new Uri(_server.BaseUri, "wrong-prefix/"));
        var e = await Assert.ThrowsAsync<MlflowResourceNotFound>(() => client.GetRunAsync("abc"));
        Assert.Contains("404 Not Found", e.Message);
    }

    [Fact]
    public async Task A_mix_of_metrics_and_params_respects_the_one_thousand_entity_total()
    {
        using var client = Samples.Client(_server.BaseUri, limits: new MlflowLimits { MaxMetricsPerBatch = 1000 });
        var runId = await NewRunAsync(client);
        var sent = await client.LogBatchAsync(runId,
            Enumerable.Range(0, 950).Select(i => new MlflowMetric("m", i, 0, i)),
            Enumerable.Range(0, 100).Select(i => new MlflowParam($"p{i}", "v")), []);
        Assert.Equal(2, sent); // 100 params + 900 metrics, then 50 metrics
        Assert.Equal(950, _server.Runs[runId].Metrics.Count);
    }

    [Fact]
    public async Task A_deleted_experiment_is_reported_instead_of_logged_into()
    {
        using var client = Samples.Client(_server.BaseUri);
        _server.FailNext(200, "application/json", """{"experiment":{"experiment_id":"5","name":"old","lifecycle_stage":"deleted"}}""");
        var e = await Assert.ThrowsAsync<MlflowInvalidParameter>(() => client.GetOrCreateExperimentAsync("old"));
        Assert.Contains("deleted", e.Message);
        Assert.Equal(0, _server.CountOf("experiments/create"));
    }
}
