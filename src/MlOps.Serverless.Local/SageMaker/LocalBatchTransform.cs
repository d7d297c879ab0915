using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Training.Data;
using MlOps.Serverless.Training.Jobs;
using MlOps.Serverless.Training.XGBoost;
using static MlOps.Serverless.Local.SageMaker.SageMakerRequest;

namespace MlOps.Serverless.Local.SageMaker;

/// <summary>
/// CreateModel and CreateTransformJob (batch transform) on local XGBoost. For each object X under the input
/// prefix it writes <c>{S3OutputPath}/X.out</c>: per CSV line, InputFilter picks what the model sees,
/// JoinSource Input appends the prediction to the original line, OutputFilter picks what is kept.
/// An input prefix with no objects fails the job, as SageMaker does ("no data found").
/// </summary>
public sealed class LocalBatchTransform(IObjectStore s3, LocalJobStore jobs, LocalAwsIdentity identity, StructuredLog? log = null)
{
    public const string ModelKind = "models";
    public const string Kind = "transform-jobs";
    private readonly StructuredLog _log = log ?? new StructuredLog("LocalSageMaker");

    public async Task<JsonObject> CreateModelAsync(JsonNode? request, CancellationToken cancellationToken)
    {
        var name = Name(request, "ModelName");
        var container = At(request, "PrimaryContainer") ?? (At(request, "Containers") as JsonArray)?.FirstOrDefault()
            ?? throw Invalid("CreateModel needs PrimaryContainer (or Containers) with Image and ModelDataUrl");
        RequiredString(container, "Image");
        var modelData = OptionalString(container, "ModelDataUrl") ?? throw Invalid("Value null at 'PrimaryContainer.ModelDataUrl' failed to satisfy constraint: Member must not be null (the local XGBoost model needs an artifact)");
        await using (var probe = await s3.OpenReadAsync(ParseUri(modelData, "PrimaryContainer.ModelDataUrl"), cancellationToken))
            if (probe is null) throw Invalid($"Could not access model data at {modelData}. Please ensure that the object exists.");

        var arn = identity.Arn("model", name);
        var model = new JsonObject
        {
            ["ModelName"] = name,
            ["ModelArn"] = arn,
            ["PrimaryContainer"] = container.DeepClone(),
            ["CreationTime"] = Timestamp(DateTimeOffset.UtcNow),
            ["EnableNetworkIsolation"] = false,
        };
        if (OptionalString(request, "ExecutionRoleArn") is { } role) model["ExecutionRoleArn"] = role;
        if (!jobs.TryCreate(ModelKind, name, model))
            throw new TaskFailure(ValidationError, $"Cannot create already existing model \"{arn}\".");
        return new JsonObject { ["ModelArn"] = arn };
    }

    public JsonObject DescribeModel(JsonNode? request)
    {
        var name = RequiredString(request, "ModelName");
        return jobs.Get(ModelKind, name) ?? throw NotFound($"Could not find model \"{identity.Arn("model", name)}\".");
    }

    /// <summary>CreateTransformJob run to completion (<c>.sync</c>): returns DescribeTransformJob.</summary>
    public async Task<JsonObject> CreateAsync(JsonNode? request, CancellationToken cancellationToken)
    {
        var job = ParseTransformRequest(request);
        var model = jobs.Get(ModelKind, job.ModelName) ?? throw NotFound($"Could not find model \"{identity.Arn("model", job.ModelName)}\".");
        if (jobs.Get(Kind, job.Name) is not null) throw new TaskFailure(InUseError, $"Transform job names must be unique; {job.Name} already exists");

        var created = DateTimeOffset.UtcNow;
        string? failure = null;
        var progress = new TransformProgress();
        try
        {
            await TransformAllObjectsAsync(job, model, progress, cancellationToken);
        }
        catch (WorkflowError e)
        {
            failure = $"ClientError: {e.Message}";
        }

        var describe = DescribeTransformJob(request, job, created, DateTimeOffset.UtcNow, failure);
        jobs.Put(Kind, job.Name, describe);
        _log.Info("transform job finished", ("transformJobName", job.Name), ("status", describe["TransformJobStatus"]!.GetValue<string>()),
            ("files", progress.Files), ("records", progress.Records));
        if (failure is not null) throw new TaskFailure("States.TaskFailed", describe.ToJsonString());
        return describe;
    }

