using System.Text.Json.Serialization.Metadata;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Data;
using MlOps.Serverless.Data.Quality;
using MlOps.Serverless.Functions.Hosting;

namespace MlOps.Serverless.Functions;

/// <summary>
/// Lambda: applies the data-quality rules to the quality query's result set and the uploaded files' first bytes;
/// writes the report to <c>{qualityUri}report.json</c>; a hard failure ends the run as <c>DataQualityFailed</c>.
/// Input <c>{"run": RunRequest, "results": ResultSet}</c> (the ResultSet of athena:getQueryResults).
/// Handler: <c>MlOps.Serverless.Functions::MlOps.Serverless.Functions.DataQualityVerdictFunction::Handle</c>.
/// Needs s3:GetObject on the raw bucket and s3:PutObject on the work bucket.
/// </summary>
public sealed class DataQualityVerdictFunction : StageFunction<QualityVerdictInput, QualityVerdictOutput>
{
    private readonly QualityVerdict _verdict;

    public DataQualityVerdictFunction() : this(new S3ObjectStore()) { }

    public DataQualityVerdictFunction(IObjectStore store, StructuredLog? log = null) : base(log) => _verdict = new QualityVerdict(store);

    protected override JsonTypeInfo<QualityVerdictInput> InputContract => DataJsonContext.Default.QualityVerdictInput;
    protected override JsonTypeInfo<QualityVerdictOutput> OutputContract => DataJsonContext.Default.QualityVerdictOutput;

    protected override async Task<QualityVerdictOutput> RunAsync(QualityVerdictInput input, CancellationToken cancellationToken)
    {
        var output = await _verdict.EvaluateAsync(input, cancellationToken);
        Log.Info("data quality passed", ("runId", input.Run.RunId), ("batch", input.Run.Data.BatchId),
            ("warnings", output.Warnings.Count), ("report", output.ReportUri));
        return output;
    }
}
