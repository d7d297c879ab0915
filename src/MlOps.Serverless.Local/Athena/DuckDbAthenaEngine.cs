using System.Data.Common;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Local.Athena;

/// <summary>Bucket names the catalog's roles resolve to (the same settings the CDK app deploys).</summary>
public sealed record LocalBuckets(string Raw, string Work)
{
    public string For(BucketRole role) => role == BucketRole.Raw ? Raw : Work;
}

/// <summary>A query's result: Athena type names and values as Athena's GetQueryResults renders them (strings, null = NULL).</summary>
public sealed record QueryResult(IReadOnlyList<(string Name, string Type)> Columns, IReadOnlyList<string?[]> Rows, string StatementType, long? WrittenRows);

/// <summary>The DuckDB engine failed a query; <see cref="Reason"/> says which query and what went wrong.</summary>
public sealed class LocalQueryFailed(string reason, string errorType) : Exception(reason)
{
    public string Reason { get; } = reason;
    public string ErrorType { get; } = errorType;
}

/// <summary>
/// Athena on one machine: an in-memory DuckDB whose views are the catalog's Glue tables, reading files laid out
/// exactly as in S3 (<c>{s3Root}/{bucket}/{key}</c>). Views are rebuilt before each query from the files present,
/// like partition projection: one UNION ALL branch per combination of projection values with those values as
/// constants, so a <c>WHERE run_id = '...' AND attempt = '...'</c> filter prunes the other branches. Raw CSV tables
/// are all strings, header skipped, and keep the CR that Athena's OpenCSVSerde leaves on the last field of CRLF files.
/// </summary>
public sealed partial class DuckDbAthenaEngine : IDisposable
{
    // Holds the catalog (macros, views); queries run on duplicates of it.
    private readonly DuckDBConnection _connection;
    private readonly IReadOnlyList<TableDefinition> _tables;
    private readonly Lock _catalog = new();

    /// <summary>DuckDB's memory cap: 6 GiB, or a third of the machine's memory where that is less.</summary>
    public static long MemoryLimitMb { get; } = Math.Max(384, Math.Min(6144, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 3 / 1048576));

    private readonly string _spill = Directory.CreateTempSubdirectory("mlops-duckdb-").FullName;

    public DuckDbAthenaEngine(string s3Root, LocalBuckets buckets, IReadOnlyList<TableDefinition>? tables = null)
    {
        S3Root = Path.GetFullPath(s3Root);
        Buckets = buckets;
        _tables = tables ?? DataCatalog.Tables;
        _connection = new DuckDBConnection("DataSource=:memory:");
        _connection.Open();
        // Athena guarantees no row order without ORDER BY either; dropping it lets DuckDB stream and write in parallel.
        Execute("SET preserve_insertion_order = false");
        // DuckDB's buffer pool defaults to 80 % of RAM, which local mode shares with XGBoost. 384 MB kept the real data
        // under 1 GiB, but 16 times the rows then spilled gigabytes of the features query's windows and joins to disk
        // and took 22 times as long; at 3 GiB the features query still spilled (100 s of CPU at 16x against 80 s
        // unspilled, 5.6 GiB peak). The cap is what the largest query needs at 16x, taken only as far as used.
        Execute($"SET memory_limit = '{MemoryLimitMb}MB'");
        // Spill files (beyond the cap) go to a folder of this engine's, not '.tmp' in the working directory.
        Execute($"SET temp_directory = '{_spill.Replace("'", "''", StringComparison.Ordinal)}'");
        foreach (var macro in TrinoToDuckDb.Macros) Execute(macro);
    }

    public string S3Root { get; }
    public LocalBuckets Buckets { get; }

    /// <summary>The local path of an <c>s3://bucket/key</c> URI.</summary>
    public string LocalPath(string s3Uri)
    {
        if (!s3Uri.StartsWith("s3://", StringComparison.Ordinal))
            throw new LocalQueryFailed($"'{s3Uri}' is not an s3:// location.", "INVALID_LOCATION");
        return Path.Combine(S3Root, s3Uri["s3://".Length..].Replace('/', Path.DirectorySeparatorChar));
    }

    /// <summary>
    /// Runs one Athena-dialect statement (SELECT or UNLOAD). Statements may run concurrently (the state machine's
    /// Parallel split branches): each gets its own connection to the one database; view refreshes are serialised.
    /// An UNLOAD's file appears under its final name only when complete (until then it is named '_…', which the
    /// views skip, as Athena/Hive skip such names).
    /// </summary>
    public QueryResult Run(string athenaSql)
    {
        using var connection = QueryConnection();
        var unload = TrinoToDuckDb.ParseUnload(athenaSql);
        if (unload is null) return Select(connection, athenaSql);

        var folder = LocalPath(unload.TargetUri);
        lock (_catalog)
        {
            if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
                throw new LocalQueryFailed(
                    $"HIVE_PATH_ALREADY_EXISTS: UNLOAD target {unload.TargetUri} is not empty; UNLOAD needs an empty prefix per run and stage.",
                    "HIVE_PATH_ALREADY_EXISTS");
            Directory.CreateDirectory(folder);
        }
        // A failed UNLOAD leaves what it wrote (Athena: "Orphaned data not deleted"), so its prefix is no longer empty:
        // the state machine redrives it into the next attempt's folder.
        var written = unload.PartitionedBy is { } column
            ? WritePartitions(connection, unload, folder, column)
            : WriteFile(connection, unload, folder);
        return new QueryResult([], [], "DML", written);
    }

    /// <summary>One file under the target prefix, visible under its final name only when complete.</summary>
    private static long WriteFile(DuckDBConnection connection, TrinoToDuckDb.Unload unload, string folder)
    {
        var partial = Path.Combine(folder, "_" + unload.FileName);
        var written = unload.Format == "TEXTFILE" && TryWriteCsv(connection, unload, partial) is { } rows
            ? rows
            : Execute(connection, TrinoToDuckDb.CopyStatement(unload, folder, Path.GetFileName(partial)));
        File.Move(partial, Path.Combine(folder, unload.FileName));
        return written;
    }

    /// <summary>
    /// <c>partitioned_by</c>: as Athena, one <c>{column}={value}/</c> folder per value of the partition column (the last
    /// column of the query), the files without that column.
    /// </summary>
    private static long WritePartitions(DuckDBConnection connection, TrinoToDuckDb.Unload unload, string folder, string column)
    {
        var values = Select(connection, $"SELECT DISTINCT \"{column}\" FROM ({unload.Query}) ORDER BY 1").Rows.Select(r => r[0]).ToList();
        long written = 0;
        foreach (var value in values)
        {
            var literal = value is null ? null : long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) ? value : $"'{value.Replace("'", "''")}'";
            var filter = literal is null ? $"\"{column}\" IS NULL" : $"\"{column}\" = {literal}";
            var partition = Directory.CreateDirectory(Path.Combine(folder, $"{column}={value ?? "__HIVE_DEFAULT_PARTITION__"}")).FullName;
            written += WriteFile(connection, unload with { Query = $"SELECT * EXCLUDE (\"{column}\") FROM ({unload.Query}) WHERE {filter}" }, partition);
        }
        return written;
    }

