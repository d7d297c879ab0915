using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Training.Data;
using MlOps.Serverless.Training.XGBoost;
using static MlOps.Serverless.Local.SageMaker.SageMakerRequest;

namespace MlOps.Serverless.Local.SageMaker;

/// <summary>
/// One input channel of a training job: <c>train</c> or <c>validation</c>, an S3 prefix of CSV objects. In File mode
/// SageMaker copies the objects to the instance as stored and the XGBoost container reads them as they are (no
/// decompression), so a channel holds plain CSV.
/// </summary>
public sealed record ChannelSpec(string Name, string S3Uri);

/// <summary>
/// The parts of CreateTrainingJob that CreateHyperParameterTuningJob's TrainingJobDefinition shares:
/// algorithm, channels, output, resources. The original JSON is kept to echo it in Describe* responses.
/// </summary>
public sealed record TrainingDefinition(
    JsonNode AlgorithmSpecification,
    JsonArray InputDataConfig,
    JsonNode OutputDataConfig,
    string S3OutputPath,
    JsonNode? ResourceConfig,
    JsonNode? StoppingCondition,
    string? RoleArn,
    bool EnableManagedSpotTraining,
    JsonNode? CheckpointConfig,
    IReadOnlyList<ChannelSpec> Channels)
{
    /// <param name="prefix">Where the fields sit in the request ("" or "TrainingJobDefinition."), for error messages.</param>
    public static TrainingDefinition Parse(JsonNode request, string prefix)
    {
        var algorithm = At(request, "AlgorithmSpecification") ?? throw Invalid($"1 validation error detected: Value null at '{prefix}AlgorithmSpecification' failed to satisfy constraint: Member must not be null");
        var inputMode = RequiredString(request, "AlgorithmSpecification.TrainingInputMode");
        if (OptionalString(request, "AlgorithmSpecification.TrainingImage") is null && OptionalString(request, "AlgorithmSpecification.AlgorithmName") is null)
            throw Invalid($"{prefix}AlgorithmSpecification: either TrainingImage or AlgorithmName must be set");

        var inputs = Array(request, "InputDataConfig");
        var channels = new List<ChannelSpec>();
        for (var i = 0; i < inputs.Count; i++)
        {
            var at = $"{prefix}InputDataConfig[{i}]";
            var channel = inputs[i];
            var name = OptionalString(channel, "ChannelName") ?? throw Invalid($"Value null at '{at}.ChannelName' failed to satisfy constraint: Member must not be null");
            var uri = OptionalString(channel, "DataSource.S3DataSource.S3Uri") ?? throw Invalid($"Value null at '{at}.DataSource.S3DataSource.S3Uri' failed to satisfy constraint: Member must not be null");
            if (!uri.StartsWith("s3://", StringComparison.Ordinal)) throw Invalid($"Value '{uri}' at '{at}.DataSource.S3DataSource.S3Uri' must be an s3:// URI");
            var dataType = OptionalString(channel, "DataSource.S3DataSource.S3DataType") ?? "S3Prefix";
            if (dataType != "S3Prefix") throw Invalid($"{at}.DataSource.S3DataSource.S3DataType '{dataType}' is not supported locally (only S3Prefix)");
            var contentType = OptionalString(channel, "ContentType") ?? "text/csv";
            if (!contentType.StartsWith("text/csv", StringComparison.Ordinal))
                throw Invalid($"{at}.ContentType '{contentType}' is not supported locally; the local XGBoost reads text/csv (label first, no header)");
            // Channel.CompressionType applies in Pipe mode only; File mode takes it unset or None (API reference, Channel).
            var mode = OptionalString(channel, "InputMode") ?? inputMode;
            if (mode is "File" or "FastFile" && (OptionalString(channel, "CompressionType") ?? "None") != "None")
                throw Invalid($"{at}.CompressionType is '{OptionalString(channel, "CompressionType")}', but {mode} input mode only supports None: " +
                              "compression applies in Pipe mode only, and in File mode the container reads the objects as stored");
            if (mode == "Pipe")
                throw Invalid($"{at}: Pipe input mode is not played locally; the built-in XGBoost container no longer reads CSV in Pipe mode (use File)");
            if (channels.Any(c => c.Name == name)) throw Invalid($"{at}.ChannelName '{name}' appears twice");
            channels.Add(new ChannelSpec(name, uri));
        }
        if (!channels.Any(c => c.Name == "train")) throw Invalid($"{prefix}InputDataConfig needs a 'train' channel (SageMaker XGBoost's required channel)");

        var outputPath = RequiredString(request, "OutputDataConfig.S3OutputPath");
        if (!outputPath.StartsWith("s3://", StringComparison.Ordinal)) throw Invalid($"Value '{outputPath}' at '{prefix}OutputDataConfig.S3OutputPath' must be an s3:// URI");
        var spot = At(request, "EnableManagedSpotTraining") is JsonValue v && v.TryGetValue<bool>(out var b) && b;
        if (spot && OptionalInt(request, "StoppingCondition.MaxWaitTimeInSeconds") is null)
            throw Invalid($"{prefix}StoppingCondition.MaxWaitTimeInSeconds is required when EnableManagedSpotTraining is true");

        return new TrainingDefinition(algorithm.DeepClone(), (JsonArray)inputs.DeepClone(), At(request, "OutputDataConfig")!.DeepClone(),
            outputPath, Copy(At(request, "ResourceConfig")), Copy(At(request, "StoppingCondition")),
            OptionalString(request, "RoleArn"), spot, Copy(At(request, "CheckpointConfig")), channels);
    }

    /// <summary><c>{S3OutputPath}{jobName}/output/</c>, the folder SageMaker writes model.tar.gz into.</summary>
    public S3Uri OutputFolder(string jobName)
    {
        var root = S3OutputPath.EndsWith('/') ? S3OutputPath : S3OutputPath + "/";
        return S3Uri.Parse($"{root}{jobName}/output/");
    }
}

