namespace MlOps.Serverless.Core.Errors;

// Step Functions reports an unhandled Lambda exception with Error = the exception's type name,
// so these types are named for how Catch/Retry clauses read ("ErrorEquals": ["InvalidRunRequest"]),
// not with the usual "Exception" suffix.

/// <summary>Base of every error the workflow raises on purpose. <see cref="ErrorName"/> is what ASL matches.</summary>
public abstract class WorkflowError(string message, Exception? inner = null) : Exception(message, inner)
{
    public string ErrorName => GetType().Name;
}

/// <summary>The run request (trigger event, manual input or overrides) is malformed. Never retried.</summary>
public sealed class InvalidRunRequest(string message) : WorkflowError(message);

/// <summary>The pipeline configuration (defaults, deployment settings or overrides) is invalid. Never retried.</summary>
public sealed class InvalidConfiguration(string message) : WorkflowError(message);

/// <summary>A stage received input that does not match its contract (a wiring bug or a hand-edited payload).</summary>
public sealed class InvalidStageInput(string message, Exception? inner = null) : WorkflowError(message, inner);

/// <summary>The raw data failed one or more hard data-quality rules. Never retried.</summary>
public sealed class DataQualityFailed(string message) : WorkflowError(message);

/// <summary>The object store refused a read or write (S3 403 AccessDenied): the role lacks a grant, or a bucket policy denies it.</summary>
public sealed class StorageAccessDenied(string location, string message, Exception? inner = null)
    : WorkflowError($"Access denied to {location}: {message}", inner)
{
    public string Location { get; } = location;
}

/// <summary>A redrive was asked for a run that cannot be redriven (it succeeded, or it never started a state); Step Functions' name.</summary>
public sealed class ExecutionNotRedrivable(string message) : WorkflowError(message);

/// <summary>The trigger is not a run to start (e.g. a nested <c>manifest.json</c>): the execution ends successfully with this reason.</summary>
public sealed class UploadIgnored(string message) : WorkflowError(message);
