using System.Net;
using System.Security.Cryptography;
using System.Text;
using Amazon;
using Amazon.Runtime;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Mlflow.Authentication;
using MlOps.Serverless.Mlflow.Client;

namespace MlOps.Serverless.Mlflow.Tests.Authentication;

public sealed class AuthenticationTests
{
    private const string AccessKey = "AKIDEXAMPLE";
    private const string SecretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string ServerArn = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/retail";
    private static readonly DateTimeOffset SignedAt = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    /// <summary>Answers every request with a fixed JSON body and keeps the request, headers and body as sent.</summary>
    private sealed class CapturingHandler(string responseJson) : HttpMessageHandler
    {
        public List<(HttpRequestMessage Request, byte[] Body)> Sent { get; } = new();
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Sent.Add((request, request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(ct)));
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(responseJson, Encoding.UTF8, "application/json") };
        }
    }

    // ---- an independent SigV4 (AWS's documented algorithm), used to check AWSSDK.Core's signature ----
    private static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));
    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    private static string ReferenceSignature(string method, Uri uri, IReadOnlyList<(string Name, string Value)> signedHeaders, string payloadHash,
        string amzDate, string region, string service)
    {
        var query = string.Join('&', (uri.Query.TrimStart('?') is { Length: > 0 } q ? q.Split('&') : [])
            .Select(p => p.Split('=', 2)).Select(p => (K: Uri.EscapeDataString(Uri.UnescapeDataString(p[0])), V: Uri.EscapeDataString(Uri.UnescapeDataString(p.Length > 1 ? p[1] : ""))))
            .OrderBy(p => p.K, StringComparer.Ordinal).ThenBy(p => p.V, StringComparer.Ordinal).Select(p => p.K + "=" + p.V));
        var headers = signedHeaders.Select(h => (Name: h.Name.ToLowerInvariant(), Value: h.Value.Trim())).OrderBy(h => h.Name, StringComparer.Ordinal).ToList();
        var canonical = string.Join('\n', method, uri.AbsolutePath, query,
            string.Concat(headers.Select(h => h.Name + ":" + h.Value + "\n")), string.Join(';', headers.Select(h => h.Name)), payloadHash);
        var scope = $"{amzDate[..8]}/{region}/{service}/aws4_request";
        var toSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)))}";
        var key = Hmac(Hmac(Hmac(Hmac(Encoding.UTF8.GetBytes("AWS4" + SecretKey), amzDate[..8]), region), service), "aws4_request");
        return Hex(Hmac(key, toSign));
    }

    [Fact]
    public void The_reference_signer_reproduces_AWSs_published_get_vanilla_vector()
    {
        // AWS SigV4 test suite, "get-vanilla": GET / on example.amazonaws.com, service "service", us-east-1.
        var signature = ReferenceSignature("GET", new Uri("https://example.amazonaws.com/"),
            [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            Hex(SHA256.HashData([])), "20150830T123600Z", "us-east-1", "service");
        Assert.Equal("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", signature);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("GET")]
    public async Task SageMaker_requests_carry_a_SigV4_signature_for_sagemaker_mlflow_that_matches_an_independent_computation(string method)
    {
        Assert.True(MlflowConnection.TryParseSageMakerArn(ServerArn, out var region, out var endpoint));
        var handler = new CapturingHandler("""{"experiment_id":"1","experiment":{"experiment_id":"1","name":"retail weekly"}}""");
        var auth = new SageMakerSigV4Authentication(ServerArn, RegionEndpoint.GetBySystemName(region), new BasicAWSCredentials(AccessKey, SecretKey), new ManualClock(SignedAt));
        using var client = Samples.Client(endpoint, auth: auth, handler: handler);
        if (method == "POST") await client.CreateExperimentAsync("retail weekly");
        else await client.GetExperimentByNameAsync("retail weekly");

        var (request, body) = Assert.Single(handler.Sent);
        Assert.Equal("us-east-1.experiments.sagemaker.aws", request.RequestUri!.Host);
        string Header(string name) => request.Headers.GetValues(name).Single();
        Assert.Equal(ServerArn, Header("x-mlflow-sm-tracking-server-arn"));
        Assert.Equal("20150830T123600Z", Header("X-Amz-Date"));
        var payloadHash = Hex(SHA256.HashData(body));
        Assert.Equal(payloadHash, Header("X-Amz-Content-SHA256"));

        var expected = ReferenceSignature(method, request.RequestUri,
            [("host", request.RequestUri.Host), ("x-amz-content-sha256", payloadHash), ("x-amz-date", "20150830T123600Z"), ("x-mlflow-sm-tracking-server-arn", ServerArn)],
            payloadHash, "20150830T123600Z", "us-east-1", "sagemaker-mlflow");
        Assert.Equal(
            $"AWS4-HMAC-SHA256 Credential={AccessKey}/20150830/us-east-1/sagemaker-mlflow/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-mlflow-sm-tracking-server-arn, Signature={expected}",
            Header("Authorization"));
    }

    [Fact]
    public async Task Each_retry_is_signed_afresh_with_the_time_of_that_attempt()
    {
        var clock = new ManualClock(SignedAt);
        var handler = new FlakyHandler();
        var auth = new SageMakerSigV4Authentication(ServerArn, RegionEndpoint.USEast1, new BasicAWSCredentials(AccessKey, SecretKey), clock);
        using var client = new MlflowClient(new MlflowClientOptions
        {
            BaseUri = new Uri("https://us-east-1.experiments.sagemaker.aws/"), Authenticator = auth, Clock = clock, Delay = clock.Delay,
            Retry = new MlflowRetryPolicy { InitialDelay = TimeSpan.FromSeconds(2) },
        }, handler);
        await client.CreateExperimentAsync("e");
        Assert.Equal(2, handler.Dates.Count);
        Assert.NotEqual(handler.Dates[0], handler.Dates[1]);
        Assert.Single(handler.ArnHeaders.Distinct());
    }

    private sealed class FlakyHandler : HttpMessageHandler
    {
        public List<string> Dates { get; } = new();
        public List<string> ArnHeaders { get; } = new();
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Dates.Add(request.Headers.GetValues("X-Amz-Date").Single());
            ArnHeaders.AddRange(request.Headers.GetValues("x-mlflow-sm-tracking-server-arn"));
            return Task.FromResult(Dates.Count == 1
                ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) { Content = new StringContent("") }
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"experiment_id":"3"}""") });
        }
    }

    [Fact]
    public async Task Basic_and_bearer_credentials_reach_the_server_as_authorization_headers()
    {
        await using var server = await FakeMlflowServer.StartAsync();
        using (var basic = Samples.Client(server.BaseUri, auth: new BasicAuthentication("alice", "pa:ss")))
            await basic.GetExperimentByNameAsync("x");
        using (var bearer = Samples.Client(server.BaseUri, auth: new BearerAuthentication("tok-123")))
            await bearer.GetExperimentByNameAsync("x");
        Assert.Equal("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:pa:ss")), server.Requests[0].Headers["Authorization"]);
        Assert.Equal("Bearer tok-123", server.Requests[1].Headers["Authorization"]);
    }

    private sealed class Secrets(Dictionary<string, string> values) : ISecretSource
    {
        public List<string> Read { get; } = new();
        public Task<string> GetSecretAsync(string name, CancellationToken ct = default) { Read.Add(name); return Task.FromResult(values[name]); }
    }

    private static Func<string, string?> Env(params (string Key, string Value)[] vars) => name => vars.FirstOrDefault(v => v.Key == name).Value;

    [Fact]
    public async Task No_tracking_uri_means_no_client()
    {
        Assert.Null(await MlflowConnection.ResolveAsync(null, Env()));
        Assert.Null(await MlflowConnection.ResolveAsync("  ", Env()));
    }

    [Fact]
    public async Task A_tracking_server_arn_resolves_to_the_regional_endpoint_with_SigV4()
    {
        var options = await MlflowConnection.ResolveAsync("arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/team-a", Env(),
            awsCredentials: () => new BasicAWSCredentials(AccessKey, SecretKey));
        Assert.Equal(new Uri("https://eu-west-1.experiments.sagemaker.aws/"), options!.BaseUri);
        var sigv4 = Assert.IsType<SageMakerSigV4Authentication>(options.Authenticator);
        Assert.Equal("eu-west-1", sigv4.Region.SystemName);
        Assert.Equal("arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/team-a", sigv4.TrackingServerArn);
    }

    [Theory]
    [InlineData("arn:aws:sagemaker:eu-west-1:123456789012:model/foo")]
    [InlineData("ftp://mlflow.example.com")]
    [InlineData("./mlruns")]
    public async Task A_malformed_tracking_uri_is_invalid_configuration(string uri)
    {
        await Assert.ThrowsAsync<InvalidConfiguration>(() => MlflowConnection.ResolveAsync(uri, Env()));
    }

    [Fact]
    public async Task Credentials_come_from_the_SSM_parameter_in_preference_to_plain_variables()
    {
        var secrets = new Secrets(new() { ["/mlops/mlflow"] = """{"username":"svc","password":"hunter2"}""" });
        var options = await MlflowConnection.ResolveAsync("https://mlflow.example.com", Env(
            (MlflowConnection.CredentialsParameterVariable, "/mlops/mlflow"), (MlflowConnection.TokenVariable, "ignored")), secrets);
        Assert.IsType<BasicAuthentication>(options!.Authenticator);
        Assert.Equal(["/mlops/mlflow"], secrets.Read);

        var token = await MlflowConnection.ResolveAsync("https://mlflow.example.com", Env((MlflowConnection.CredentialsParameterVariable, "/t")),
            new Secrets(new() { ["/t"] = """{"token":"abc"}""" }));
        Assert.IsType<BearerAuthentication>(token!.Authenticator);
    }

    [Fact]
    public async Task Plain_variables_select_bearer_then_basic_then_none()
    {
        Assert.IsType<BearerAuthentication>((await MlflowConnection.ResolveAsync("http://h", Env((MlflowConnection.TokenVariable, "t"))))!.Authenticator);
        Assert.IsType<BasicAuthentication>((await MlflowConnection.ResolveAsync("http://h", Env((MlflowConnection.UsernameVariable, "u"), (MlflowConnection.PasswordVariable, "p"))))!.Authenticator);
        Assert.IsType<NoAuthentication>((await MlflowConnection.ResolveAsync("http://h", Env()))!.Authenticator);
        await Assert.ThrowsAsync<InvalidConfiguration>(() => MlflowConnection.ResolveAsync("http://h", Env((MlflowConnection.UsernameVariable, "u"))));
    }

    [Fact]
    public async Task A_malformed_credentials_parameter_is_reported_without_echoing_the_secret()
    {
        var secrets = new Secrets(new() { ["/p"] = "not-json-but-secret-s3cr3t" });
        var e = await Assert.ThrowsAsync<InvalidConfiguration>(() =>
            MlflowConnection.ResolveAsync("https://h", Env((MlflowConnection.CredentialsParameterVariable, "/p")), secrets));
        Assert.Contains("/p", e.Message);
        Assert.DoesNotContain("s3cr3t", e.Message);
    }

    [Fact]
    public void Authenticators_never_show_their_secrets()
    {
        Assert.DoesNotContain("hunter2", new BasicAuthentication("svc", "hunter2").ToString());
        Assert.DoesNotContain("tok-123", new BearerAuthentication("tok-123").ToString());
        Assert.DoesNotContain(SecretKey, new SageMakerSigV4Authentication(ServerArn, RegionEndpoint.USEast1, new BasicAWSCredentials(AccessKey, SecretKey)).ToString());
        Assert.DoesNotContain("hunter2", new MlflowCredentialsDocument("svc", "hunter2").ToString());
    }

    [Fact]
    public async Task Temporary_credentials_add_a_signed_session_token()
    {
        var handler = new CapturingHandler("""{"experiment_id":"1"}""");
        var auth = new SageMakerSigV4Authentication(ServerArn, RegionEndpoint.USEast1, new SessionAWSCredentials(AccessKey, SecretKey, "session-token-xyz"), new ManualClock(SignedAt));
        using var client = Samples.Client(new Uri("https://us-east-1.experiments.sagemaker.aws/"), auth: auth, handler: handler);
        await client.CreateExperimentAsync("e");
        var request = Assert.Single(handler.Sent).Request;
        Assert.Equal("session-token-xyz", request.Headers.GetValues("X-Amz-Security-Token").Single());
        Assert.Contains("x-amz-security-token", request.Headers.GetValues("Authorization").Single());
    }

    [Fact]
    public async Task Credentials_inside_the_tracking_url_are_refused_without_being_repeated()
    {
        var e = await Assert.ThrowsAsync<InvalidConfiguration>(() => MlflowConnection.ResolveAsync("https://svc:hunter2@mlflow.example.com/", Env()));
        Assert.DoesNotContain("hunter2", e.Message);
        Assert.Contains("mlflow.example.com", e.Message);
    }
}
