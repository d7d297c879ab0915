using System.Globalization;
using System.IO.Compression;
using System.Text;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.SageMaker;
using MlOps.Serverless.Core.Storage;

namespace MlOps.Serverless.Testing;

/// <summary>Generated regression data (y = f(x) + noise) written as SageMaker XGBoost CSV channels.</summary>
public static class TestData
{
    public const int Features = 4;

    public static double Target(double[] x) => 30 * x[0] + 20 * Math.Sin(3 * x[1]) + 10 * x[2] * x[3];

    /// <summary>Rows of (label, features...), deterministic per seed.</summary>
    public static List<(double Label, double[] X)> Rows(int count, int seed, double noise = 1.0)
    {
        var random = new Random(seed);
        var rows = new List<(double, double[])>(count);
        for (var i = 0; i < count; i++)
        {
            var x = Enumerable.Range(0, Features).Select(_ => random.NextDouble() * 2).ToArray();
            rows.Add((Target(x) + noise * (random.NextDouble() - 0.5), x));
        }
        return rows;
    }

    public static string Csv(IEnumerable<(double Label, double[] X)> rows, bool withLabel = true, Func<int, string>? recordId = null)
    {
        var text = new StringBuilder();
        var i = 0;
        foreach (var (label, x) in rows)
        {
            var first = recordId is not null ? recordId(i) : withLabel ? F(label) : null;
            var fields = x.Select(F);
            text.Append(string.Join(',', first is null ? fields : fields.Prepend(first))).Append('\n');
            i++;
        }
        return text.ToString();
    }

    public static async Task PutAsync(IObjectStore store, string uri, string text, bool gzip)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (gzip)
        {
            var buffer = new MemoryStream();
            await using (var z = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true)) z.Write(bytes);
            bytes = buffer.ToArray();
        }
        await store.PutAsync(S3Uri.Parse(uri), new MemoryStream(bytes), "text/csv");
    }

    public static async Task<string> ReadAsync(IObjectStore store, string uri)
    {
        await using var stream = await store.OpenReadAsync(S3Uri.Parse(uri)) ?? throw new FileNotFoundException(uri);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }

    public static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public static RunRequest Run(GateSettings? gate = null, string runId = "run-1")
    {
        var config = PipelineConfiguration.Defaults with { Gate = gate ?? new GateSettings() };
        return new(runId, $"arn:aws:states:local:000000000000:execution:mlops-retraining:{runId}", TriggerKind.Manual, DateTimeOffset.UnixEpoch,
            new DataLocation("raw", "incoming/b1/", "b1", [], "fingerprint-abc"), config,
            OutputLocations.For("work", "artifacts", runId), SageMakerParameters.From(config, "local", runId));
    }
}
