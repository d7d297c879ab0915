using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Core.Storage;

/// <summary>An <c>s3://bucket/key</c> address. Locally the bucket is a folder under the S3 root.</summary>
public sealed record S3Uri(string Bucket, string Key)
{
    public override string ToString() => $"s3://{Bucket}/{Key}";

    public S3Uri Child(string relative) =>
        new(Bucket, Key.Length == 0 || Key.EndsWith('/') ? Key + relative : Key + "/" + relative);

    public static S3Uri Parse(string uri)
    {
        if (!uri.StartsWith("s3://", StringComparison.Ordinal))
            throw new InvalidStageInput($"'{uri}' is not an s3:// URI.");
        var rest = uri["s3://".Length..];
        var slash = rest.IndexOf('/');
        return slash < 0 ? new S3Uri(rest, "") : new S3Uri(rest[..slash], rest[(slash + 1)..]);
    }
}

/// <summary>One stored object as a listing reports it: the data fingerprint is built from these.</summary>
public sealed record StoredObject(string Key, long Size, string ETag, string? VersionId = null);

/// <summary>The narrow storage seam the stages use: S3 in the cloud, a folder locally.</summary>
public interface IObjectStore
{
    Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, CancellationToken cancellationToken = default);
    Task<Stream?> OpenReadAsync(S3Uri location, CancellationToken cancellationToken = default);
    Task<StoredObject> PutAsync(S3Uri location, Stream content, string contentType, CancellationToken cancellationToken = default);
    /// <summary>Copies exactly <paramref name="source"/> (its version where the bucket is versioned) to <paramref name="target"/>.</summary>
    Task<StoredObject> CopyAsync(string sourceBucket, StoredObject source, S3Uri target, CancellationToken cancellationToken = default);
}
