using System.Globalization;
using System.IO.Compression;
using MlOps.Serverless.Core.Storage;

namespace MlOps.Serverless.Local.Reporting;

/// <summary>A test-labels or predictions file that cannot be read as the data catalog describes it.</summary>
public sealed class UnreadableForecastData(string message) : Exception(message);

/// <summary>One row of the <c>test_labels</c> table (see split_test_labels.sql).</summary>
public sealed record TestLabel(string RecordId, double WeeklySales, double Weight, double Naive, double Scale, int Store, int Dept, DateOnly SaleDate);

/// <summary>
/// Reads a run's test labels and batch-transform predictions back from storage and joins them into per-series
/// dollar forecasts, the way evaluation.sql scores them.
/// </summary>
public static class ForecastSeriesReader
{
    /// <summary>Every series in the test weeks; empty when either prefix holds no files.</summary>
    public static async Task<IReadOnlyList<ForecastSeries>> ReadAsync(IObjectStore store, string testLabelsUri, string predictionsUri,
        CancellationToken cancellationToken = default)
    {
        var labels = new List<TestLabel>();
        await ForEachLineAsync(store, testLabelsUri, _ => true, (line, where) => labels.Add(ParseLabel(line, where)), cancellationToken);
        var predictions = new Dictionary<string, double>(StringComparer.Ordinal);
        // Only *.out files are transform output; anything else under the prefix (e.g. a manifest) is not.
        await ForEachLineAsync(store, predictionsUri, key => key.EndsWith(".out", StringComparison.Ordinal), (line, where) =>
        {
            var (recordId, prediction) = ParsePrediction(line, where);
            predictions[recordId] = prediction;
        }, cancellationToken);
        return Join(labels, predictions);
    }

    /// <summary>
    /// Joins labels to predictions on record_id. The model predicts Weekly_Sales / scale, so the dollar forecast
    /// is prediction × scale, as in evaluation.sql. A label without a prediction keeps a NaN forecast.
    /// </summary>
    public static IReadOnlyList<ForecastSeries> Join(IEnumerable<TestLabel> labels, IReadOnlyDictionary<string, double> predictions) =>
        labels
            .GroupBy(l => (l.Store, l.Dept))
            .OrderBy(g => g.Key.Store).ThenBy(g => g.Key.Dept)
            .Select(g => new ForecastSeries(g.Key.Store, g.Key.Dept, g
                .OrderBy(l => l.SaleDate)
                .Select(l => new ForecastPoint(l.SaleDate, l.WeeklySales,
                    predictions.TryGetValue(l.RecordId, out var p) ? p * l.Scale : double.NaN, l.Naive, l.Weight))
                .ToList()))
            .ToList();

    /// <summary>
    /// The <paramref name="count"/> series with the largest total actual sales in the test weeks: they carry the
    /// most dollars of the error, so they are the ones worth looking at. Ties go to the lower store, then dept.
    /// </summary>
    public static IReadOnlyList<ForecastSeries> Largest(IEnumerable<ForecastSeries> series, int count) =>
        series.OrderByDescending(s => s.TotalActual).ThenBy(s => s.Store).ThenBy(s => s.Dept).Take(count).ToList();

    public static TestLabel ParseLabel(string line, string where)
    {
        var f = Fields(line, 8, where);
        return new TestLabel(f[0], Number(f[1], "weekly_sales", where), Number(f[2], "weight", where), Number(f[3], "naive", where),
            Number(f[4], "scale", where), (int)Number(f[5], "store", where), (int)Number(f[6], "dept", where),
            DateOnly.TryParseExact(f[7], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)
                ? date : throw new UnreadableForecastData($"{where}: sale_date '{f[7]}' is not a yyyy-MM-dd date."));
    }

    public static (string RecordId, double Prediction) ParsePrediction(string line, string where)
    {
        var f = Fields(line, 2, where);
        return (f[0], Number(f[1], "prediction", where));
    }

    private static string[] Fields(string line, int expected, string where)
    {
        var fields = line.Split(',');
        return fields.Length == expected ? fields
            : throw new UnreadableForecastData($"{where}: {fields.Length} fields, expected {expected}.");
    }

    private static double Number(string field, string column, string where) =>
        double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value : throw new UnreadableForecastData($"{where}: {column} '{field}' is not a number.");

    /// <summary>Every non-empty line of every object under the prefix, gzip or plain whatever the name says.</summary>
    internal static async Task ForEachLineAsync(IObjectStore store, string prefixUri, Func<string, bool> include,
        Action<string, string> onLine, CancellationToken cancellationToken)
    {
        var prefix = S3Uri.Parse(prefixUri);
        foreach (var item in await store.ListAsync(prefix.Bucket, prefix.Key, cancellationToken))
        {
            if (!include(item.Key)) continue;
            var location = new S3Uri(prefix.Bucket, item.Key);
            await using var stream = await store.OpenReadAsync(location, cancellationToken)
                ?? throw new UnreadableForecastData($"{location} was listed but is gone.");
            using var reader = new StreamReader(await DecompressedAsync(stream, cancellationToken));
            var number = 0;
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                number++;
                if (line.Length > 0) onLine(line, $"{location} line {number}");
            }
        }
    }

    /// <summary>Gzip is recognised by its magic bytes (1f 8b), not by the file name: split files may be either.</summary>
    private static async Task<Stream> DecompressedAsync(Stream stream, CancellationToken cancellationToken)
    {
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            await stream.CopyToAsync(copy, cancellationToken);
            copy.Position = 0;
            stream = copy;
        }
        var head = new byte[2];
        var read = await stream.ReadAtLeastAsync(head, 2, throwOnEndOfStream: false, cancellationToken);
        stream.Position = 0;
        return read == 2 && head[0] == 0x1f && head[1] == 0x8b ? new GZipStream(stream, CompressionMode.Decompress) : stream;
    }
}
