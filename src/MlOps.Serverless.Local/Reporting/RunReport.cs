using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using MlOps.Serverless.Core.Json;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Data;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.Runner;
using MlOps.Serverless.Local.S3;
using MlOps.Serverless.Training.Json;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>Writes the run folder's <c>summary.json</c> and human-readable <c>report.md</c>.</summary>
public static class RunReport
{
    public static async Task WriteAsync(LocalRunResult result, LocalLayout layout, CancellationToken cancellationToken)
    {
        var forecast = await ForecastSection.WriteAsync(new LocalFolderObjectStore(layout.S3Root), RunOutput(result.Execution),
            result.RunFolder, result.RunId, cancellationToken);
        var outcomes = await OutcomeSections.WriteAsync(result, layout, RunRequest(result.Execution), RunOutput(result.Execution), cancellationToken);
        var summary = Summary(result, layout);
        await File.WriteAllTextAsync(Path.Combine(result.RunFolder, RunSummary.FileName), summary.ToJson(), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(result.RunFolder, "report.md"), Markdown(summary, result, forecast, outcomes, layout), cancellationToken);
    }

    /// <summary>The facts of a finished run, read from the execution's output or, for a failed run, its history.</summary>
    public static RunSummary Summary(LocalRunResult result, LocalLayout layout)
    {
        var execution = result.Execution;
        var run = RunRequest(execution);
        var best = LastOutput(execution, "CollectTuningResult", "CollectSingleJobResult")?["training"]?["bestTrainingJob"];
        return new RunSummary(
            RunId: result.RunId,
            Status: execution.Status,
            Outcome: (string?)execution.Output?["outcome"] ?? (execution.Succeeded ? "succeeded" : "failed"),
            Failure: RunFailure.From(execution)?.ToJson(),
            ElapsedSeconds: Math.Round(result.Elapsed.TotalSeconds, 1),
            RunFolder: result.RunFolder,
            Outputs: run?["output"]?["runUri"] is { } uri ? LocalPath(layout, (string)uri!) : null,
            Model: best?["ModelArtifacts"]?["S3ModelArtifacts"] is { } model ? LocalPath(layout, (string)model!) : null,
            Forecast: OutcomeSections.ForecastCsv(result.RunFolder),
            BestTrainingJob: (string?)best?["TrainingJobName"],
            Quality: Read(execution.Output?["quality"] ?? LastOutput(execution, "QualityVerdict")?["quality"], DataJsonContext.Default.QualityVerdictOutput),
            Gate: Read(execution.Output?["gate"] ?? LastOutput(execution, "EvaluationGate")?["decision"]?["gate"], TrainingJsonContext.Default.GateOutput),
            ModelPackageArn: (string?)execution.Output?["modelPackageArn"],
            Mlflow: execution.Output?["mlflow"]?.DeepClone(),
            StatesEntered: execution.StatesEntered.Count,
            CostEstimate: Read(run?["costEstimate"], CoreJsonContext.Default.RunCostEstimate),
            Cost: result.Cost with { LambdaGbSeconds = Math.Round(result.Cost.LambdaGbSeconds, 3) });
    }

    /// <summary>A stage's output, read with the stage's own contract.</summary>
    private static T? Read<T>(JsonNode? node, JsonTypeInfo<T> type) where T : class => node?.Deserialize(type);

    /// <summary>The normalised run request PrepareRun emitted; null when the run failed before it.</summary>
    private static JsonNode? RunRequest(Runner.ExecutionResult execution) => StateData(execution)?["run"];

    /// <summary>The state data the run reached: the last output that carries the run request or, when no state exited
    /// since (a redrive's first state failed again), the input of the first state entered.</summary>
    private static JsonNode? StateData(Runner.ExecutionResult execution) =>
        execution.History.LastOrDefault(e => e.Type == "StateExited" && e.Output is JsonObject { } o && o["run"] is not null)?.Output
        ?? execution.History.FirstOrDefault(e => e.Type == "StateEntered" && e.Input is JsonObject { } i && i["run"] is not null)?.Input;

    /// <summary>
    /// The run request's output locations as the readers use them: each UNLOAD stage's prefix is the folder of the attempt
    /// its state recorded, and absent until that state succeeded, so the report never reads a failed attempt's files.
    /// </summary>
    public static JsonObject? RunOutput(Runner.ExecutionResult execution)
    {
        var data = StateData(execution);
        if (data?["run"]?["output"]?.DeepClone() is not JsonObject output) return null;
        foreach (var (member, attemptPath) in OutputLocations.UnloadAttemptPaths)
        {
            var attempt = StatePath.Select(data, attemptPath);
            if ((string?)output[member] is { } prefix && attempt is JsonValue value && value.TryGetValue(out int n))
                output[member] = OutputLocations.AttemptUri(prefix, n);
            else
                output.Remove(member);
        }
        return output;
    }

    private static JsonNode? LastOutput(Runner.ExecutionResult execution, params string[] states) =>
        execution.History.LastOrDefault(e => e.Type == "StateExited" && states.Contains(e.StateName))?.Output;

    public static string LocalPath(LocalLayout layout, string s3Uri) =>
        s3Uri.StartsWith("s3://", StringComparison.Ordinal) ? Path.Combine(layout.S3Root, s3Uri["s3://".Length..]) : s3Uri;

