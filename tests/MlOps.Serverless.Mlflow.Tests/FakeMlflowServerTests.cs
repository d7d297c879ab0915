using System.Net;
using System.Text;
using MlOps.Serverless.Mlflow.Client;

namespace MlOps.Serverless.Mlflow.Tests;

/// <summary>
/// The fake server behaves as MLflow's server and SQL store do, refusals included; each test names the MLflow
/// source it follows. The client is configured with MLflow's own limits here, so only the server decides.
/// </summary>
public sealed class FakeMlflowServerTests : IAsyncLifetime
{
    private FakeMlflowServer _server = null!;
    public async Task InitializeAsync() => _server = await FakeMlflowServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static readonly MlflowLimits ValidationPyLimits = new() { MaxMetricsPerBatch = 1000 };

    private static async Task<string> NewRunAsync(MlflowClient client) =>
        (await client.CreateRunAsync(await client.GetOrCreateExperimentAsync("e"), "r", DateTimeOffset.UnixEpoch, [])).Info.RunId;

    private static List<MlflowMetric> Curves(int rounds) =>
    [
        .. Enumerable.Range(0, rounds).Select(i => new MlflowMetric("train_rmse", 10 - i * 0.01, 1000 + i, i)),
        .. Enumerable.Range(0, rounds).Select(i => new MlflowMetric("validation_rmse", 11 - i * 0.01, 1000 + i, i)),
    ];

    // sqlalchemy_store.py _log_metrics: the re-check walks the request in key windows of 100 metrics.
    [Fact]
    public async Task Re_sending_a_batch_of_more_than_100_metrics_over_two_keys_fails_with_a_unique_constraint_error()
    {
        using var client = Samples.Client(_server.BaseUri, limits: ValidationPyLimits);
        var runId = await NewRunAsync(client);
        await client.LogBatchAsync(runId, Curves(51), [], []); // 102 metrics
        var e = await Assert.ThrowsAsync<MlflowInvalidParameter>(() => client.LogBatchAsync(runId, Curves(51), [], []));
        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("BAD_REQUEST", e.ErrorCode);
        Assert.Contains("UNIQUE constraint failed: metrics", e.Message);
    }

    [Fact]
    public async Task Re_sending_100_metrics_is_accepted_and_changes_nothing()
    {
        using var client = Samples.Client(_server.BaseUri, limits: ValidationPyLimits);
        var runId = await NewRunAsync(client);
        await client.LogBatchAsync(runId, Curves(50), [], []);
        await client.LogBatchAsync(runId, Curves(50), [], []);
        Assert.Equal(100, _server.Runs[runId].Metrics.Count);
    }

    [Fact]
    public async Task A_re_sent_batch_that_adds_new_metrics_inserts_only_those()
    {
        using var client = Samples.Client(_server.BaseUri, limits: ValidationPyLimits);
        var runId = await NewRunAsync(client);
        await client.LogBatchAsync(runId, Curves(30), [], []);
        await client.LogBatchAsync(runId, Curves(40), [], []); // 80 metrics, 60 already there
        Assert.Equal(80, _server.Runs[runId].Metrics.Count);
    }

    // sqlalchemy_store.py log_batch: params are written (and committed) before the metrics.
    [Fact]
    public async Task Params_stay_logged_when_the_metrics_of_the_same_request_fail()
    {
        using var client = Samples.Client(_server.BaseUri, limits: ValidationPyLimits);
        var runId = await NewRunAsync(client);
        await client.LogBatchAsync(runId, Curves(51), [], []);
        await Assert.ThrowsAsync<MlflowInvalidParameter>(() => client.LogBatchAsync(runId, Curves(51), [new MlflowParam("eta", "0.1")], [new MlflowTag("t", "v")]));
        Assert.Equal("0.1", _server.Runs[runId].Params["eta"]);
        Assert.False(_server.Runs[runId].Tags.ContainsKey("t")); // tags come after the metrics
    }

