using System.IO.Compression;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Local.Athena;

namespace MlOps.Serverless.Data.Tests;

/// <summary>The engine keeps a Parquet UNLOAD's rows as a table for the queries that read the file back, and runs
/// statements concurrently; neither may change what a query sees compared with reading the files.</summary>
public class DuckDbAthenaEngineTests : IDisposable
{
    private static readonly TableDefinition Numbers = new(
        "numbers", [new ColumnDefinition("n", "int"), new ColumnDefinition("x", "double")],
        BucketRole.Work, "numbers/${run_id}/", TableFormat.Parquet, DataCatalog.RunKey, "test table");

    private readonly string _root = Path.Combine(Path.GetTempPath(), "mlops-engine-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly DuckDbAthenaEngine _engine;

    public DuckDbAthenaEngineTests() => _engine = new DuckDbAthenaEngine(_root, new LocalBuckets("raw", "work"), [Numbers]);

    public void Dispose()
    {
        _engine.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private string Sum(string runId) =>
        _engine.Run($"SELECT CAST(count(*) AS varchar) || '/' || CAST(sum(n) AS varchar) AS s FROM numbers WHERE run_id = '{runId}'").Rows[0][0]!;

    private void Unload(string runId, string query) =>
        _engine.Run($"UNLOAD ({query}) TO 's3://work/numbers/{runId}/' WITH (format = 'PARQUET')");

    [Fact]
    public void Reading_back_an_unloaded_parquet_uses_the_kept_table_while_the_file_is_unchanged()
    {
        Unload("r1", "SELECT CAST(i AS integer) AS n, i / 2 AS x FROM range(1, 101) t(i)");

        Assert.Equal("100/5050", Sum("r1"));
        var plan = _engine.Profile("SELECT sum(n) FROM numbers WHERE run_id = 'r1'");
        Assert.DoesNotContain("READ_PARQUET", plan, StringComparison.OrdinalIgnoreCase);
        Assert.True(File.Exists(Path.Combine(_root, "work", "numbers", "r1", "r1.parquet")));
    }

    [Fact]
    public void A_replaced_or_added_file_is_read_from_disk_as_athena_would()
    {
        Unload("r1", "SELECT CAST(i AS integer) AS n, 0.5 AS x FROM range(1, 11) t(i)");
        Unload("other", "SELECT 7 AS n, 1.0 AS x");
        var file = Path.Combine(_root, "work", "numbers", "r1", "r1.parquet");

        // Another writer replaces the file (same name), then adds a second one under the prefix.
        var replacement = Path.Combine(_root, "work", "numbers", "other", "other.parquet");
        File.Copy(replacement, file, overwrite: true);
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(1));
        Assert.Equal("1/7", Sum("r1"));

        File.Copy(replacement, Path.Combine(_root, "work", "numbers", "r1", "more.parquet"));
        Assert.Equal("2/14", Sum("r1"));
        Assert.Contains("READ_PARQUET", _engine.Profile("SELECT sum(n) FROM numbers WHERE run_id = 'r1'"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Only_the_newest_unload_is_kept_and_older_files_are_still_read_from_disk()
    {
        Unload("r1", "SELECT CAST(i AS integer) AS n, 0.5 AS x FROM range(1, 11) t(i)");
        Unload("r2", "SELECT CAST(i AS integer) AS n, 0.5 AS x FROM range(1, 5) t(i)");

        Assert.Equal("10/55", Sum("r1"));
        Assert.Equal("4/10", Sum("r2"));
        Assert.Contains("READ_PARQUET", _engine.Profile("SELECT sum(n) FROM numbers WHERE run_id = 'r1'"), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("READ_PARQUET", _engine.Profile("SELECT sum(n) FROM numbers WHERE run_id = 'r2'"), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Concurrent_text_unloads_each_write_their_complete_file()
    {
        Unload("r1", "SELECT CAST(i AS integer) AS n, i / 4 AS x FROM range(0, 20000) t(i)");

        await Task.WhenAll(Enumerable.Range(0, 5).Select(k => Task.Run(() => _engine.Run(
            $"UNLOAD (SELECT n, x FROM numbers WHERE run_id = 'r1' AND n % 5 = {k}) TO 's3://work/split/{k}/' WITH (format = 'TEXTFILE', field_delimiter = ',')"))));

        for (var k = 0; k < 5; k++)
        {
            var folder = Path.Combine(_root, "work", "split", k.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var file = Assert.Single(Directory.GetFiles(folder));
            Assert.EndsWith(".csv.gz", file);
            using var reader = new StreamReader(new GZipStream(File.OpenRead(file), CompressionMode.Decompress));
            var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(4000, lines.Length);
            Assert.All(lines, line => Assert.Equal(k, int.Parse(line.Split(',')[0], System.Globalization.CultureInfo.InvariantCulture) % 5));
        }
    }
}
