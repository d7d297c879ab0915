using System.Net.Http.Headers;
using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;

namespace MlOps.Serverless.Mlflow.Authentication;

/// <summary>
/// Adds credentials to one attempt of one request. Called per attempt (not once per request) because a
/// SigV4 signature carries the signing time. Implementations never expose secrets through ToString.
/// </summary>
public interface IMlflowAuthenticator
{
    /// <summary>A label for logs and messages, e.g. "basic", "bearer", "sigv4"; never a secret.</summary>
    string Scheme { get; }

    ValueTask ApplyAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, CancellationToken cancellationToken);
}

/// <summary>An open tracking server (e.g. <c>mlflow server</c> on localhost).</summary>
public sealed class NoAuthentication : IMlflowAuthenticator
{
    public static NoAuthentication Instance { get; } = new();
    public string Scheme => "none";
    public ValueTask ApplyAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>MLflow's basic-auth app (<c>MLFLOW_TRACKING_USERNAME</c> / <c>MLFLOW_TRACKING_PASSWORD</c>).</summary>
public sealed class BasicAuthentication(string username, string password) : IMlflowAuthenticator
{
    private readonly string _header = Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password));
    public string Scheme => "basic";
    public override string ToString() => "basic (credentials hidden)";

    public ValueTask ApplyAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", _header);
        return ValueTask.CompletedTask;
    }
}

/// <summary>A bearer token (<c>MLFLOW_TRACKING_TOKEN</c>), e.g. behind an authenticating proxy.</summary>
public sealed class BearerAuthentication(string token) : IMlflowAuthenticator
{
    public string Scheme => "bearer";
    public override string ToString() => "bearer (token hidden)";

    public ValueTask ApplyAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// SageMaker managed MLflow: every request is SigV4-signed for service <c>sagemaker-mlflow</c> and names
/// the tracking server in <c>x-mlflow-sm-tracking-server-arn</c> (that header is signed too).
/// The signing itself is AWSSDK.Core's <see cref="AWSSigV4Signer"/>.
/// </summary>
public sealed class SageMakerSigV4Authentication(string trackingServerArn, RegionEndpoint region, AWSCredentials credentials, TimeProvider? clock = null)
    : IMlflowAuthenticator
{
    public const string ServiceName = "sagemaker-mlflow";
    public const string ArnHeader = "x-mlflow-sm-tracking-server-arn";
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string Scheme => "sigv4";
    public string TrackingServerArn { get; } = trackingServerArn;
    public RegionEndpoint Region { get; } = region;
    public override string ToString() => $"sigv4 ({ServiceName}, {Region.SystemName})";

    public async ValueTask ApplyAsync(HttpRequestMessage request, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI to sign.");
        request.Headers.Remove(ArnHeader);
        request.Headers.TryAddWithoutValidation(ArnHeader, TrackingServerArn);

        var signing = new AWSSigningRequest { HttpMethod = request.Method, RequestUri = uri, Content = body.ToArray() };
        // HttpClient sends Host as the URI authority (port only when not the scheme's default); sign the same value.
        signing.Headers["Host"] = uri.IsDefaultPort ? uri.Host : uri.Authority;
        signing.Headers[ArnHeader] = TrackingServerArn;

        var result = await AWSSigV4Signer.SignAsync(signing, new AWSSigV4Parameters
        {
            Credentials = credentials,
            Region = Region,
            Service = ServiceName,
            SignPayload = true,
            SignedAt = _clock.GetUtcNow().UtcDateTime,
        }, cancellationToken);

        foreach (var (name, value) in result.Headers)
        {
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase) || string.Equals(name, ArnHeader, StringComparison.OrdinalIgnoreCase))
                continue;
            request.Headers.Remove(name);
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
