using System.Formats.Tar;
using System.IO.Compression;
using MlOps.Serverless.Training.XGBoost;

namespace MlOps.Serverless.Training.Jobs;

/// <summary>
/// SageMaker's XGBoost model artifact: <c>model.tar.gz</c> holding one file, <c>xgboost-model</c>, in
/// XGBoost's binary format (what <c>XGBoosterSaveModel</c> writes for a name without extension).
/// </summary>
public static class ModelArtifact
{
    public const string ModelFileName = "xgboost-model";

    /// <summary>Writes the gzip-compressed tar of <paramref name="model"/> to <paramref name="output"/>.</summary>
    public static void Write(Booster model, Stream output)
    {
        var scratch = Directory.CreateTempSubdirectory("xgboost-model-");
        try
        {
            var file = Path.Combine(scratch.FullName, ModelFileName);
            model.Save(file);
            using var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true);
            using var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true);
            tar.WriteEntry(file, ModelFileName);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }

    /// <summary>Loads <c>xgboost-model</c> from a <c>model.tar.gz</c> stream.</summary>
    public static Booster Load(Stream tarGz, string source)
    {
        var scratch = Directory.CreateTempSubdirectory("xgboost-model-");
        try
        {
            using var gzip = new GZipStream(tarGz, CompressionMode.Decompress, leaveOpen: true);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)) continue;
                if (Path.GetFileName(entry.Name) != ModelFileName) continue;
                var file = Path.Combine(scratch.FullName, ModelFileName);
                entry.ExtractToFile(file, overwrite: true);
                return Booster.Load(file);
            }
            throw new Data.InvalidTrainingData($"{source} does not contain '{ModelFileName}' (SageMaker XGBoost's model file).");
        }
        catch (InvalidDataException e)
        {
            throw new Data.InvalidTrainingData($"{source} is not a gzip-compressed tar archive: {e.Message}");
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }
}
