using System.Net;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Mlflow.Client;

/// <summary>
/// Base of every MLflow failure. <see cref="ErrorCode"/> is MLflow's <c>error_code</c> (null when the
/// server did not answer with MLflow's error JSON); messages name the endpoint and never carry credentials.
/// </summary>
public abstract class MlflowError(string message, string endpoint, HttpStatusCode? status, string? errorCode, Exception? inner = null)
    : WorkflowError(message, inner)
{
    public string Endpoint { get; } = endpoint;
    public HttpStatusCode? StatusCode { get; } = status;
    public string? ErrorCode { get; } = errorCode;
}

/// <summary>404 / RESOURCE_DOES_NOT_EXIST: a missing experiment, run, registered model or version.</summary>
public sealed class MlflowResourceNotFound(string message, string endpoint, HttpStatusCode? status, string? errorCode)
    : MlflowError(message, endpoint, status, errorCode);

/// <summary>INVALID_PARAMETER_VALUE (and the client's own checks): the request can never succeed as sent.</summary>
public sealed class MlflowInvalidParameter(string message, string endpoint, HttpStatusCode? status, string? errorCode)
    : MlflowError(message, endpoint, status, errorCode);

/// <summary>RESOURCE_ALREADY_EXISTS, e.g. two writers creating the same experiment at once.</summary>
public sealed class MlflowResourceAlreadyExists(string message, string endpoint, HttpStatusCode? status, string? errorCode)
    : MlflowError(message, endpoint, status, errorCode);

/// <summary>Any other non-success answer (401/403, other error codes, non-JSON 4xx pages).</summary>
public sealed class MlflowRequestFailed(string message, string endpoint, HttpStatusCode? status, string? errorCode)
    : MlflowError(message, endpoint, status, errorCode);

/// <summary>The server could not be reached or kept failing transiently (connection errors, timeouts, 429, 5xx) until the retry budget ran out.</summary>
public sealed class MlflowUnavailable(string message, string endpoint, HttpStatusCode? status, string? errorCode, Exception? inner = null)
    : MlflowError(message, endpoint, status, errorCode, inner);
