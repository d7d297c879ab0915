using System.Globalization;
using System.Text.RegularExpressions;

namespace MlOps.Serverless.Local.Athena;

/// <summary>
/// The one rendering step between the Athena (Trino) dialect of the SQL files and DuckDB. Function differences are
/// covered by <see cref="Macros"/>; the only statement rewritten is Athena's
/// <c>UNLOAD (query) TO 's3://...' WITH (...)</c>, which becomes <c>COPY (query) TO '{local file}' (...)</c> with
/// one file per target prefix, named after the prefix's last segment (e.g. <c>.../train/train.csv.gz</c>).
/// </summary>
public static partial class TrinoToDuckDb
{
    /// <summary>DuckDB macros for the Trino functions the SQL files use that DuckDB lacks or spells differently.</summary>
    public static IReadOnlyList<string> Macros { get; } =
    [
        // Trino's date_parse uses MySQL format specifiers; %d %m %Y mean the same to DuckDB's strptime.
        "CREATE OR REPLACE MACRO date_parse(s, f) AS strptime(s, f)",
        "CREATE OR REPLACE MACRO array_join(a, sep) AS array_to_string(a, sep)",
        // Trino: slice(array, start, length); DuckDB: list_slice(list, begin, end) with an inclusive end.
        "CREATE OR REPLACE MACRO slice(a, start, len) AS list_slice(a, start, start + len - 1)",
    ];

    [GeneratedRegex(@"^\s*UNLOAD\s*\((?<query>.*)\)\s*TO\s*'(?<target>[^']+)'\s*WITH\s*\((?<props>[^()]*)\)\s*;?\s*$",
        RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex UnloadPattern();

    [GeneratedRegex(@"(?<key>\w+)\s*=\s*'(?<value>[^']*)'")]
    private static partial Regex PropertyPattern();

    /// <summary>Athena's <c>partitioned_by = ARRAY['column']</c> (one partition column is what the SQL files use).</summary>
    [GeneratedRegex(@"partitioned_by\s*=\s*ARRAY\s*\[\s*'(?<column>\w+)'\s*\]", RegexOptions.IgnoreCase)]
    private static partial Regex PartitionedByPattern();

    /// <summary>An UNLOAD statement's parts: the query, the S3 prefix and the WITH properties (lower-case keys).</summary>
    public sealed record Unload(string Query, string TargetUri, IReadOnlyDictionary<string, string> Properties)
    {
        public string Format => Properties.GetValueOrDefault("format", "PARQUET").ToUpperInvariant();
        /// <summary>The partition column: Athena writes one <c>{column}={value}/</c> folder per value, without the column in the files.</summary>
        public string? PartitionedBy => Properties.GetValueOrDefault("partitioned_by");
        public string Compression => Properties.GetValueOrDefault("compression", Format == "TEXTFILE" ? "gzip" : "snappy").ToLowerInvariant();

        /// <summary>The single local file COPY writes under the target prefix.</summary>
        public string FileName
        {
            get
            {
                var segment = TargetUri.TrimEnd('/').Split('/')[^1].Replace('-', '_');
                return Format switch
                {
                    "PARQUET" => segment + ".parquet",
                    "TEXTFILE" when Compression == "gzip" => segment + ".csv.gz",
                    "TEXTFILE" => segment + ".csv",
                    _ => throw new NotSupportedException($"UNLOAD format '{Format}' is not supported by the local engine (PARQUET, TEXTFILE)."),
                };
            }
        }

        public string CopyOptions => Format switch
        {
            "PARQUET" => "(FORMAT parquet)",
            _ => string.Create(CultureInfo.InvariantCulture,
                $"(FORMAT csv, HEADER false, DELIMITER '{Properties.GetValueOrDefault("field_delimiter", ",")}', COMPRESSION {(Compression == "gzip" ? "gzip" : "none")})"),
        };
    }

    public static Unload? ParseUnload(string sql)
    {
        var m = UnloadPattern().Match(sql);
        if (!m.Success) return null;
        var properties = PropertyPattern().Matches(m.Groups["props"].Value)
            .ToDictionary(p => p.Groups["key"].Value.ToLowerInvariant(), p => p.Groups["value"].Value);
        if (PartitionedByPattern().Match(m.Groups["props"].Value) is { Success: true } partitioned)
            properties["partitioned_by"] = partitioned.Groups["column"].Value;
        return new Unload(m.Groups["query"].Value, m.Groups["target"].Value, properties);
    }

    /// <summary>The COPY statement for an UNLOAD whose target prefix is the local folder <paramref name="targetFolder"/>.</summary>
    public static string CopyStatement(Unload unload, string targetFolder, string? fileName = null) =>
        $"COPY ({unload.Query}) TO '{Path.Combine(targetFolder, fileName ?? unload.FileName).Replace("'", "''")}' {unload.CopyOptions}";
}