    /// <summary>The request's parameters, checked in the order SageMaker reports them; the local container supports CSV lines only.</summary>
    private static TransformRequest ParseTransformRequest(JsonNode? request)
    {
        var name = Name(request, "TransformJobName");
        var modelName = RequiredString(request, "ModelName");
        var inputUri = RequiredString(request, "TransformInput.DataSource.S3DataSource.S3Uri");
        var dataType = OptionalString(request, "TransformInput.DataSource.S3DataSource.S3DataType") ?? "S3Prefix";
        if (dataType != "S3Prefix") throw Invalid($"TransformInput.DataSource.S3DataSource.S3DataType '{dataType}' is not supported locally (only S3Prefix)");
        var contentType = OptionalString(request, "TransformInput.ContentType") ?? "text/csv";
        if (!contentType.StartsWith("text/csv", StringComparison.Ordinal)) throw Invalid($"TransformInput.ContentType '{contentType}' is not supported locally (text/csv)");
        var compression = (OptionalString(request, "TransformInput.CompressionType") ?? "None") switch
        {
            "None" => Compression.None,
            "Gzip" => Compression.Gzip,
            var other => throw Invalid($"Value '{other}' at 'TransformInput.CompressionType' failed to satisfy constraint: Member must satisfy enum value set: [None, Gzip]"),
        };
        var split = OptionalString(request, "TransformInput.SplitType") ?? "None";
        if (split != "Line") throw Invalid($"TransformInput.SplitType '{split}' is not supported locally; use Line for CSV records");
        var outputPath = RequiredString(request, "TransformOutput.S3OutputPath");
        var assemble = OptionalString(request, "TransformOutput.AssembleWith") ?? "None";
        if (assemble != "Line") throw Invalid($"TransformOutput.AssembleWith '{assemble}' is not supported locally; use Line");
        var accept = OptionalString(request, "TransformOutput.Accept") ?? "text/csv";
        if (!accept.StartsWith("text/csv", StringComparison.Ordinal)) throw Invalid($"TransformOutput.Accept '{accept}' is not supported locally (text/csv)");
        var inputFilter = Filter(request, "DataProcessing.InputFilter");
        var outputFilter = Filter(request, "DataProcessing.OutputFilter");
        var join = OptionalString(request, "DataProcessing.JoinSource") ?? "None";
        if (join is not ("None" or "Input"))
            throw Invalid($"Value '{join}' at 'DataProcessing.JoinSource' failed to satisfy constraint: Member must satisfy enum value set: [Input, None]");
        return new TransformRequest(name, modelName, inputUri, compression, outputPath, accept, inputFilter, outputFilter, join == "Input");
    }

    private async Task TransformAllObjectsAsync(TransformRequest job, JsonObject model, TransformProgress progress, CancellationToken cancellationToken)
    {
        var modelUri = RequiredString(model, "PrimaryContainer.ModelDataUrl");
        var artifact = await s3.OpenReadAsync(S3Uri.Parse(modelUri), cancellationToken)
                       ?? throw new InvalidTrainingData($"model data {modelUri} no longer exists");
        using var booster = await LoadModelAsync(artifact, modelUri);
        var prefix = S3Uri.Parse(job.InputUri);
        var objects = (await s3.ListAsync(prefix.Bucket, prefix.Key, cancellationToken)).Where(o => !o.Key.EndsWith('/')).ToList();
        if (objects.Count == 0) throw new InvalidTrainingData($"No data found under {job.InputUri}: the transform input prefix holds no objects.");
        var output = S3Uri.Parse(job.OutputPath.EndsWith('/') ? job.OutputPath : job.OutputPath + "/");
        var baseKey = prefix.Key.EndsWith('/') || prefix.Key.Length == 0 ? prefix.Key : prefix.Key[..(prefix.Key.LastIndexOf('/') + 1)];
        foreach (var o in objects)
        {
            using var buffer = await TransformObjectAsync(job, booster, new S3Uri(prefix.Bucket, o.Key), progress, cancellationToken);
            await s3.PutAsync(output.Child(o.Key[baseKey.Length..] + ".out"), buffer, job.Accept, cancellationToken);
            progress.Files++;
        }
    }

    /// <summary>Mini-batches, as the container receives them: memory stays bounded by the batch, not the file.</summary>
    private async Task<MemoryStream> TransformObjectAsync(TransformRequest job, Booster booster, S3Uri source, TransformProgress progress,
        CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        await using (var writer = new StreamWriter(buffer, new UTF8Encoding(false), leaveOpen: true))
        {
            var batch = new List<string>(BatchLines);
            var firstLine = 1;
            async Task Flush()
            {
                await writer.WriteAsync(Transform(booster, batch, job.InputFilter, job.OutputFilter, job.JoinInput, source.ToString(), firstLine));
                firstLine += batch.Count;
                progress.Records += batch.Count;
                batch.Clear();
            }
            await foreach (var line in ReadLinesAsync(source, job.Compression, cancellationToken))
            {
                batch.Add(line);
                if (batch.Count == BatchLines) await Flush();
            }
            if (batch.Count > 0) await Flush();
        }
        buffer.Position = 0;
        return buffer;
    }

