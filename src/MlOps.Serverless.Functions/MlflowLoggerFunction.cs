using System.Text.Json.Serialization.Metadata;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Functions.Hosting;
using MlOps.Serverless.Mlflow.Authentication;
using MlOps.Serverless.Mlflow.Client;
using MlOps.Serverless.Mlflow.Json;
using MlOps.Serverless.Mlflow.Logging;

namespace MlOps.Serverless.Functions;

/// <summary>
/// Lambda <c>MlflowLogger</c>: logs training, evaluation or promotion to MLflow, or defers it to the run's
/// outbox (status <c>deferred</c>) when no server is configured or MLflow is unavailable.
/// Settings: <c>MLFLOW_TRACKING_URI</c> (URL or SageMaker tracking-server ARN; unset = outbox only),
/// <c>MLFLOW_CREDENTIALS_PARAMETER</c> (SSM SecureString name) or <c>MLFLOW_TRACKING_TOKEN</c> /
/// <c>MLFLOW_TRACKING_USERNAME</c> + <c>MLFLOW_TRACKING_PASSWORD</c>. Secrets are read here, never passed in the payload.
/// </summary>
public sealed class MlflowLoggerFunction : StageFunction<MlflowLoggerInput, MlflowLoggerOutput>
{
    private readonly Func<CancellationToken, Task<MlflowClient?>> _client;
    private readonly IObjectStore _store;
    private Task<MlflowClient?>? _resolved;

    /// <summary>Lambda: settings from the environment, S3 for the outbox and curves. The client is built on first use and reused across invocations.</summary>
    public MlflowLoggerFunction()
    {
        _store = new S3ObjectStore();
        _client = async ct =>
        {
            var options = await MlflowConnection.ResolveAsync(StageEnvironment.Optional(MlflowConnection.TrackingUriVariable), StageEnvironment.Optional,
                StageEnvironment.Optional(MlflowConnection.CredentialsParameterVariable) is null ? null : new SsmSecretSource(), cancellationToken: ct);
            return options is null ? null : new MlflowClient(options with
            {
                OnRetry = (endpoint, attempt, failure, wait) => Log.Warn("mlflow retry", ("endpoint", endpoint), ("attempt", attempt),
                    ("failure", failure), ("waitMs", (long)wait.TotalMilliseconds)),
            });
        };
    }

    /// <summary>Local mode and tests: a ready client (or null for "no tracking server") and the object store.</summary>
    public MlflowLoggerFunction(MlflowClient? client, IObjectStore store, StructuredLog? log = null) : base(log)
    {
        _store = store;
        _client = _ => Task.FromResult(client);
    }

    protected override JsonTypeInfo<MlflowLoggerInput> InputContract => MlflowJsonContext.Default.MlflowLoggerInput;
    protected override JsonTypeInfo<MlflowLoggerOutput> OutputContract => MlflowJsonContext.Default.MlflowLoggerOutput;

    protected override async Task<MlflowLoggerOutput> RunAsync(MlflowLoggerInput input, CancellationToken cancellationToken)
    {
        MlflowClient? client;
        try
        {
            client = await (_resolved ??= _client(cancellationToken));
        }
        catch (Exception e) when (e is not WorkflowError)
        {
            // E.g. SSM or the AWS credential chain failing: defer (nothing lost) and try again on the next invocation.
            _resolved = null;
            return await new MlflowLogger(null, _store, Log, noClientReason: $"MLflow credentials could not be read ({e.GetType().Name}: {e.Message}); the payload is kept in the outbox.")
                .RunAsync(input, cancellationToken);
        }
        return await new MlflowLogger(client, _store, Log).RunAsync(input, cancellationToken);
    }
}
