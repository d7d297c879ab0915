using System.Text.Json.Serialization.Metadata;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Functions.Hosting;
using MlOps.Serverless.Training.Gate;
using MlOps.Serverless.Training.Json;

namespace MlOps.Serverless.Functions;

/// <summary>
/// The EvaluationGate Lambda: promote or reject the challenger (see <see cref="GatePolicy"/>), and write the
/// evaluation report next to the run's outputs. Handler:
/// <c>MlOps.Serverless.Functions::MlOps.Serverless.Functions.EvaluationGateFunction::Handle</c>.
/// </summary>
public sealed class EvaluationGateFunction : StageFunction<GateInput, GateOutput>
{
    private readonly EvaluationGate _gate;

    public EvaluationGateFunction() : this(new S3ObjectStore()) { }

    public EvaluationGateFunction(IObjectStore store, StructuredLog? log = null) : base(log) => _gate = new EvaluationGate(store);

    protected override JsonTypeInfo<GateInput> InputContract => TrainingJsonContext.Default.GateInput;
    protected override JsonTypeInfo<GateOutput> OutputContract => TrainingJsonContext.Default.GateOutput;

    protected override async Task<GateOutput> RunAsync(GateInput input, CancellationToken cancellationToken)
    {
        var output = await _gate.RunAsync(input, cancellationToken);
        Log.Info("gate decided", ("decision", output.Decision.ToString()), ("summary", output.Summary), ("runId", input.Run.RunId));
        return output;
    }
}
