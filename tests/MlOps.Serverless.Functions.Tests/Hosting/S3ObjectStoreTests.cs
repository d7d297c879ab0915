using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Functions.Hosting;
using Moq;

namespace MlOps.Serverless.Functions.Tests.Hosting;

public sealed class S3ObjectStoreTests
{
    private static S3ObjectStore StoreAnswering(HttpStatusCode status, string code)
    {
        var s3 = new Mock<IAmazonS3>();
        s3.Setup(c => c.GetObjectAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new AmazonS3Exception(code) { StatusCode = status, ErrorCode = code });
        return new S3ObjectStore(s3.Object);
    }

    [Fact]
    public async Task A_missing_key_reads_as_null()
    {
        Assert.Null(await StoreAnswering(HttpStatusCode.NotFound, "NoSuchKey").OpenReadAsync(new S3Uri("b", "k")));
    }

    [Fact]
    public async Task Access_denied_is_a_named_error_with_the_location()
    {
        var error = await Assert.ThrowsAsync<StorageAccessDenied>(() =>
            StoreAnswering(HttpStatusCode.Forbidden, "AccessDenied").OpenReadAsync(new S3Uri("artifacts", "runs/r/models/j/output/metric-curves.json")));
        Assert.Equal("s3://artifacts/runs/r/models/j/output/metric-curves.json", error.Location);
        Assert.Contains("AccessDenied", error.Message);
    }
}
