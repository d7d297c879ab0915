using DuckDB.NET.Data;
using MlOps.Serverless.Local.Athena;

namespace MlOps.Serverless.Local.Tests.Athena;

public sealed class DuckDbCsvWriterTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "mlops-csv-writer-" + Guid.NewGuid().ToString("N")[..10]);
    private readonly DuckDBConnection _duckDb = new("DataSource=:memory:");

    public DuckDbCsvWriterTests()
    {
        Directory.CreateDirectory(_folder);
        _duckDb.Open();
    }

    public void Dispose()
    {
        _duckDb.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private void Execute(string sql)
    {
        using var command = _duckDb.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>DuckDB's own COPY output and the writer's output for the same query.</summary>
    private (byte[] DuckDb, byte[] Writer) BothWays(string query)
    {
        var copied = Path.Combine(_folder, "copy.csv");
        Execute($"COPY ({query}) TO '{copied}' (FORMAT csv, HEADER false)");
        using var command = _duckDb.CreateCommand();
        command.CommandText = query;
        using var reader = command.ExecuteReader();
        using var written = new MemoryStream();
        new DuckDbCsvWriter().Write(reader, written);
        return (File.ReadAllBytes(copied), written.ToArray());
    }

    [Fact]
    public void Doubles_are_written_as_duckdbs_copy_writes_them_across_magnitudes_and_rounding()
    {
        // Random magnitudes 1e-12..1e20 with full precision, the same rounded to 0..9 decimals (the features'
        // round(x, 4) / round(x, 5), prices, CPI), integers as doubles, and the edges of the fixed/scientific layout.
        Execute("SELECT setseed(0.42)");
        Execute("""
            CREATE TABLE v AS
            SELECT i, x, round(x, (i % 10)::INTEGER) AS r, round(x) AS whole, round(x * 1e-6, 5) AS small
            FROM (SELECT i, (random() - 0.5) * pow(10, floor(random() * 32) - 12) AS x FROM range(20000) t(i))
            """);
        Execute("""
            INSERT INTO v VALUES
              (-1, 0.0001, -0.0001, 1e-4 - 1e-20, 1e15), (-2, 0.00009999, 1e-05, 2.5e-05, 1e16), (-3, 999999.999999999, 1e6, 999999.9999999999, -1e15),
              (-4, 123456.123456789, -999.0, 215.1544822, 9999999999999998.0), (-5, 'nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE, -0.0),
              (-6, 5e-324, 1.7976931348623157e308, 0.1 + 0.2, 1e22), (-7, 0.3, 100.0, 12345678.9, 0.5)
            """);

        var (duckDb, writer) = BothWays("SELECT x, r, whole, small FROM v ORDER BY i");

        Assert.Equal(System.Text.Encoding.ASCII.GetString(duckDb), System.Text.Encoding.ASCII.GetString(writer));
    }

    [Fact]
    public void Integers_strings_dates_booleans_and_nulls_are_written_as_duckdbs_copy_writes_them()
    {
        var (duckDb, writer) = BothWays("""
            SELECT * FROM (VALUES
              (1, 2::BIGINT, 3::SMALLINT, 4::TINYINT, 'plain', DATE '2010-02-05', true, 1.5::DOUBLE),
              (-2147483648, (-9223372036854775807 - 1)::BIGINT, NULL, NULL, '', DATE '2012-12-31', false, NULL),
              (NULL, NULL, -3::SMALLINT, -4::TINYINT, 'a,b', NULL, NULL, -0.0),
              (0, 0::BIGINT, 0::SMALLINT, 0::TINYINT, 'say "hi"', DATE '1999-01-01', NULL, 0.0),
              (7, 7::BIGINT, 7::SMALLINT, 7::TINYINT, 'two' || chr(10) || 'lines', DATE '2020-02-29', true, 7.0),
              (8, 8::BIGINT, 8::SMALLINT, 8::TINYINT, 'cr' || chr(13), DATE '2020-03-01', false, 8.25),
              (9, 9::BIGINT, 9::SMALLINT, 9::TINYINT, 'größe 1_1_2010-02-05', DATE '2010-02-12', true, 9.5),
              (10, 10::BIGINT, 10::SMALLINT, 10::TINYINT, NULL, DATE '2010-02-19', true, 10.0)
            ) t(a, b, c, d, e, f, g, h)
            """);

        Assert.Equal(System.Text.Encoding.UTF8.GetString(duckDb), System.Text.Encoding.UTF8.GetString(writer));
    }

    [Fact]
    public void Values_longer_than_the_writers_buffer_are_written_whole()
    {
        var (duckDb, writer) = BothWays("""
            SELECT i, repeat('ab"c,', CAST(i * 10000 AS INTEGER)) AS s, repeat('x', CAST(i * 30000 AS INTEGER)) AS t
            FROM range(0, 6) r(i) ORDER BY i
            """);

        Assert.Equal(duckDb.Length, writer.Length);
        Assert.Equal(duckDb, writer);
    }

    [Fact]
    public void A_result_with_a_type_it_does_not_format_is_left_to_duckdb()
    {
        using var command = _duckDb.CreateCommand();
        command.CommandText = "SELECT 1.5::FLOAT AS f, 2 AS i";
        using var reader = command.ExecuteReader();

        Assert.False(DuckDbCsvWriter.Supports(reader));
        Assert.Throws<NotSupportedException>(() => new DuckDbCsvWriter().Write(reader, Stream.Null));
    }

    [Theory]
    [InlineData(-999.0, "-999.0")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1e-05")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1e15, "1000000000000000.0")]
    [InlineData(215.1544822, "215.1544822")]
    [InlineData(-0.0, "-0.0")]
    [InlineData(double.NaN, "nan")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void Formats_doubles_as_duckdb_casts_them_to_text(double value, string text) =>
        Assert.Equal(text, DuckDbCsvWriter.FormatDouble(value));
}