    // validation.py _validate_model_alias_name; the registry store refuses an alias to a missing version.
    [Theory]
    [InlineData("latest", "'latest' alias name (case insensitive) is reserved.")]
    [InlineData("LATEST", "'latest' alias name (case insensitive) is reserved.")]
    [InlineData("v3", "Version alias name 'v3' is reserved.")]
    [InlineData("V12", "Version alias name 'V12' is reserved.")]
    [InlineData("my champion", "Invalid alias name: 'my champion'. Names may only contain alphanumerics, underscores (_), and dashes (-).")]
    public async Task Reserved_or_ill_formed_aliases_are_refused_with_MLflows_message(string alias, string message)
    {
        using var client = Samples.Client(_server.BaseUri);
        await client.CreateRegisteredModelAsync("m");
        await client.CreateModelVersionAsync("m", "s3://b/model", null);
        var e = await Assert.ThrowsAsync<MlflowInvalidParameter>(() => client.SetRegisteredModelAliasAsync("m", alias, "1"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task An_alias_to_a_missing_version_is_resource_not_found_and_a_valid_one_is_set()
    {
        using var client = Samples.Client(_server.BaseUri);
        await client.CreateRegisteredModelAsync("m");
        await client.CreateModelVersionAsync("m", "s3://b/model", null);
        await Assert.ThrowsAsync<MlflowResourceNotFound>(() => client.SetRegisteredModelAliasAsync("m", "champion", "2"));
        await client.SetRegisteredModelAliasAsync("m", "champion-2_b", "1");
        Assert.Equal("1", (await client.GetModelVersionByAliasAsync("m", "champion-2_b"))!.Version);
    }

    // handlers.py _upload_artifact: PUT /api/2.0/mlflow-artifacts/artifacts/<path> under the run's mlflow-artifacts: URI.
    [Fact]
    public async Task Artifacts_go_through_the_proxy_under_the_runs_artifact_path()
    {
        using var client = Samples.Client(_server.BaseUri);
        var run = await client.GetRunAsync(await NewRunAsync(client));
        Assert.StartsWith("mlflow-artifacts:/", run.Info.ArtifactUri);
        await client.UploadArtifactAsync(run.Info.ArtifactUri!, "model/MLmodel", Encoding.UTF8.GetBytes("flavors: {}"));
        await client.UploadArtifactAsync(run.Info.ArtifactUri!, "model/MLmodel", Encoding.UTF8.GetBytes("flavors: {}")); // a PUT replaces
        var (path, content) = Assert.Single(_server.Artifacts);
        Assert.Equal($"{run.Info.ExperimentId}/{run.Info.RunId}/artifacts/model/MLmodel", path);
        Assert.Equal("flavors: {}", Encoding.UTF8.GetString(content));
    }

    // uri.py validate_path_is_safe: the path is decoded, then ".." segments are refused (by the client before sending, too).
    [Fact]
    public async Task An_artifact_path_that_climbs_out_is_refused()
    {
        using var http = new HttpClient();
        var response = await http.PutAsync(new Uri(_server.BaseUri, "api/2.0/mlflow-artifacts/artifacts/1/%252E%252E/%252E%252E/etc/passwd"), new ByteArrayContent([1]));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Invalid path", await response.Content.ReadAsStringAsync());
        Assert.Throws<MlflowInvalidParameter>(() => MlflowArtifactPaths.ProxyPath("mlflow-artifacts:/1/r/artifacts", "../../x"));
        Assert.Empty(_server.Artifacts);
    }

    // handlers.py _disable_unless_serve_artifacts: 503 in plain text under --no-serve-artifacts.
    [Fact]
    public async Task Without_serve_artifacts_the_proxy_answers_503()
    {
        _server.ServeArtifacts = false;
        using var http = new HttpClient();
        var response = await http.PutAsync(new Uri(_server.BaseUri, "api/2.0/mlflow-artifacts/artifacts/1/r/artifacts/f"), new ByteArrayContent([1]));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("--no-serve-artifacts", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void Proxy_paths_drop_the_scheme_and_an_optional_authority()
    {
        Assert.Equal("1/r/artifacts/model/MLmodel", MlflowArtifactPaths.ProxyPath("mlflow-artifacts:/1/r/artifacts", "model/MLmodel"));
        Assert.Equal("1/r/artifacts/model/MLmodel", MlflowArtifactPaths.ProxyPath("mlflow-artifacts://mlflow.example.com:5000/1/r/artifacts/", "model/MLmodel"));
    }

    // validation.py _validate_dataset: MAX_DATASET_DIGEST_SIZE = 36; one input per (name, digest).
    [Fact]
    public async Task A_dataset_digest_over_36_characters_is_refused_and_a_repeated_input_is_kept_once()
    {
        using var client = Samples.Client(_server.BaseUri);
        var runId = await NewRunAsync(client);
        var e = await Assert.ThrowsAsync<MlflowInvalidParameter>(() => client.LogInputsAsync(runId,
            [new MlflowDatasetInput([], new MlflowDataset("raw", new string('a', 37), "s3", "{}"))]));
        Assert.Contains("Dataset digest exceeds the maximum length of 36", e.Message);
        var ok = new MlflowDatasetInput([new("mlflow.data.context", "training")], new MlflowDataset("raw", new string('a', 36), "s3", "{}"));
        await client.LogInputsAsync(runId, [ok]);
        await client.LogInputsAsync(runId, [ok]);
        Assert.Single(_server.Runs[runId].Inputs);
    }
}
