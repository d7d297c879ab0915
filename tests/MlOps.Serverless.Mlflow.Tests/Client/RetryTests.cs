using System.Net;
using MlOps.Serverless.Mlflow.Client;

namespace MlOps.Serverless.Mlflow.Tests.Client;

public sealed class RetryTests : IAsyncLifetime
{
    private FakeMlflowServer _server = null!;
    public async Task InitializeAsync() => _server = await FakeMlflowServer.StartAsync();
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private const string MlflowInternalError = """{"error_code":"INTERNAL_ERROR","message":"database is locked"}""";

    [Fact]
    public async Task A_5xx_is_retried_with_growing_waits_and_then_succeeds()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        using var client = Samples.Client(_server.BaseUri, clock);
        _server.FailNext(503, "application/json", MlflowInternalError, times: 2);
        Assert.NotNull(await client.GetOrCreateExperimentAsync("e"));
        Assert.Equal(2, clock.Waits.Count);
        Assert.True(clock.Waits[1] > clock.Waits[0], $"backoff should grow: {clock.Waits[0]} then {clock.Waits[1]}");
        Assert.Equal(1, _server.Experiments.Values.Count(e => e.Name == "e"));
    }

    [Fact]
    public async Task A_429_is_retried()
    {
        using var client = Samples.Client(_server.BaseUri);
        _server.FailNext(429, "application/json", """{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}""");
        await client.GetOrCreateExperimentAsync("e");
        Assert.Equal(2, _server.CountOf("experiments/get-by-name")); // the 429, then its retry
        Assert.Equal(3, client.Attempts); // 429, then the lookup (404), then create
    }

    [Fact]
    public async Task A_400_is_never_retried()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        using var client = Samples.Client(_server.BaseUri, clock);
        _server.FailNext(400, "application/json", """{"error_code":"INVALID_PARAMETER_VALUE","message":"bad"}""", times: 3);
        var e = await Assert.ThrowsAsync<MlflowInvalidParameter>(() => client.CreateExperimentAsync("e"));
        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal(1, client.Attempts);
        Assert.Empty(clock.Waits);
    }

    [Fact]
    public async Task Persistent_html_502_pages_end_as_unavailable_after_the_attempt_budget()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        using var client = Samples.Client(_server.BaseUri, clock, new MlflowRetryPolicy { MaxAttempts = 4, MaxTotalTime = TimeSpan.FromMinutes(5) });
        _server.FailNext(502, "text/html", "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>", times: 10);
        var e = await Assert.ThrowsAsync<MlflowUnavailable>(() => client.CreateExperimentAsync("e"));
        Assert.Equal(4, client.Attempts);
        Assert.Equal(3, clock.Waits.Count);
        Assert.Equal(HttpStatusCode.BadGateway, e.StatusCode);
        Assert.Contains("502 Bad Gateway", e.Message);
        Assert.Contains("non-JSON", e.Message);
    }

    [Fact]
    public async Task Retrying_stops_when_the_next_wait_would_exceed_the_total_time_budget()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var policy = new MlflowRetryPolicy { MaxAttempts = 10, InitialDelay = TimeSpan.FromSeconds(4), MaxDelay = TimeSpan.FromSeconds(8), MaxTotalTime = TimeSpan.FromSeconds(10) };
        using var client = Samples.Client(_server.BaseUri, clock, policy);
        _server.FailNext(500, "application/json", MlflowInternalError, times: 10);
        await Assert.ThrowsAsync<MlflowUnavailable>(() => client.CreateExperimentAsync("e"));
        // Jitter 0.5: waits 3 s then 6 s; 3 + 6 = 9 s fits the 10 s budget, the next (6 s) would not.
        Assert.Equal([TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(6)], clock.Waits);
        Assert.Equal(3, client.Attempts);
    }

    [Fact]
    public async Task A_timed_out_attempt_is_retried()
    {
        using var client = Samples.Client(_server.BaseUri, retry: new MlflowRetryPolicy { AttemptTimeout = TimeSpan.FromMilliseconds(300) });
        _server.StallNext();
        Assert.NotNull(await client.GetOrCreateExperimentAsync("e"));
        Assert.True(client.Attempts >= 3); // the stalled lookup, its retry, the create
    }

    [Fact]
    public async Task Attempts_that_all_time_out_end_as_unavailable_naming_the_timeout()
    {
        using var client = Samples.Client(_server.BaseUri, retry: new MlflowRetryPolicy { AttemptTimeout = TimeSpan.FromMilliseconds(200), MaxAttempts = 2 });
        _server.StallNext(times: 2);
        var e = await Assert.ThrowsAsync<MlflowUnavailable>(() => client.CreateExperimentAsync("e"));
        Assert.Contains("timeout", e.Message);
        Assert.Null(e.StatusCode);
    }

    [Fact]
    public async Task A_dropped_connection_is_retried()
    {
        using var client = Samples.Client(_server.BaseUri);
        _server.DropNextConnection();
        Assert.NotNull(await client.CreateExperimentAsync("e"));
        Assert.Equal(2, client.Attempts);
    }

    [Fact]
    public async Task A_refused_connection_ends_as_unavailable()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        using var client = Samples.Client(Samples.DeadEndpoint(), clock, new MlflowRetryPolicy { MaxAttempts = 3 });
        var e = await Assert.ThrowsAsync<MlflowUnavailable>(() => client.CreateExperimentAsync("e"));
        Assert.Contains("connection failed", e.Message);
        Assert.Equal(3, client.Attempts);
        Assert.IsAssignableFrom<HttpRequestException>(e.InnerException);
    }

    [Theory]
    [InlineData(1, 0.0, 250)]
    [InlineData(1, 1.0, 500)]
    [InlineData(3, 1.0, 2000)]
    [InlineData(10, 1.0, 8000)] // capped at MaxDelay
    [InlineData(10, 0.0, 4000)]
    public void Backoff_doubles_per_retry_with_bounded_jitter(int retry, double jitter, int expectedMs)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), new MlflowRetryPolicy().DelayBefore(retry, jitter));
    }
}