    /// <summary>
    /// Writes a TEXTFILE UNLOAD's rows with <see cref="DuckDbCsvWriter"/> (the same bytes DuckDB's COPY writes, a few
    /// times faster), gzip-compressed by .NET at the fastest level when asked (DuckDB's gzip writer was ~5× slower).
    /// Null when a column type is one the writer leaves to DuckDB.
    /// </summary>
    private static long? TryWriteCsv(DuckDBConnection connection, TrinoToDuckDb.Unload unload, string path)
    {
        var delimiter = unload.Properties.GetValueOrDefault("field_delimiter", ",");
        if (delimiter.Length != 1) return null;
        using var command = connection.CreateCommand();
        command.CommandText = unload.Query;
        using var reader = Translate(command.ExecuteReader);
        if (!DuckDbCsvWriter.Supports(reader)) return null;
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        using var target = unload.Compression == "gzip" ? new GZipStream(file, CompressionLevel.Fastest) : (Stream)file;
        return Translate(() => new DuckDbCsvWriter(delimiter[0]).Write(reader, target));
    }

    /// <summary>A connection of its own for one statement, with the catalog views refreshed from the files present now.</summary>
    private DuckDBConnection QueryConnection()
    {
        lock (_catalog)
        {
            RefreshViews();
            var connection = _connection.Duplicate();
            connection.Open();
            return connection;
        }
    }

    /// <summary>DuckDB's EXPLAIN ANALYZE of a statement (for an UNLOAD, of its query): where the time goes.</summary>
    public string Profile(string athenaSql)
    {
        using var connection = QueryConnection();
        var query = TrinoToDuckDb.ParseUnload(athenaSql)?.Query ?? athenaSql;
        var result = Select(connection, "EXPLAIN ANALYZE " + query);
        return string.Join("\n", result.Rows.Select(r => r[^1]));
    }