/// <summary>The train (and optional validation) matrices of a job, loaded once and shared by tuning trials.</summary>
public sealed class ChannelData(DMatrix train, DMatrix? validation, int trainRows, int validationRows, int features) : IDisposable
{
    public DMatrix Train { get; } = train;
    public DMatrix? Validation { get; } = validation;
    public int TrainRows { get; } = trainRows;
    public int ValidationRows { get; } = validationRows;
    public int Features { get; } = features;

    /// <summary>True when the hyperparameters say the CSV's second column is the instance weight (<c>csv_weights=1</c>).</summary>
    public static bool Weighted(IReadOnlyDictionary<string, string> hyperParameters) =>
        hyperParameters.TryGetValue("csv_weights", out var value) && value.Trim() == "1";

    /// <summary>Reads every object under each channel's prefix (SageMaker's S3Prefix semantics) into XGBoost matrices.</summary>
    public static async Task<ChannelData> LoadAsync(IObjectStore store, TrainingDefinition definition, int threads, bool weighted, CancellationToken cancellationToken)
    {
        var train = await ReadChannelAsync(store, definition.Channels.Single(c => c.Name == "train"), weighted, cancellationToken);
        var validationSpec = definition.Channels.FirstOrDefault(c => c.Name == "validation");
        var validation = validationSpec is null ? null : await ReadChannelAsync(store, validationSpec, weighted, cancellationToken);
        if (validation is not null && validation.Columns != train.Columns)
            throw new InvalidTrainingData($"validation channel has {validation.Columns} feature columns, train has {train.Columns}.");
        var trainMatrix = DMatrix.FromMatrix(train, threads);
        try
        {
            var validationMatrix = validation is null ? null : DMatrix.FromMatrix(validation, threads);
            return new ChannelData(trainMatrix, validationMatrix, train.Rows, validation?.Rows ?? 0, train.Columns);
        }
        catch
        {
            trainMatrix.Dispose();
            throw;
        }
    }

    public static async Task<FeatureMatrix> ReadChannelAsync(IObjectStore store, ChannelSpec channel, bool weighted, CancellationToken cancellationToken)
    {
        var prefix = S3Uri.Parse(channel.S3Uri);
        var objects = (await store.ListAsync(prefix.Bucket, prefix.Key, cancellationToken)).Where(o => !o.Key.EndsWith('/')).ToList();
        if (objects.Count == 0)
            throw new InvalidTrainingData($"channel '{channel.Name}': no objects under {channel.S3Uri}.");
        var parts = new List<CsvMatrixReader.Part>();
        try
        {
            foreach (var o in objects)
            {
                var location = new S3Uri(prefix.Bucket, o.Key);
                var stream = await store.OpenReadAsync(location, cancellationToken)
                             ?? throw new InvalidTrainingData($"channel '{channel.Name}': {location} disappeared while reading.");
                parts.Add(new CsvMatrixReader.Part(location.ToString(), await AsStoredAsync(stream, location, channel, cancellationToken), Compression.None));
            }
            var matrix = CsvMatrixReader.Read(parts, labelled: true, weighted);
            if (matrix.Rows == 0) throw new InvalidTrainingData($"channel '{channel.Name}': the objects under {channel.S3Uri} hold no rows.");
            return matrix;
        }
        finally
        {
            foreach (var p in parts) await p.Content.DisposeAsync();
        }
    }

    /// <summary>The object's bytes as stored; a gzip object fails the job by name, as the container would fail parsing it.</summary>
    private static async Task<Stream> AsStoredAsync(Stream stream, S3Uri location, ChannelSpec channel, CancellationToken cancellationToken)
    {
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            await using (stream) await stream.CopyToAsync(copy, cancellationToken);
            copy.Position = 0;
            stream = copy;
        }
        var magic = new byte[2];
        var read = await stream.ReadAtLeastAsync(magic, 2, throwOnEndOfStream: false, cancellationToken);
        stream.Position = 0;
        if (read == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        {
            await stream.DisposeAsync();
            throw new InvalidTrainingData($"channel '{channel.Name}': {location} is gzip-compressed, but File mode delivers objects as stored and the " +
                                          "XGBoost container reads them as plain CSV; write the channel uncompressed (UNLOAD with compression = 'NONE').");
        }
        return stream;
    }

    public void Dispose()
    {
        Train.Dispose();
        Validation?.Dispose();
    }
}
