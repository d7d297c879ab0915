using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Workflow;

/// <summary>Writes the run folder's <c>summary.json</c> and human-readable <c>report.md</c>.</summary>
public static class RunReport
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task WriteAsync(LocalRunResult result, LocalLayout layout, CancellationToken cancellationToken)
    {
        var forecast = await ForecastSection.WriteAsync(new LocalFolderObjectStore(layout.S3Root), RunRequest(result.Execution)?["output"],
            result.RunFolder, result.RunId, cancellationToken);
        var outcomes = await OutcomeSections.WriteAsync(result, layout, RunRequest(result.Execution), cancellationToken);
        var summary = Summary(result, layout);
        await File.WriteAllTextAsync(Path.Combine(result.RunFolder, "summary.json"), summary.ToJsonString(Indented), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(result.RunFolder, "report.md"), Markdown(summary, result, forecast, outcomes, layout), cancellationToken);
    }

    /// <summary>The facts of a finished run, read from the execution's output or, for a failed run, its history.</summary>
    public static JsonObject Summary(LocalRunResult result, LocalLayout layout)
    {
        var execution = result.Execution;
        var gate = execution.Output?["gate"] ?? LastOutput(execution, "EvaluationGate")?["decision"]?["gate"];
        var run = RunRequest(execution);
        var best = LastOutput(execution, "CollectTuningResult", "CollectSingleJobResult")?["training"]?["bestTrainingJob"];
        var summary = new JsonObject
        {
            ["runId"] = result.RunId,
            ["status"] = execution.Status,
            ["outcome"] = (string?)execution.Output?["outcome"] ?? (execution.Succeeded ? "succeeded" : "failed"),
            ["failure"] = RunFailure.From(execution)?.ToJson(),
            ["elapsedSeconds"] = Math.Round(result.Elapsed.TotalSeconds, 1),
            ["runFolder"] = result.RunFolder,
            ["outputs"] = run?["output"]?["runUri"] is { } uri ? LocalPath(layout, (string)uri!) : null,
            ["model"] = best?["ModelArtifacts"]?["S3ModelArtifacts"] is { } model ? LocalPath(layout, (string)model!) : null,
            ["forecast"] = OutcomeSections.ForecastCsv(result.RunFolder),
            ["bestTrainingJob"] = (string?)best?["TrainingJobName"],
            ["quality"] = execution.Output?["quality"]?.DeepClone() ?? LastOutput(execution, "QualityVerdict")?["quality"]?.DeepClone(),
            ["gate"] = gate?.DeepClone(),
            ["modelPackageArn"] = (string?)execution.Output?["modelPackageArn"],
            ["mlflow"] = execution.Output?["mlflow"]?.DeepClone(),
            ["statesEntered"] = execution.StatesEntered.Count,
            ["costEstimate"] = run?["costEstimate"]?.DeepClone(),
            ["cost"] = new JsonObject
            {
                ["stateTransitions"] = result.Cost.StateTransitions,
                ["lambdaInvocations"] = result.Cost.LambdaInvocations,
                ["lambdaGbSeconds"] = Math.Round(result.Cost.LambdaGbSeconds, 3),
                ["stepFunctionsUsd"] = result.Cost.StepFunctionsUsd,
                ["lambdaUsd"] = result.Cost.LambdaUsd,
                ["totalUsd"] = result.Cost.TotalUsd,
                ["transformJobs"] = result.Cost.TransformJobs,
            },
        };
        return summary;
    }

    /// <summary>The normalised run request PrepareRun emitted; null when the run failed before it.</summary>
    private static JsonNode? RunRequest(Runner.ExecutionResult execution) => LastOutput(execution, "PrepareRun")?["run"];

    private static JsonNode? LastOutput(Runner.ExecutionResult execution, params string[] states) =>
        execution.History.LastOrDefault(e => e.Type == "StateExited" && states.Contains(e.StateName))?.Output;

    public static string LocalPath(LocalLayout layout, string s3Uri) =>
        s3Uri.StartsWith("s3://", StringComparison.Ordinal) ? Path.Combine(layout.S3Root, s3Uri["s3://".Length..]) : s3Uri;

    private static string Markdown(JsonObject s, LocalRunResult result, ForecastSection forecast, OutcomeSections outcomes, LocalLayout layout)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Retraining run `{s["runId"]}`").AppendLine();
        md.AppendLine($"- Outcome: **{s["outcome"]}** ({s["status"]}) in {s["elapsedSeconds"]} s");
        if (RunFailure.From(result.Execution) is { } failure) md.AppendLine($"- {failure.Line}");
        if (s["quality"]?["summary"] is { } quality) md.AppendLine($"- Data quality: {quality}");
        if (s["bestTrainingJob"] is { } job) md.AppendLine($"- Best training job: `{job}`; model: `{s["model"]}`");
        if (s["modelPackageArn"] is { } package) md.AppendLine($"- Registered model package: `{package}`");
        md.AppendLine($"- Outputs: `{s["outputs"]}`").AppendLine();
        md.Append(outcomes.Forecast.Markdown());

        if (s["gate"] is JsonObject gate)
        {
            md.AppendLine("## Evaluation on the held-out test weeks").AppendLine();
            md.AppendLine("| metric | challenger | naive (same week last year) | champion |").AppendLine("| --- | ---: | ---: | ---: |");
            foreach (var metric in new[] { "wmae", "rmse", "mae" })
                md.AppendLine($"| {metric.ToUpperInvariant()} | {Number(gate["challenger"]?[metric])} | {Number(gate["baseline"]?[metric])} | {Number(gate["champion"]?[metric])} |");
            md.AppendLine().AppendLine($"Gate decision: **{gate["decision"]}**").AppendLine();
            foreach (var reason in gate["reasons"]?.AsArray() ?? []) md.AppendLine($"- {reason}");
            md.AppendLine();
        }
        md.Append(ChampionSection.Markdown(s["gate"], LastOutput(result.Execution, "PredictChampionTestPeriod", "ChampionNotScored")?["champion"]?["scoring"],
            (string?)RunRequest(result.Execution)?["output"]?["testFeaturesUri"]));
        md.AppendLine(forecast.Markdown());
        md.Append(outcomes.TestWeeks.Markdown()).Append(outcomes.Tuning).Append(outcomes.Quality);
        md.Append(MlflowSection.Markdown(result, layout));

        md.AppendLine("## States").AppendLine().AppendLine("| state | entered | duration (s) |").AppendLine("| --- | ---: | ---: |");
        var started = result.Execution.History.Count > 0 ? result.Execution.History[0].Timestamp : DateTimeOffset.MinValue;
        foreach (var (state, entered, duration, failed) in result.Execution.StateDurations())
            md.AppendLine($"| {state}{(failed ? " (failed)" : "")} | {(entered - started).TotalSeconds:0.0} | {duration.TotalSeconds:0.00} |");
        if (s["costEstimate"] is JsonObject estimate)
        {
            // PrepareRun's estimate, the one the cloud run logs and notifies before training starts.
            md.AppendLine().AppendLine("## What this run may cost in the cloud (estimated before training)").AppendLine();
            md.AppendLine($"- SageMaker training: {estimate["trainingJobs"]} job(s) × {estimate["instancesPerJob"]} × {estimate["instanceType"]}, " +
                          $"at most {Number(estimate["maxInstanceHours"], "#,0.00")} instance-hours = ${Number(estimate["trainingOnDemandUsd"], "#,0.00")} on-demand" +
                          ((bool?)estimate["spot"] == true ? $" (managed spot: up to ${Number(estimate["spotDiscountUpToUsd"], "#,0.00")} less)" : ""));
            md.AppendLine($"- Athena: {estimate["athenaQueries"]} queries, about {(long?)estimate["athenaBytesScanned"] / 1e6:#,0} MB scanned = ${Number(estimate["athenaUsd"], "0.0000")}");
            md.AppendLine($"- Orchestration: up to {estimate["stateTransitions"]} state transitions and {estimate["lambdaRequests"]} Lambda requests = ${Number(estimate["orchestrationUsd"], "0.0000")}");
            md.AppendLine($"- Total at most ${Number(estimate["totalUsd"], "#,0.00")} (us-east-1 list prices; batch transform and storage not included)");
        }
        var c = result.Cost;
        md.AppendLine().AppendLine("## What orchestrating this run would cost in the cloud").AppendLine();
        md.AppendLine($"- {c.StateTransitions} state transitions × ${CostEstimate.PricePerThousandTransitions}/1,000 = ${c.StepFunctionsUsd:0.00000}");
        md.AppendLine($"- {c.LambdaInvocations} Lambda invocations, {c.LambdaGbSeconds:0.000} GB-s (arm64 ${CostEstimate.PricePerLambdaGbSecondArm}/GB-s, ${CostEstimate.PricePerMillionLambdaRequests}/1M requests) = ${c.LambdaUsd:0.00000}");
        md.AppendLine($"- Total orchestration: ${c.TotalUsd:0.0000} (us-east-1 list prices; SageMaker and Athena compute not included)");
        md.AppendLine($"- SageMaker batch transform jobs started: {c.TransformJobs} (the challenger's and, with a champion, the champion's on the test weeks, and the forecast); their instance time is SageMaker compute, billed per second");
        return md.ToString();
    }

    /// <summary>A JSON number as the report writes it, or a dash where there is none.</summary>
    internal static string Number(JsonNode? node, string format = "#,0.0") =>
        node is JsonValue v && v.TryGetValue(out double d) ? d.ToString(format, CultureInfo.InvariantCulture) : "—";
}