    private static QueryResult Select(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = Translate(command.ExecuteReader);
        var columns = Enumerable.Range(0, reader.FieldCount)
            .Select(i => (reader.GetName(i), AthenaType(reader.GetDataTypeName(i)))).ToList();
        var rows = new List<string?[]>();
        while (reader.Read())
        {
            var row = new string?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++) row[i] = reader.IsDBNull(i) ? null : Format(reader.GetValue(i));
            rows.Add(row);
        }
        return new QueryResult(columns, rows, "DML", null);
    }

    private long Execute(string sql) => Execute(_connection, sql);

    private static long Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Translate(command.ExecuteNonQuery);
    }

    private static T Translate<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (DbException e)
        {
            // DuckDB messages start with their category ("Binder Error: ...", "Conversion Error: ...").
            var firstLine = e.Message.Split('\n', 2)[0].Trim();
            var category = firstLine.Split(':', 2)[0].Trim();
            throw new LocalQueryFailed(firstLine, category.Length > 0 ? category.Replace(' ', '_').ToUpperInvariant() : "QUERY_FAILED");
        }
    }

    private static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        decimal m => m.ToString(CultureInfo.InvariantCulture),
        DateTime dt => dt.TimeOfDay == TimeSpan.Zero ? dt.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : dt.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
        DateOnly date => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string AthenaType(string duckType) => duckType.ToUpperInvariant() switch
    {
        "VARCHAR" or "STRING" => "varchar",
        "DOUBLE" => "double",
        "FLOAT" => "real",
        "BIGINT" or "HUGEINT" or "UBIGINT" => "bigint",
        "INTEGER" or "UINTEGER" => "integer",
        "SMALLINT" => "smallint",
        "TINYINT" => "tinyint",
        "BOOLEAN" => "boolean",
        "DATE" => "date",
        "TIMESTAMP" => "timestamp",
        var other when other.StartsWith("DECIMAL", StringComparison.Ordinal) => other.ToLowerInvariant(),
        var other => other.ToLowerInvariant(),
    };

    /// <summary>Re-creates every catalog view from the files present now.</summary>
    public void RefreshViews()
    {
        lock (_catalog)
            foreach (var table in _tables) Execute(ViewSql(table));
    }

    private string ViewSql(TableDefinition table)
    {
        var branches = new List<string>();
        foreach (var (values, files) in FilesByProjection(table))
        {
            if (table.Format == TableFormat.CsvStringsWithHeader)
            {
                // Group by line ending: the CRLF group gets the CR back on its last field.
                foreach (var group in files.GroupBy(IsCrlf))
                    branches.Add(Branch(table, values, group.ToList(), group.Key));
            }
            else
            {
                branches.Add(Branch(table, values, files, crlf: false));
            }
        }
        if (table.Format == TableFormat.Parquet && branches.Count > 0)
        {
            // Parquet is read by column name, as Athena does: a run written by an earlier version (a column added
            // or dropped since) reads NULL for what its file lacks instead of breaking the view for every query.
            var columns = table.Columns.Select(c => $"CAST({Quote(c.Name)} AS {DuckType(c.Type)}) AS {Quote(c.Name)}")
                .Concat(table.ProjectionKeys.Select(Quote));
            var byName = string.Join("\nUNION ALL BY NAME\n", branches.Prepend(EmptyBranch(table)));
            return $"CREATE OR REPLACE VIEW {Quote(table.Name)} AS\nSELECT {string.Join(", ", columns)} FROM (\n{byName}\n)";
        }
        var body = branches.Count > 0 ? string.Join("\nUNION ALL\n", branches) : EmptyBranch(table);
        return $"CREATE OR REPLACE VIEW {Quote(table.Name)} AS\n{body}";
    }

    private static string Branch(TableDefinition table, IReadOnlyList<string> projectionValues, IReadOnlyList<string> files, bool crlf)
    {
        var list = "[" + string.Join(", ", files.Select(Literal)) + "]";
        var projection = string.Join(", ", table.ProjectionKeys.Select((key, i) => $"{Literal(projectionValues[i])} AS {Quote(key)}"));
        var names = table.Columns.Select(c => c.Name).ToList();
        switch (table.Format)
        {
            case TableFormat.CsvStringsWithHeader:
                {
                    var columns = "{" + string.Join(", ", names.Select(n => $"{Literal(n)}: 'VARCHAR'")) + "}";
                    var select = names.Select((n, i) => i == names.Count - 1 && crlf
                        ? $"CASE WHEN {Quote(n)} IS NULL THEN NULL ELSE {Quote(n)} || chr(13) END AS {Quote(n)}"
                        : Quote(n));
                    return $"SELECT {string.Join(", ", select)}, {projection} FROM read_csv({list}, header = false, skip = 1, auto_detect = false, " +
                           $"columns = {columns}, delim = ',', quote = '\"', escape = '\\', new_line = '\\n', null_padding = true, strict_mode = false, ignore_errors = true, all_varchar = true)";
                }
            case TableFormat.Parquet:
                return $"SELECT *, {projection} FROM read_parquet({list})";
            default:
                {
                    var columns = "{" + string.Join(", ", table.Columns.Select(c => $"{Literal(c.Name)}: '{DuckType(c.Type)}'")) + "}";
                    return $"SELECT {string.Join(", ", names.Select(Quote))}, {projection} FROM read_csv({list}, header = false, auto_detect = false, " +
                           $"columns = {columns}, delim = ',', quote = '\"', nullstr = '\\N')";
                }
        }
    }

    private static string EmptyBranch(TableDefinition table) =>
        "SELECT " + string.Join(", ", table.Columns.Select(c => $"CAST(NULL AS {DuckType(c.Type)}) AS {Quote(c.Name)}")) +
        string.Concat(table.ProjectionKeys.Select(key => $", CAST(NULL AS VARCHAR) AS {Quote(key)}")) + " WHERE false";

    /// <summary>Files per combination of projection values: the folders matching the key template (one folder level per
    /// '/'-separated part; a part may hold a key inside other text, e.g. <c>r${attempt}</c>), non-recursive, skipping
    /// empty files and names starting with '_' or '.' (as Athena/Hive do).</summary>
    private IEnumerable<(IReadOnlyList<string> Values, IReadOnlyList<string> Files)> FilesByProjection(TableDefinition table)
    {
        var folders = new List<(string Folder, Dictionary<string, string> Values)> { (Path.Combine(S3Root, Buckets.For(table.Bucket)), []) };
        foreach (var part in table.KeyTemplate.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!ProjectionPlaceholder().IsMatch(part))
            {
                folders = folders.Select(f => (Folder: Path.Combine(f.Folder, part), f.Values)).Where(f => Directory.Exists(f.Folder)).ToList();
                continue;
            }
            // r${attempt} -> ^r(?<attempt>[^/]+)$
            var pattern = new Regex("^" + string.Concat(ProjectionPlaceholder().Split(part)
                .Select((text, i) => i % 2 == 0 ? Regex.Escape(text) : $"(?<{text}>[^/]+)")) + "$");
            folders = folders.SelectMany(f => Directory.EnumerateDirectories(f.Folder).Order(StringComparer.Ordinal)
                    .Select(dir => (Dir: dir, Match: pattern.Match(Path.GetFileName(dir))))
                    .Where(d => d.Match.Success)
                    .Select(d => (d.Dir, new Dictionary<string, string>(f.Values.Concat(
                        pattern.GetGroupNames().Where(n => !int.TryParse(n, out _)).Select(n => KeyValuePair.Create(n, d.Match.Groups[n].Value)))))))
                .ToList();
        }
        foreach (var (folder, values) in folders)
        {
            var files = Directory.EnumerateFiles(folder)
                .Where(f => Path.GetFileName(f) is var name && !name.StartsWith('_') && !name.StartsWith('.'))
                .Where(f => table.FileSuffix is null || f.EndsWith(table.FileSuffix, StringComparison.Ordinal))
                .Where(f => new FileInfo(f).Length > 0)
                .Order(StringComparer.Ordinal)
                .ToList();
            if (files.Count > 0) yield return (table.ProjectionKeys.Select(k => values[k]).ToList(), files);
        }
    }

    /// <summary>A <c>${key}</c> in a key template part; Split gives the key names at odd indices.</summary>
    [GeneratedRegex(@"\$\{([a-z_]+)\}")]
    private static partial Regex ProjectionPlaceholder();

    private static bool IsCrlf(string file)
    {
        using var stream = File.OpenRead(file);
        var buffer = new byte[64 * 1024];
        var read = stream.Read(buffer, 0, buffer.Length);
        var newline = Array.IndexOf(buffer, (byte)'\n', 0, read);
        return newline > 0 && buffer[newline - 1] == '\r';
    }

    private static string DuckType(string glueType) => glueType switch
    {
        "string" => "VARCHAR",
        "int" => "INTEGER",
        "bigint" => "BIGINT",
        "double" => "DOUBLE",
        "date" => "DATE",
        "boolean" => "BOOLEAN",
        _ => throw new NotSupportedException($"Glue type '{glueType}' has no DuckDB mapping."),
    };

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    private static string Literal(string value) => "'" + value.Replace("'", "''") + "'";

    public void Dispose()
    {
        _connection.Dispose();
        try { Directory.Delete(_spill, recursive: true); }
        catch (IOException) { } // a spill file still held: the OS temp folder is cleaned anyway
    }

    /// <summary>Writes a result as Athena does to its output location: CSV with a header, every value quoted.</summary>
    public static void WriteCsv(QueryResult result, TextWriter writer)
    {
        static string Field(string? v) => v is null ? "" : "\"" + v.Replace("\"", "\"\"") + "\"";
        writer.Write(string.Join(",", result.Columns.Select(c => Field(c.Name))));
        writer.Write('\n');
        var line = new StringBuilder();
        foreach (var row in result.Rows)
        {
            line.Clear();
            line.AppendJoin(',', row.Select(Field));
            writer.Write(line.Append('\n'));
        }
    }
}