    private JsonObject DescribeTransformJob(JsonNode? request, TransformRequest job, DateTimeOffset created, DateTimeOffset ended, string? failure)
    {
        var describe = new JsonObject
        {
            ["TransformJobName"] = job.Name,
            ["TransformJobArn"] = identity.Arn("transform-job", job.Name),
            ["TransformJobStatus"] = failure is null ? "Completed" : "Failed",
            ["ModelName"] = job.ModelName,
            ["BatchStrategy"] = OptionalString(request, "BatchStrategy") ?? "MultiRecord",
            ["TransformInput"] = At(request, "TransformInput")!.DeepClone(),
            ["TransformOutput"] = At(request, "TransformOutput")!.DeepClone(),
            ["CreationTime"] = Timestamp(created),
            ["TransformStartTime"] = Timestamp(created),
            ["TransformEndTime"] = Timestamp(ended),
        };
        if (At(request, "TransformResources") is { } resources) describe["TransformResources"] = resources.DeepClone();
        if (At(request, "DataProcessing") is { } processing) describe["DataProcessing"] = processing.DeepClone();
        if (OptionalString(request, "MaxPayloadInMB") is { } payload) describe["MaxPayloadInMB"] = int.Parse(payload, CultureInfo.InvariantCulture);
        if (failure is not null) describe["FailureReason"] = failure;
        return describe;
    }

    private sealed record TransformRequest(string Name, string ModelName, string InputUri, Compression Compression, string OutputPath, string Accept,
        CsvJsonPathFilter InputFilter, CsvJsonPathFilter OutputFilter, bool JoinInput);

    /// <summary>Counted as the job goes, so a failed job still logs how far it got.</summary>
    private sealed class TransformProgress
    {
        public int Files { get; set; }
        public long Records { get; set; }
    }

    public JsonObject DescribeExisting(JsonNode? request)
    {
        var name = RequiredString(request, "TransformJobName");
        return jobs.Get(Kind, name) ?? throw NotFound($"Could not find requested job with name {name}");
    }

    /// <summary>Records per mini-batch (SageMaker batches by MaxPayloadInMB; the size only bounds memory here).</summary>
    public const int BatchLines = 8192;

    /// <summary>Predicts every line and renders the output records (one per line, in input order).</summary>
    public static string Transform(Booster model, IReadOnlyList<string> lines, CsvJsonPathFilter inputFilter, CsvJsonPathFilter outputFilter, bool joinInput, string where,
        int firstLine = 1)
    {
        var records = lines.Select(l => l.Split(',')).ToList();
        var width = -1;
        var features = new List<float>(records.Count * 8);
        for (var r = 0; r < records.Count; r++)
        {
            var selected = inputFilter.Apply(records[r], $"{where} line {firstLine + r}");
            if (width < 0) width = selected.Count;
            else if (selected.Count != width)
                throw new InvalidTrainingData($"{where} line {firstLine + r}: {selected.Count} columns after InputFilter {inputFilter.Expression}, earlier lines have {width}");
            foreach (var value in selected) features.Add(ParseFeature(value, where, firstLine + r));
        }
        var output = new StringBuilder();
        if (records.Count == 0) return "";
        using var matrix = DMatrix.FromDense(features.ToArray(), records.Count, width);
        var predictions = model.Predict(matrix);
        for (var r = 0; r < records.Count; r++)
        {
            var prediction = predictions[r].ToString("R", CultureInfo.InvariantCulture);
            IReadOnlyList<string> record = joinInput ? [.. records[r], prediction] : [prediction];
            output.Append(string.Join(',', outputFilter.Apply(record, $"{where} line {firstLine + r} (output)"))).Append('\n');
        }
        return output.ToString();
    }

    private static CsvJsonPathFilter Filter(JsonNode? request, string path)
    {
        var expression = OptionalString(request, path);
        if (expression is null) return CsvJsonPathFilter.All;
        return CsvJsonPathFilter.TryParse(expression, out var problem) ?? throw Invalid($"{path}: {problem}");
    }

    private static float ParseFeature(string text, string where, int line)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0) return float.NaN;
        return float.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new InvalidTrainingData($"{where} line {line}: '{text}' is not a number; check DataProcessing.InputFilter (the model sees only numeric columns)");
    }

    private static async Task<Booster> LoadModelAsync(Stream artifact, string modelUri)
    {
        await using (artifact)
        {
            var buffer = new MemoryStream();
            await artifact.CopyToAsync(buffer);
            buffer.Position = 0;
            return ModelArtifact.Load(buffer, modelUri);
        }
    }

    private async IAsyncEnumerable<string> ReadLinesAsync(S3Uri source, Compression compression,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = await s3.OpenReadAsync(source, cancellationToken) ?? throw new InvalidTrainingData($"{source} disappeared while reading");
        await using (stream)
        {
            Stream content = compression == Compression.Gzip ? new GZipStream(stream, CompressionMode.Decompress) : stream;
            using var reader = new StreamReader(content, Encoding.UTF8);
            while (true)
            {
                string? line;
                try
                {
                    line = await reader.ReadLineAsync(cancellationToken);
                }
                catch (InvalidDataException e)
                {
                    throw new InvalidTrainingData($"{source}: not a gzip stream ({e.Message}); check TransformInput.CompressionType");
                }
                if (line is null) yield break;
                if (line.Length > 0) yield return line;
            }
        }
    }

    private static S3Uri ParseUri(string uri, string field) =>
        uri.StartsWith("s3://", StringComparison.Ordinal) ? S3Uri.Parse(uri) : throw Invalid($"Value '{uri}' at '{field}' must be an s3:// URI");
}
