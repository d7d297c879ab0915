using System.IO.Compression;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Local.Athena;

namespace MlOps.Serverless.Local.Tests.Athena;

/// <summary>The engine runs statements concurrently (the state machine's Parallel split branches), each on its own
/// connection to the one database.</summary>
public sealed class DuckDbAthenaEngineTests : IDisposable
{
    private static readonly TableDefinition Numbers = new(
        "numbers", [new ColumnDefinition("n", "int"), new ColumnDefinition("x", "double")],
        BucketRole.Work, "numbers/${run_id}/", TableFormat.Parquet, [DataCatalog.RunKey], "test table");

    private readonly string _root = Path.Combine(Path.GetTempPath(), "mlops-engine-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly DuckDbAthenaEngine _engine;

    public DuckDbAthenaEngineTests() => _engine = new DuckDbAthenaEngine(_root, new LocalBuckets("raw", "work"), [Numbers]);

    public void Dispose()
    {
        _engine.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private void Unload(string runId, string query) =>
        _engine.Run($"UNLOAD ({query}) TO 's3://work/numbers/{runId}/' WITH (format = 'PARQUET')");

    [Fact]
    public void A_run_written_before_a_column_was_added_reads_null_for_it_and_breaks_no_other_query()
    {
        // An earlier version's run: no column x, a column since dropped, and n as bigint.
        Unload("r0-old", "SELECT CAST(7 AS bigint) AS n, 'gone' AS dropped_since");
        Unload("r1", "SELECT CAST(i AS integer) AS n, i / 4 AS x FROM range(0, 8) t(i)");

        var current = _engine.Run("SELECT sum(x) AS total FROM numbers WHERE run_id = 'r1'");
        var old = _engine.Run("SELECT n, x FROM numbers WHERE run_id = 'r0-old'");

        Assert.Equal("7", Assert.Single(current.Rows)[0]);
        Assert.Equal(new string?[] { "7", null }, Assert.Single(old.Rows));
        Assert.Equal([("n", "integer"), ("x", "double")], old.Columns);
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

    private static readonly TableDefinition Attempts = new(
        "attempts", [new ColumnDefinition("n", "int")],
        BucketRole.Work, "attempts/${run_id}/r${attempt}/", TableFormat.Parquet, [DataCatalog.RunKey, DataCatalog.AttemptKey], "test table");

    [Fact]
    public void A_table_with_an_attempt_key_reads_only_the_attempt_its_query_names()
    {
        using var engine = new DuckDbAthenaEngine(_root, new LocalBuckets("raw", "work"), [Attempts]);
        engine.Run("UNLOAD (SELECT 1 AS n) TO 's3://work/attempts/run-a/r0/' WITH (format = 'PARQUET')");
        engine.Run("UNLOAD (SELECT 2 AS n) TO 's3://work/attempts/run-a/r1/' WITH (format = 'PARQUET')");
        engine.Run("UNLOAD (SELECT 3 AS n) TO 's3://work/attempts/run-b/r1/' WITH (format = 'PARQUET')");
        Directory.CreateDirectory(Path.Combine(_root, "work", "attempts", "run-a", "other"));

        var rows = engine.Run("SELECT n, run_id, attempt FROM attempts WHERE run_id = 'run-a' AND attempt = '1'").Rows;

        Assert.Equal(new string?[] { "2", "run-a", "1" }, Assert.Single(rows));
        Assert.Equal(3, engine.Run("SELECT * FROM attempts").Rows.Count);
    }

    [Fact]
    public void A_failed_unload_leaves_what_it_wrote_and_its_prefix_then_refuses_the_same_unload()
    {
        // Athena's UNLOAD: "In the case of a failure, Athena does not attempt to delete orphaned data."
        const string Failing = "UNLOAD (SELECT CASE WHEN p = 1 THEN CAST('not a number' AS INTEGER) ELSE 7 END AS v, p FROM range(0, 2) t(p)) " +
                               "TO 's3://work/orphans/' WITH (format = 'TEXTFILE', field_delimiter = ',', partitioned_by = ARRAY['p'])";

        Assert.Throws<LocalQueryFailed>(() => _engine.Run(Failing));

        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "work", "orphans")));
        var again = Assert.Throws<LocalQueryFailed>(() => _engine.Run(Failing));
        Assert.Equal("HIVE_PATH_ALREADY_EXISTS", again.ErrorType);
    }
}
