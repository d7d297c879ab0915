using System.Security.Cryptography;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Local.S3;

namespace MlOps.Serverless.Local.Run;

/// <summary>"Uploads" a data folder to local S3 the way the upload convention says: the three files under
/// <c>incoming/{batch}/{sales,features,stores}/</c>, then the <c>manifest.json</c> marker.</summary>
public static class RawBatch
{
    /// <summary>Copies the files (a missing one is skipped, so the quality stage can name it) and returns them with SHA-256s.</summary>
    public static JsonArray Upload(LocalFolderObjectStore store, string rawBucket, string dataDirectory, string batchId, bool writeMarker = true)
    {
        var files = new JsonArray();
        foreach (var dataset in RawDatasets.All)
        {
            var source = Path.Combine(dataDirectory, dataset.FileName);
            if (!File.Exists(source)) continue;
            var key = RawDatasets.KeyOf(dataset, batchId);
            var target = store.PathOf(new S3Uri(rawBucket, key));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(source, target, overwrite: true);
            using var stream = File.OpenRead(source);
            files.Add(new JsonObject
            {
                ["file"] = Path.GetFullPath(source),
                ["key"] = key,
                ["bytes"] = stream.Length,
                ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(stream)),
            });
        }
        if (writeMarker)
        {
            var marker = store.PathOf(new S3Uri(rawBucket, $"incoming/{batchId}/{Core.Runs.RunPreparationSettings.ManifestName}"));
            Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
            File.WriteAllText(marker, new JsonObject { ["batch"] = batchId, ["files"] = files.DeepClone() }.ToJsonString());
        }
        return files;
    }
}
