using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Run;
using MlOps.Serverless.Local.SageMaker;
using MlOps.Serverless.Mlflow.Authentication;
using MlOps.Serverless.Reliability.Tests.Support;
using Xunit.Abstractions;

namespace MlOps.Serverless.Reliability.Tests;

/// <summary>
/// Runs against a real MLflow REST server (the in-process fake with MLflow's semantics): re-running the same
/// execution does not duplicate MLflow runs or model packages, and configured MLflow secrets never reach the
/// run's logs, execution history or notifications.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class IdempotencyAndSecretTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = LocalRuns.NewRoot("idempotency");

    public void Dispose() => LocalRuns.DeleteRoot(_root);

    private static JsonObject Promoting() => new() { ["tuning.maxJobs"] = 2, ["tuning.maxParallelJobs"] = 1, ["gate.maxWmaeRatioToNaive"] = 5 };

    /// <summary>The states with side effects outside the run's own prefixes; they run again for real on the re-run.</summary>
    private static readonly HashSet<string> SideEffects = ["PrepareRun", "LogTraining", "LogEvaluation", "RegisterModelPackage", "LogPromotion", "NotifyPromoted"];

    [Fact]
    public async Task Re_running_the_same_execution_name_makes_a_new_mlflow_parent_and_does_not_duplicate_model_packages()
    {
        await using var mlflow = await FakeMlflowServer.StartAsync();
        Recorder? first = null;
        var run1 = await LocalRuns.Workflow(t => first = new Recorder(t)).RunAsync(
            new LocalRunOptions(_root, null, Promoting(), mlflow.BaseUri.ToString(), "same-name", LocalRuns.SmallSample));
        Assert.Equal("promoted", (string?)run1.Execution.Output?["outcome"]);
        Assert.Equal("logged", (string?)run1.Execution.Output!["mlflow"]!["training"]!["result"]!["status"]);
        var runsAfterFirst = mlflow.Runs.Count;
        var versionsAfterFirst = mlflow.Models.Values.Sum(m => m.Versions.Count);
        Assert.True(runsAfterFirst >= 3, $"a parent and two child runs expected, found {runsAfterFirst}");

        // The re-run: SageMaker jobs and queries keep their first answers (their names are unique per execution and
        // would be "already exists"); every state with side effects elsewhere runs again for real.
        var run2 = await LocalRuns.Workflow(t => new Recorder(t, first!.Answers, SideEffects)).RunAsync(
            new LocalRunOptions(_root, null, Promoting(), mlflow.BaseUri.ToString(), "same-name", LocalRuns.SmallSample));

        Assert.Equal("promoted", (string?)run2.Execution.Output?["outcome"]);
        Assert.Equal((string?)run1.Execution.Output["modelPackageArn"], (string?)run2.Execution.Output!["modelPackageArn"]);
        var registry = new LocalModelRegistry(new LocalJobStore(Path.Combine(_root, "sagemaker")), new LocalAwsIdentity(LocalLayout.Region, LocalLayout.Account));
        var packages = registry.ListModelPackages(new JsonObject { ["ModelPackageGroupName"] = LocalDefinition.SampleModelPackageGroup })["ModelPackageSummaryList"]!.AsArray();
        Assert.Single(packages);
        Assert.Equal("logged", (string?)run2.Execution.Output["mlflow"]!["training"]!["result"]!["status"]);
        // An MLflow run is one execution (ARN and start time), not a name: the re-run gets its own parent and children,
        // and its promotion its own version, sourced from its own run.
        Assert.NotEqual((string?)run1.Execution.Output["mlflow"]!["training"]!["result"]!["parentRunId"], (string?)run2.Execution.Output["mlflow"]!["training"]!["result"]!["parentRunId"]);
        Assert.Equal(2 * runsAfterFirst, mlflow.Runs.Count);
        Assert.Equal(2 * versionsAfterFirst, mlflow.Models.Values.Sum(m => m.Versions.Count));
        Assert.All(mlflow.Models.Values.SelectMany(m => m.Versions), v => Assert.EndsWith($"/{v.RunId}/artifacts/model", v.Source));
        Report.Print(output, $"re-run of one execution name: {packages.Count} model package, {mlflow.Runs.Count} MLflow runs after both runs ({runsAfterFirst} after the first), {mlflow.Models.Values.Sum(m => m.Versions.Count)} model versions");
    }

    [Fact]
    public async Task A_retried_call_whose_first_answer_was_lost_does_not_duplicate_the_package_or_the_mlflow_runs()
    {
        await using var mlflow = await FakeMlflowServer.StartAsync();
        var lost = new Dictionary<string, string>
        {
            ["RegisterModelPackage"] = "SageMaker.ThrottlingException",
            ["LogTraining"] = "Lambda.ServiceException",
            ["LogPromotion"] = "Lambda.ServiceException",
        };
        var result = await LocalRuns.Workflow(t => new LostResponses(t, lost)).RunAsync(
            new LocalRunOptions(_root, null, Promoting(), mlflow.BaseUri.ToString(), "lost-responses", LocalRuns.SmallSample));

        Assert.Equal("promoted", (string?)result.Execution.Output?["outcome"]);
        foreach (var state in lost.Keys)
            Assert.Contains(result.Execution.History, e => e.Type == "StateRetried" && e.StateName == state);
        var registry = new LocalModelRegistry(new LocalJobStore(Path.Combine(_root, "sagemaker")), new LocalAwsIdentity(LocalLayout.Region, LocalLayout.Account));
        Assert.Single(registry.ListModelPackages(new JsonObject { ["ModelPackageGroupName"] = LocalDefinition.SampleModelPackageGroup })["ModelPackageSummaryList"]!.AsArray());
        // One parent run and one child per training job (two), however often the logger ran.
        Assert.Equal(3, mlflow.Runs.Count);
        Assert.Single(mlflow.Models.Values.SelectMany(m => m.Versions));
        Report.Print(output, $"lost responses: {lost.Count} states retried after a successful call; 1 model package, {mlflow.Runs.Count} MLflow runs, 1 model version");
    }

    public static TheoryData<string> Credentials() => new("basic", "bearer");

    [Theory]
    [MemberData(nameof(Credentials))]
    public async Task Configured_mlflow_secrets_never_appear_in_logs_history_or_notifications(string scheme)
    {
        const string password = "pw-7Hq2-SECRET-not-for-logs", token = "tok-9Zx4-SECRET-not-for-logs";
        var variables = scheme == "basic"
            ? new Dictionary<string, string?> { [MlflowConnection.UsernameVariable] = "ml-bot", [MlflowConnection.PasswordVariable] = password }
            : new Dictionary<string, string?> { [MlflowConnection.TokenVariable] = token };
        await using var mlflow = await FakeMlflowServer.StartAsync();
        // With bearer, one refused request with MLflow's error JSON: the failure path must not echo credentials either.
        if (scheme == "bearer") mlflow.FailNext(401, "application/json", """{"error_code":"UNAUTHENTICATED","message":"You are not authenticated."}""");
        using var environment = new EnvironmentVariables(variables);

        var result = await LocalRuns.Workflow().RunAsync(
            new LocalRunOptions(_root, null, Promoting(), mlflow.BaseUri.ToString(), "secrets-" + scheme, LocalRuns.SmallSample));

        Assert.True(result.Execution.Succeeded, result.Execution.Cause);
        Assert.NotEmpty(mlflow.Requests);
        var expectedHeader = scheme == "basic"
            ? "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("ml-bot:" + password))
            : "Bearer " + token;
        Assert.All(mlflow.Requests, r => Assert.Equal(expectedHeader, r.Headers.GetValueOrDefault("Authorization")));

        var secret = scheme == "basic" ? password : token;
        var forms = new[] { secret, expectedHeader.Split(' ')[1] }; // the value itself and its header encoding
        var scanned = 0;
        foreach (var file in new[] { "logs.jsonl", "history.jsonl", "notifications.jsonl", "summary.json", "report.md", "inputs.json" })
        {
            var text = File.ReadAllText(Path.Combine(result.RunFolder, file));
            scanned += text.Length;
            foreach (var form in forms) Assert.DoesNotContain(form, text);
        }
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_root, "s3"), "*", SearchOption.AllDirectories).Where(f => f.EndsWith(".json", StringComparison.Ordinal)))
        {
            var text = File.ReadAllText(file);
            scanned += text.Length;
            foreach (var form in forms) Assert.DoesNotContain(form, text);
        }
        Report.Print(output, $"secrets ({scheme}): {mlflow.Requests.Count} authenticated MLflow requests; {scanned:N0} characters of logs, history, notifications and stage outputs scanned; 0 secret occurrences");
    }
}

/// <summary>Tests that set process environment variables run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "process environment";
}

/// <summary>Sets environment variables for the lifetime of the object and restores the previous values.</summary>
public sealed class EnvironmentVariables : IDisposable
{
    private readonly Dictionary<string, string?> _previous = new();

    public EnvironmentVariables(IReadOnlyDictionary<string, string?> values)
    {
        foreach (var (name, value) in values)
        {
            _previous[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    public void Dispose()
    {
        foreach (var (name, value) in _previous) Environment.SetEnvironmentVariable(name, value);
    }
}