    private static string Markdown(RunSummary s, LocalRunResult result, ForecastSection forecast, OutcomeSections outcomes, LocalLayout layout)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Retraining run `{s.RunId}`").AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"- Outcome: **{s.Outcome}** ({s.Status}) in {s.ElapsedSeconds} s");
        if (RunFailure.From(result.Execution) is { } failure) md.AppendLine($"- {failure.Line}");
        if (s.Quality is { } quality) md.AppendLine($"- Data quality: {quality.Summary}");
        if (s.BestTrainingJob is { } job) md.AppendLine($"- Best training job: `{job}`; model: `{s.Model}`");
        if (s.ModelPackageArn is { } package) md.AppendLine($"- Registered model package: `{package}`");
        md.AppendLine($"- Outputs: `{s.Outputs}`").AppendLine();
        md.Append(outcomes.Forecast.Markdown());

        if (s.Gate is { } gate)
        {
            md.AppendLine("## Evaluation on the held-out test weeks").AppendLine();
            md.AppendLine("| metric | challenger | naive (same week last year) | champion |").AppendLine("| --- | ---: | ---: | ---: |");
            foreach (var (metric, challenger, baseline, champion) in RunSummary.Metrics(gate))
                md.AppendLine($"| {metric.ToUpperInvariant()} | {Number(challenger)} | {Number(baseline)} | {Number(champion)} |");
            md.AppendLine().AppendLine($"Gate decision: **{RunSummary.DecisionName(gate.Decision)}**").AppendLine();
            foreach (var reason in gate.Reasons) md.AppendLine($"- {reason}");
            md.AppendLine();
        }
        md.Append(ChampionSection.Markdown(s.Gate, LastOutput(result.Execution, "PredictChampionTestPeriod", "ChampionNotScored")?["champion"]?["scoring"],
            (string?)RunOutput(result.Execution)?["testFeaturesUri"]));
        md.AppendLine(forecast.Markdown());
        md.Append(outcomes.TestWeeks.Markdown()).Append(outcomes.Tuning).Append(outcomes.Quality);
        md.Append(MlflowSection.Markdown(result, layout));

        md.AppendLine("## States").AppendLine().AppendLine("| state | entered | duration (s) |").AppendLine("| --- | ---: | ---: |");
        var started = result.Execution.History.Count > 0 ? result.Execution.History[0].Timestamp : DateTimeOffset.MinValue;
        foreach (var (state, entered, duration, failed) in result.Execution.StateDurations())
            md.AppendLine($"| {state}{(failed ? " (failed)" : "")} | {(entered - started).TotalSeconds:0.0} | {duration.TotalSeconds:0.00} |");
        if (s.CostEstimate is { } estimate)
        {
            // PrepareRun's estimate, the one the cloud run logs and notifies before training starts.
            md.AppendLine().AppendLine("## What this run may cost in the cloud (estimated before training)").AppendLine();
            md.AppendLine($"- SageMaker training: {estimate.TrainingJobs} job(s) × {estimate.InstancesPerJob} × {estimate.InstanceType}, " +
                          $"at most {Number(estimate.MaxInstanceHours, "#,0.00")} instance-hours = ${Number(estimate.TrainingOnDemandUsd, "#,0.00")} on-demand" +
                          (estimate.Spot ? $" (managed spot: up to ${Number(estimate.SpotDiscountUpToUsd, "#,0.00")} less)" : ""));
            md.AppendLine($"- Athena: {estimate.AthenaQueries} queries, about {estimate.AthenaBytesScanned / 1e6:#,0} MB scanned = ${Number(estimate.AthenaUsd, "0.0000")}");
            md.AppendLine($"- Orchestration: up to {estimate.StateTransitions} state transitions and {estimate.LambdaRequests} Lambda requests = ${Number(estimate.OrchestrationUsd, "0.0000")}");
            md.AppendLine($"- Total at most ${Number(estimate.TotalUsd, "#,0.00")} (us-east-1 list prices; batch transform and storage not included)");
        }
        var c = result.Cost;
        md.AppendLine().AppendLine("## What orchestrating this run would cost in the cloud").AppendLine();
        md.AppendLine($"- {c.StateTransitions} state transitions × ${OrchestrationCost.PricePerThousandTransitions}/1,000 = ${c.StepFunctionsUsd:0.00000}");
        md.AppendLine($"- {c.LambdaInvocations} Lambda invocations, {c.LambdaGbSeconds:0.000} GB-s (arm64 ${OrchestrationCost.PricePerLambdaGbSecondArm}/GB-s, ${OrchestrationCost.PricePerMillionLambdaRequests}/1M requests) = ${c.LambdaUsd:0.00000}");
        md.AppendLine($"- Total orchestration: ${c.TotalUsd:0.0000} (us-east-1 list prices; SageMaker and Athena compute not included)");
        md.AppendLine($"- SageMaker batch transform jobs started: {c.TransformJobs} (the challenger's and, with a champion, the champion's on the test weeks, and the forecast); their instance time is SageMaker compute, billed per second");
        return md.ToString();
    }

    /// <summary>A JSON number as the report writes it, or a dash where there is none.</summary>
    internal static string Number(JsonNode? node, string format = "#,0.0") =>
        Number(node is JsonValue v && v.TryGetValue(out double d) ? d : null, format);

    internal static string Number(double? value, string format = "#,0.0") => value?.ToString(format, CultureInfo.InvariantCulture) ?? "—";
}
