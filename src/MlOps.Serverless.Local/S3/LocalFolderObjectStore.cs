using System.Security.Cryptography;
using MlOps.Serverless.Core.Storage;

namespace MlOps.Serverless.Local.S3;

/// <summary>
/// S3 on the local disk: <c>s3://bucket/key</c> is <c>{root}/bucket/key</c>. ETags are the MD5 of the
/// content in quotes, as S3 reports them for single-part uploads. Local folders are unversioned.
/// </summary>
public sealed class LocalFolderObjectStore(string root) : IObjectStore
{
    public string Root { get; } = Path.GetFullPath(root);

    public string PathOf(S3Uri location) => Path.Combine(Root, location.Bucket, location.Key.Replace('/', Path.DirectorySeparatorChar));

    public Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, CancellationToken cancellationToken = default)
    {
        var bucketDir = Path.Combine(Root, bucket);
        if (!Directory.Exists(bucketDir)) return Task.FromResult<IReadOnlyList<StoredObject>>([]);
        var objects = Directory.EnumerateFiles(bucketDir, "*", SearchOption.AllDirectories)
            .Select(file => (file, key: Path.GetRelativePath(bucketDir, file).Replace(Path.DirectorySeparatorChar, '/')))
            .Where(f => f.key.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(f => f.key, StringComparer.Ordinal)
            .Select(f => new StoredObject(f.key, new FileInfo(f.file).Length, ETagOf(f.file), null))
            .ToList();
        return Task.FromResult<IReadOnlyList<StoredObject>>(objects);
    }

    public Task<Stream?> OpenReadAsync(S3Uri location, CancellationToken cancellationToken = default)
    {
        var path = PathOf(location);
        return Task.FromResult<Stream?>(File.Exists(path) ? File.OpenRead(path) : null);
    }

    public async Task<StoredObject> PutAsync(S3Uri location, Stream content, string contentType, CancellationToken cancellationToken = default)
    {
        var path = PathOf(location);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var file = File.Create(path))
            await content.CopyToAsync(file, cancellationToken);
        return new StoredObject(location.Key, new FileInfo(path).Length, ETagOf(path), null);
    }

    public Task<StoredObject> CopyAsync(string sourceBucket, StoredObject source, S3Uri target, CancellationToken cancellationToken = default)
    {
        var to = PathOf(target);
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(PathOf(new S3Uri(sourceBucket, source.Key)), to, overwrite: true);
        return Task.FromResult(new StoredObject(target.Key, new FileInfo(to).Length, ETagOf(to), null));
    }

    // S3's ETag of an object uploaded in one part is the MD5 of its bytes: a format, not a security use.
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Security", "CA5351", Justification = "S3's single-part ETag format is MD5")]
    private static string ETagOf(string file)
    {
        using var stream = File.OpenRead(file);
        return "\"" + Convert.ToHexStringLower(MD5.HashData(stream)) + "\"";
    }
}
