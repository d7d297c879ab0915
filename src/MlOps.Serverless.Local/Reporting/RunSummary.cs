using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using MlOps.Serverless.Core.Costs;
using MlOps.Serverless.Data.Quality;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Training.Gate;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>
/// The facts of a finished run, as the run folder's <c>summary.json</c> holds them. A fact the run did not reach is
/// written as null (a failed run has no gate); inside the stages' outputs nulls are left out, as the stages write them.
/// </summary>
/// <param name="Failure">The failed state, error, message and cause (a JSON cause as JSON); null for a run that did not fail.</param>
/// <param name="Outputs">The local folder of the run's stage outputs.</param>
/// <param name="Model">The local path of the best training job's model artifact.</param>
/// <param name="Forecast">The forecast CSV in dollars, after a promotion.</param>
/// <param name="CostEstimate">PrepareRun's estimate, made before training starts.</param>
/// <param name="Cost">What orchestrating this run would cost in the cloud.</param>
public sealed record RunSummary(
    string RunId,
    string Status,
    string Outcome,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonObject? Failure,
    double ElapsedSeconds,
    string RunFolder,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Outputs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Model,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Forecast,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? BestTrainingJob,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] QualityVerdictOutput? Quality,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] GateOutput? Gate,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? ModelPackageArn,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] JsonNode? Mlflow,
    int StatesEntered,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] RunCostEstimate? CostEstimate,
    OrchestrationCost Cost)
{
    public const string FileName = "summary.json";

    /// <summary>The three metrics the gate compares, each for the challenger, the naive baseline and the champion (null where there is none).</summary>
    public static IReadOnlyList<(string Metric, double? Challenger, double? Baseline, double? Champion)> Metrics(GateOutput gate) =>
    [
        ("wmae", gate.Challenger.Wmae, gate.Baseline.Wmae, gate.Champion?.Wmae),
        ("rmse", gate.Challenger.Rmse, gate.Baseline.Rmse, gate.Champion?.Rmse),
        ("mae", gate.Challenger.Mae, gate.Baseline.Mae, gate.Champion?.Mae),
    ];

    /// <summary>The gate's decision as the definition and the report spell it.</summary>
    public static string DecisionName(GateDecision decision) => JsonSerializer.Serialize(decision, RunSummaryJsonContext.Default.GateDecision).Trim('"');

    public string ToJson() => JsonSerializer.Serialize(this, RunSummaryJsonContext.Default.RunSummary);

    /// <summary>Reads a run folder's <c>summary.json</c>.</summary>
    public static RunSummary Read(string runFolder)
    {
        var file = Path.Combine(runFolder, FileName);
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(file), RunSummaryJsonContext.Default.RunSummary)
                   ?? throw new InvalidDataException($"{file} holds null, not a run summary.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{file} is not a run summary: {e.Message}", e);
        }
    }
}

/// <summary>summary.json's serialisation: camelCase and enums as the stages write them, indented for people.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(RunSummary))]
internal sealed partial class RunSummaryJsonContext : JsonSerializerContext;
