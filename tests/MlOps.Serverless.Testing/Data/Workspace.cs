using System.IO.Compression;
using System.Text;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Athena;
using Xunit;

namespace MlOps.Serverless.Testing;

/// <summary>A temporary local S3 root with the data stages on DuckDB; deleted on dispose.</summary>
public sealed class Workspace : IDisposable
{
    public Workspace()
    {
        Root = Path.Combine(Path.GetTempPath(), "mlops-data-tests-" + Guid.NewGuid().ToString("N")[..10]);
        Directory.CreateDirectory(Root);
        Stages = new LocalDataStages(Path.Combine(Root, "s3"));
    }

    public string Root { get; }
    public LocalDataStages Stages { get; }

    /// <summary>Writes the files of a data set (name → content; null content = file absent) as an uploaded batch.</summary>
    public async Task<RunRequest> UploadAsync(string batchId, IReadOnlyDictionary<RawDataset, byte[]?> files, System.Text.Json.Nodes.JsonObject? overrides = null)
    {
        var folder = Path.Combine(Root, "data-" + batchId);
        Directory.CreateDirectory(folder);
        foreach (var (dataset, content) in files)
            if (content is not null) await File.WriteAllBytesAsync(Path.Combine(folder, dataset.FileName), content);
        Stages.Upload(folder, batchId);
        return await Stages.RunRequestAsync(batchId, "run-" + batchId, overrides);
    }

    public Task<RunRequest> UploadAsync(string batchId, SampleDataSet data, System.Text.Json.Nodes.JsonObject? overrides = null) =>
        UploadAsync(batchId, RawDatasets.All.ToDictionary(d => d, d => (byte[]?)Encoding.UTF8.GetBytes(data.ContentOf(d))), overrides);

    /// <summary>The local path of an s3:// URI under this workspace.</summary>
    public string PathOf(string s3Uri) => Path.Combine(Root, "s3", s3Uri["s3://".Length..]);

    /// <summary>All lines of the CSV files under an output prefix (gzip ones, .gz, decompressed).</summary>
    public IReadOnlyList<string[]> ReadCsv(string prefixUri)
    {
        var rows = new List<string[]>();
        // Partitioned UNLOADs (train, validation) write shard=k/ folders under the prefix.
        foreach (var file in Directory.GetFiles(PathOf(prefixUri), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            using var content = file.EndsWith(".gz", StringComparison.Ordinal)
                ? new GZipStream(File.OpenRead(file), CompressionMode.Decompress)
                : (Stream)File.OpenRead(file);
            using var reader = new StreamReader(content);
            while (reader.ReadLine() is { } line) rows.Add(line.Split(','));
        }
        return rows;
    }

    public void Dispose()
    {
        Stages.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// The real Retail Data Analytics files, found by walking up from the test binaries to a folder holding
/// <c>shared/datasets</c> (the repository's sibling <c>../shared</c>). Absent on a fresh clone.
/// </summary>
public static class RealData
{
    public static string? Folder { get; } = Find();

    private static string? Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "datasets", "retail-data-analytics");
            if (File.Exists(Path.Combine(candidate, RawDatasets.Sales.FileName))) return candidate;
        }
        return null;
    }
}

/// <summary>A fact that runs only where the real data set is present (xunit 2 has no dynamic skip).</summary>
public sealed class RealDataFactAttribute : FactAttribute
{
    public RealDataFactAttribute()
    {
        if (RealData.Folder is null) Skip = "The real data set (../shared/datasets/retail-data-analytics) is not present.";
    }
}
