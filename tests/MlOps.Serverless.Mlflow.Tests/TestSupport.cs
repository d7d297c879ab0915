using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.SageMaker;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Mlflow.Authentication;
using MlOps.Serverless.Mlflow.Client;
using MlOps.Serverless.Mlflow.Logging;

namespace MlOps.Serverless.Mlflow.Tests;

/// <summary>A clock whose time only moves when the client "waits": retries are then instant and deterministic.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks;
    public List<TimeSpan> Waits { get; } = new();
    public override DateTimeOffset GetUtcNow() => start + TimeSpan.FromTicks(Interlocked.Read(ref _ticks));
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public Task Delay(TimeSpan delay, CancellationToken ct)
    {
        lock (Waits) Waits.Add(delay);
        Interlocked.Add(ref _ticks, delay.Ticks);
        return Task.CompletedTask;
    }
}

public static class Samples
{
    public static MlflowClient Client(Uri baseUri, ManualClock? clock = null, MlflowRetryPolicy? retry = null, MlflowLimits? limits = null,
        IMlflowAuthenticator? auth = null, HttpMessageHandler? handler = null)
    {
        clock ??= new ManualClock(DateTimeOffset.UnixEpoch);
        return new MlflowClient(new MlflowClientOptions
        {
            BaseUri = baseUri,
            Clock = clock,
            Delay = clock.Delay,
            Jitter = () => 0.5,
            Retry = retry ?? new MlflowRetryPolicy { AttemptTimeout = TimeSpan.FromSeconds(10) },
            Limits = limits ?? MlflowLimits.Default,
            Authenticator = auth ?? NoAuthentication.Instance,
        }, handler);
    }

    public static RunRequest Run(string runId = "exec-2026-11-27-a", string experiment = "retail-weekly-sales")
    {
        var config = PipelineConfiguration.Defaults with { Mlflow = new MlflowSettings { ExperimentName = experiment } };
        return new RunRequest(
        runId,
        $"arn:aws:states:us-east-1:123456789012:execution:retraining:{runId}",
        TriggerKind.Manual,
        new DateTimeOffset(2026, 11, 27, 6, 0, 0, TimeSpan.Zero),
        new DataLocation("raw", "incoming/2026-11-27/", "2026-11-27",
            [
                new StoredObject("incoming/2026-11-27/sales/sales.csv", 100, "\"aaa111\"", null),
                new StoredObject("incoming/2026-11-27/features/features.csv", 50, "\"bbb222\"", "v2"),
                new StoredObject("incoming/2026-11-27/stores/stores.csv", 10, "\"ccc333\"", null),
            ],
            "f1ngerpr1nt"),
        config,
        OutputLocations.For("work", "artifacts", runId),
        SageMakerParameters.From(config, "us-east-1", runId));
    }

    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 6, 10, 0, TimeSpan.Zero);

    public static TrainingJobSummary Job(int i, double rmse, string status = "Completed") => new(
        $"tune-a-{i:000}-abcd",
        $"arn:aws:sagemaker:us-east-1:123456789012:training-job/tune-a-{i:000}-abcd",
        status,
        new Dictionary<string, string> { ["eta"] = (0.1 * i).ToString(System.Globalization.CultureInfo.InvariantCulture), ["max_depth"] = (4 + i).ToString(), ["num_round"] = "100" },
        new ObjectiveMetricValue("validation:rmse", rmse),
        T0.AddMinutes(i), T0.AddMinutes(i + 5));

    public static TrainingResult Tuning(int jobs = 3, string? curvesUri = null)
    {
        var list = Enumerable.Range(1, jobs).Select(i => Job(i, 1000 - i)).ToList();
        var best = list[^1];
        return new TrainingResult(
            new TuningJobDescription("tune-a", "arn:aws:sagemaker:us-east-1:123456789012:hyper-parameter-tuning-job/tune-a", "Completed",
                new TuningJobConfig("Bayesian", new TuningObjective("Minimize", "validation:rmse"), new TuningResourceLimits(jobs, 2)),
                best, T0, T0.AddMinutes(jobs + 10)),
            list,
            new TrainingJobDescription(best.TrainingJobName, best.TrainingJobArn, "Completed",
                new Dictionary<string, string>(best.TunedHyperParameters!) { ["objective"] = "reg:squarederror", ["_tuning_objective_metric"] = "validation:rmse" },
                [new FinalMetric("validation:rmse", best.FinalHyperParameterTuningJobObjectiveMetric!.Value), new FinalMetric("train:rmse", 900)],
                new ModelArtifacts($"s3://artifacts/runs/exec/models/{best.TrainingJobName}/output/model.tar.gz"), best.TrainingStartTime, best.TrainingEndTime),
            curvesUri);
    }

    public static MlflowLoggerInput Training(RunRequest? run = null, int jobs = 3, string? curvesUri = null) =>
        new(MlflowLoggerAction.Training, run ?? Run(), Tuning(jobs, curvesUri));

    /// <summary>A SageMaker-style <c>model.tar.gz</c> holding <c>xgboost-model</c> with <paramref name="model"/> as its bytes.</summary>
    public static async Task PutModelAsync(IObjectStore store, string uri, string model = "binary xgboost model")
    {
        using var tarGz = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(tarGz, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        await using (var tar = new System.Formats.Tar.TarWriter(gzip))
        {
            var entry = new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "xgboost-model")
            {
                DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(model)),
            };
            await tar.WriteEntryAsync(entry);
        }
        tarGz.Position = 0;
        await store.PutAsync(S3Uri.Parse(uri), tarGz, "application/gzip");
    }

    /// <summary>An address where nothing listens: the port of a listener that has been closed.</summary>
    public static Uri DeadEndpoint()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}
