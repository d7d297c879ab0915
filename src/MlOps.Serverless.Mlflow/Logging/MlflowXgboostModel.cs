using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Mlflow.Logging;

/// <summary>
/// The promoted model as an MLflow model: the files <c>mlflow.xgboost.load_model</c> reads (an <c>MLmodel</c>
/// with the <c>xgboost</c> flavor whose <c>data</c> names the model file, mlflow/xgboost/__init__.py
/// <c>_load_model</c>) plus the environment files MLflow writes beside it. Every byte derives from the inputs,
/// so logging the same promotion again writes the same files.
/// </summary>
public static class MlflowXgboostModel
{
    public const string ArtifactPath = "model";
    public const string ModelFile = "model.xgb";
    /// <summary>The XGBoost SageMaker's 1.7-1 container (and local training) uses; the model file is its binary format.</summary>
    public const string XgboostVersion = "1.7.4";
    public const string MlflowVersion = "2.12.1";
    public const string PythonVersion = "3.10.12";

    /// <summary>The file inside SageMaker's <c>model.tar.gz</c> (the built-in XGBoost container writes <c>xgboost-model</c>).</summary>
    public static byte[] ExtractModel(Stream modelTarGz, string source)
    {
        try
        {
            using var gzip = new GZipStream(modelTarGz, CompressionMode.Decompress);
            using var tar = new TarReader(gzip);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                using var buffer = new MemoryStream();
                entry.DataStream.CopyTo(buffer);
                return buffer.ToArray();
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException)
        {
            throw new InvalidStageInput($"{source} is not a gzip-compressed tar archive: {e.Message}", e);
        }
        throw new InvalidStageInput($"{source} holds no model file.");
    }

    /// <summary>The files of the MLflow model, by name under <see cref="ArtifactPath"/>.</summary>
    public static IReadOnlyList<(string Name, byte[] Content)> Files(byte[] model, string runId, DateTimeOffset createdAt)
    {
        var mlmodel = MlModel(model, runId, createdAt);
        var conda = CondaYaml();
        var pythonEnv = PythonEnvYaml();
        var requirements = $"mlflow=={MlflowVersion}\nxgboost=={XgboostVersion}\n";
        return
        [
            (ModelFile, model),
            ("MLmodel", Encoding.UTF8.GetBytes(mlmodel)),
            ("conda.yaml", Encoding.UTF8.GetBytes(conda)),
            ("python_env.yaml", Encoding.UTF8.GetBytes(pythonEnv)),
            ("requirements.txt", Encoding.UTF8.GetBytes(requirements)),
        ];
    }

    /// <summary>The MLmodel file: the xgboost and python_function flavors, with a uuid stable for the same run and model.</summary>
    private static string MlModel(byte[] model, string runId, DateTimeOffset createdAt)
    {
        // A stable uuid: the same run and model give the same MLmodel.
        var uuid = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(runId + "/" + Convert.ToHexString(SHA256.HashData(model)))))[..32];
        var created = createdAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        return $"""
            artifact_path: {ArtifactPath}
            flavors:
              python_function:
                data: {ModelFile}
                env:
                  conda: conda.yaml
                  virtualenv: python_env.yaml
                loader_module: mlflow.xgboost
                python_version: {PythonVersion}
              xgboost:
                code: null
                data: {ModelFile}
                model_class: xgboost.core.Booster
                model_format: xgb
                xgb_version: {XgboostVersion}
            mlflow_version: {MlflowVersion}
            model_uuid: {uuid}
            run_id: {runId}
            utc_time_created: '{created}'

            """;
    }

    private static string CondaYaml()
    {
        return $"""
            channels:
            - conda-forge
            dependencies:
            - python={PythonVersion}
            - pip<=23.0
            - pip:
              - mlflow=={MlflowVersion}
              - xgboost=={XgboostVersion}
            name: mlflow-env

            """;
    }

    private static string PythonEnvYaml()
    {
        return $"""
            python: {PythonVersion}
            build_dependencies:
            - pip==23.0
            - setuptools
            - wheel
            dependencies:
            - -r requirements.txt

            """;
    }
}
