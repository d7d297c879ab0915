using Amazon.S3;
using Amazon.S3.Model;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Storage;

namespace MlOps.Serverless.Functions.Hosting;

/// <summary>The cloud <see cref="IObjectStore"/>: versions are listed so the data fingerprint pins exact objects.</summary>
public sealed class S3ObjectStore(IAmazonS3 s3) : IObjectStore
{
    public S3ObjectStore() : this(new AmazonS3Client()) { }

    public async Task<IReadOnlyList<StoredObject>> ListAsync(string bucket, string prefix, CancellationToken cancellationToken = default)
    {
        var objects = new List<StoredObject>();
        var request = new ListVersionsRequest { BucketName = bucket, Prefix = prefix };
        ListVersionsResponse page;
        do
        {
            page = await s3.ListVersionsAsync(request, cancellationToken);
            objects.AddRange((page.Versions ?? [])
                .Where(v => v.IsLatest == true && v.IsDeleteMarker != true)
                .Select(v => new StoredObject(v.Key, v.Size ?? 0, v.ETag, v.VersionId == "null" ? null : v.VersionId)));
            request.KeyMarker = page.NextKeyMarker;
            request.VersionIdMarker = page.NextVersionIdMarker;
        } while (page.IsTruncated == true);
        return objects;
    }

    public async Task<Stream?> OpenReadAsync(S3Uri location, CancellationToken cancellationToken = default)
    {
        try
        {
            var response = await s3.GetObjectAsync(location.Bucket, location.Key, cancellationToken);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
        // S3 answers 403 (not 404) for a missing key too when the caller may not list the bucket.
        catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.Forbidden)
        {
            throw new StorageAccessDenied(location.ToString(), $"S3 {e.ErrorCode}: {e.Message}", e);
        }
    }

    public async Task<StoredObject> PutAsync(S3Uri location, Stream content, string contentType, CancellationToken cancellationToken = default)
    {
        var response = await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = location.Bucket,
            Key = location.Key,
            InputStream = content,
            ContentType = contentType,
            ServerSideEncryptionMethod = ServerSideEncryptionMethod.AWSKMS,
        }, cancellationToken);
        return new StoredObject(location.Key, content.CanSeek ? content.Length : 0, response.ETag, response.VersionId);
    }

    public async Task<StoredObject> CopyAsync(string sourceBucket, StoredObject source, S3Uri target, CancellationToken cancellationToken = default)
    {
        // The version id pins the fingerprinted object even if the key was overwritten since the listing.
        var response = await s3.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = sourceBucket,
            SourceKey = source.Key,
            SourceVersionId = source.VersionId,
            DestinationBucket = target.Bucket,
            DestinationKey = target.Key,
            ServerSideEncryptionMethod = ServerSideEncryptionMethod.AWSKMS,
        }, cancellationToken);
        return new StoredObject(target.Key, source.Size, response.ETag, response.VersionId);
    }
}
