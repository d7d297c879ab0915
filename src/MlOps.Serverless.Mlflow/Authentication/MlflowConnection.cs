using System.Text.Json;
using System.Text.RegularExpressions;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Mlflow.Client;
using MlOps.Serverless.Mlflow.Json;

namespace MlOps.Serverless.Mlflow.Authentication;

/// <summary>Reads a secret by name. The cloud implementation is SSM Parameter Store (SecureString, decrypted).</summary>
public interface ISecretSource
{
    Task<string> GetSecretAsync(string name, CancellationToken cancellationToken = default);
}

public sealed class SsmSecretSource(IAmazonSimpleSystemsManagement ssm) : ISecretSource
{
    public SsmSecretSource() : this(new AmazonSimpleSystemsManagementClient()) { }

    public async Task<string> GetSecretAsync(string name, CancellationToken cancellationToken = default)
    {
        var response = await ssm.GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true }, cancellationToken);
        return response.Parameter.Value;
    }
}

/// <summary>The JSON held by the credentials parameter: <c>{"username","password"}</c> or <c>{"token"}</c>.</summary>
public sealed record MlflowCredentialsDocument(string? Username = null, string? Password = null, string? Token = null)
{
    public override string ToString() => "MlflowCredentialsDocument (hidden)";
}

/// <summary>
/// Turns a tracking URI plus environment into client options. Environment variables (MLflow's own names
/// where MLflow has one): <c>MLFLOW_TRACKING_URI</c>; <c>MLFLOW_TRACKING_USERNAME</c> +
/// <c>MLFLOW_TRACKING_PASSWORD</c> (basic); <c>MLFLOW_TRACKING_TOKEN</c> (bearer);
/// <c>MLFLOW_CREDENTIALS_PARAMETER</c> (an SSM SecureString name holding <see cref="MlflowCredentialsDocument"/>,
/// preferred over the plain variables). A SageMaker MLflow tracking-server ARN selects SigV4 with the
/// default AWS credential chain.
/// </summary>
public static partial class MlflowConnection
{
    public const string TrackingUriVariable = "MLFLOW_TRACKING_URI";
    public const string UsernameVariable = "MLFLOW_TRACKING_USERNAME";
    public const string PasswordVariable = "MLFLOW_TRACKING_PASSWORD";
    public const string TokenVariable = "MLFLOW_TRACKING_TOKEN";
    public const string CredentialsParameterVariable = "MLFLOW_CREDENTIALS_PARAMETER";

    [GeneratedRegex(@"^arn:aws:sagemaker:(?<region>[a-z0-9-]+):(?<account>[0-9]{12}):mlflow-tracking-server/(?<name>[A-Za-z0-9-]{1,256})$")]
    private static partial Regex TrackingServerArn();

    /// <summary>True for <c>arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME</c>; gives its endpoint.</summary>
    public static bool TryParseSageMakerArn(string trackingUri, out string region, out Uri endpoint)
    {
        var m = TrackingServerArn().Match(trackingUri);
        region = m.Success ? m.Groups["region"].Value : "";
        endpoint = m.Success ? new Uri($"https://{region}.experiments.sagemaker.aws/") : null!;
        return m.Success;
    }

    /// <summary>
    /// Client options for <paramref name="trackingUri"/>, or null when it is empty (no server configured: the
    /// stage then keeps payloads in the outbox). A malformed URI is <see cref="InvalidConfiguration"/>.
    /// </summary>
    public static async Task<MlflowClientOptions?> ResolveAsync(string? trackingUri, Func<string, string?> environment,
        ISecretSource? secrets = null, Func<AWSCredentials>? awsCredentials = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(trackingUri)) return null;
        trackingUri = trackingUri.Trim();

        if (trackingUri.StartsWith("arn:", StringComparison.Ordinal))
        {
            if (!TryParseSageMakerArn(trackingUri, out var region, out var endpoint))
                throw new InvalidConfiguration($"{TrackingUriVariable} '{trackingUri}' is an ARN but not a SageMaker MLflow tracking server's (arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME).");
            var credentials = (awsCredentials ?? (() => DefaultAWSCredentialsIdentityResolver.GetCredentials()))();
            return new MlflowClientOptions
            {
                BaseUri = endpoint,
                Authenticator = new SageMakerSigV4Authentication(trackingUri, RegionEndpoint.GetBySystemName(region), credentials),
            };
        }

        if (!Uri.TryCreate(trackingUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new InvalidConfiguration($"{TrackingUriVariable} '{trackingUri}' is neither an http(s) URL nor a SageMaker MLflow tracking-server ARN. Leave it unset to keep runs in the local outbox.");

        // The message must not quote the URI: its user-info part is a secret.
        if (uri.UserInfo.Length > 0)
            throw new InvalidConfiguration($"{TrackingUriVariable} carries credentials in the URL ({uri.Scheme}://***@{uri.Authority}); set {UsernameVariable}/{PasswordVariable}, {TokenVariable} or {CredentialsParameterVariable} instead.");
        return new MlflowClientOptions { BaseUri = uri, Authenticator = await CredentialsAsync(environment, secrets, cancellationToken) };
    }

    private static async Task<IMlflowAuthenticator> CredentialsAsync(Func<string, string?> env, ISecretSource? secrets, CancellationToken ct)
    {
        if (Value(env, CredentialsParameterVariable) is { } parameter)
        {
            if (secrets is null)
                throw new InvalidConfiguration($"{CredentialsParameterVariable} is set ('{parameter}') but no secret source is available to read it.");
            var text = await secrets.GetSecretAsync(parameter, ct);
            MlflowCredentialsDocument? doc;
            try { doc = JsonSerializer.Deserialize(text, MlflowJsonContext.Default.MlflowCredentialsDocument); }
            catch (JsonException) { doc = null; } // the message must not echo the secret
            return doc switch
            {
                { Token: { Length: > 0 } token } => new BearerAuthentication(token),
                { Username: { Length: > 0 } user, Password: { } password } => new BasicAuthentication(user, password),
                _ => throw new InvalidConfiguration($"SSM parameter '{parameter}' ({CredentialsParameterVariable}) must hold JSON {{\"username\",\"password\"}} or {{\"token\"}}."),
            };
        }
        if (Value(env, TokenVariable) is { } bearer) return new BearerAuthentication(bearer);
        if (Value(env, UsernameVariable) is { } username)
            return new BasicAuthentication(username, Value(env, PasswordVariable)
                ?? throw new InvalidConfiguration($"{UsernameVariable} is set but {PasswordVariable} is not."));
        return NoAuthentication.Instance;
    }

    private static string? Value(Func<string, string?> env, string name) => env(name) is { Length: > 0 } v ? v : null;
}
