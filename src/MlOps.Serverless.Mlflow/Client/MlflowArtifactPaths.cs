namespace MlOps.Serverless.Mlflow.Client;

/// <summary>
/// Where a run's artifacts go. A server that proxies artifacts gives runs an <c>mlflow-artifacts:/{path}</c>
/// artifact URI (optionally <c>mlflow-artifacts://host:port/{path}</c>); its files are written through
/// <c>PUT /api/2.0/mlflow-artifacts/artifacts/{path}/{file}</c>. The server refuses paths with <c>..</c>,
/// <c>#</c> or a leading <c>/</c> (<c>mlflow/utils/uri.py</c> <c>validate_path_is_safe</c>), so they are refused here first.
/// </summary>
public static class MlflowArtifactPaths
{
    public const string ProxyScheme = "mlflow-artifacts:";

    public static bool IsProxied(string? artifactUri) => artifactUri?.StartsWith(ProxyScheme, StringComparison.Ordinal) == true;

    /// <summary>The proxy path of <paramref name="relativePath"/> under <paramref name="artifactUri"/>.</summary>
    public static string ProxyPath(string artifactUri, string relativePath)
    {
        if (!IsProxied(artifactUri))
            throw new MlflowInvalidParameter($"Artifact URI '{artifactUri}' is not an {ProxyScheme} URI; this tracking server does not proxy artifacts.", "mlflow-artifacts/artifacts", null, "INVALID_PARAMETER_VALUE");
        var rest = artifactUri[ProxyScheme.Length..];
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            var slash = rest.IndexOf('/', 2);
            rest = slash < 0 ? "" : rest[slash..];
        }
        var path = (rest.Trim('/') + "/" + relativePath.Trim('/')).Trim('/');
        if (path.Length == 0 || path.Contains('#') || path.Contains('\\') || path.Split('/').Any(s => s is ".." or ""))
            throw new MlflowInvalidParameter($"Artifact path '{path}' is not a safe relative path.", "mlflow-artifacts/artifacts", null, "INVALID_PARAMETER_VALUE");
        return path;
    }
}
