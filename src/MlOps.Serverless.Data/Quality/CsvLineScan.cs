using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Data.Quality;

/// <summary>Where a line is: its number in the file (the header is line 1) and its key (Store/Dept/Date), as a person finds it.</summary>
public sealed record CsvLineRef(long Line, string Key)
{
    public override string ToString() => $"line {Line.ToString(CultureInfo.InvariantCulture)} ({Key})";
}

/// <summary>One value of a column found on a line.</summary>
public sealed record CsvValueRef(string Value, CsvLineRef Where, bool LineMalformed);

/// <summary>What one pass over a file found: malformed lines by kind (at most <see cref="CsvLineScan.Listed"/> each, all counted) and where given values occur.</summary>
public sealed class CsvScanResult
{
    public List<CsvLineRef> StrayQuotes { get; } = [];
    public long StrayQuoteCount { get; set; }
    public List<(CsvLineRef Where, int Fields)> WrongFieldCounts { get; } = [];
    public long WrongFieldCountCount { get; set; }
    public List<(CsvLineRef Where, string Column, string Value)> ThousandsSeparators { get; } = [];
    public long ThousandsSeparatorCount { get; set; }
    /// <summary>Per column name: the lines where one of the sought values occurs (at most <see cref="CsvLineScan.Listed"/> on well-formed lines, all counted).</summary>
    public Dictionary<string, List<CsvValueRef>> Values { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, long> ValuesOnMalformedLines { get; } = new(StringComparer.Ordinal);
    /// <summary>The number of fields of the file's header line, which every line must have.</summary>
    public int ExpectedFields { get; set; }
}

/// <summary>
/// Reads an uploaded CSV line by line the way Athena's OpenCSVSerde does (each line on its own; separator ',', quote '"',
/// escape '\'), and names what that SerDe would silently get wrong: a line with an unclosed quote (the SerDe keeps only
/// the fields before it), a line with more or fewer fields than the header (extra fields are dropped, missing ones are
/// NULL) and, as the common cause of one field too many, a number written with a thousands separator. The quality SQL
/// sees only the SerDe's columns; this pass gives the file's line numbers and keys.
/// </summary>
public static partial class CsvLineScan
{
    public const int Listed = 5;

    /// <summary>Scans <paramref name="content"/> (UTF-8, LF or CRLF lines, header first).</summary>
    /// <param name="sought">Per column name, the raw values to locate (e.g. the quality query's unparsable examples).</param>
    public static async Task<CsvScanResult> ScanAsync(Stream content, RawDataset dataset, IReadOnlyDictionary<string, IReadOnlySet<string>> sought,
        CancellationToken cancellationToken = default)
    {
        var result = new CsvScanResult();
        var expected = dataset.Header.Count;
        var keyColumns = KeyColumns(dataset);
        var soughtIndex = sought.Where(s => dataset.Header.Contains(s.Key)).ToDictionary(s => dataset.Header.ToList().IndexOf(s.Key), s => (Column: s.Key, Values: s.Value));
        using var reader = new StreamReader(content, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
        long number = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            // Lines are held to the file's own header: a header with a column missing is the header rule's finding, not every line's.
            if (++number == 1) { expected = Split(line).Fields.Count; continue; }
            if (line.Trim().Length == 0) continue;
            var (fields, unclosed) = Split(line);
            var where = new Lazy<CsvLineRef>(() => new CsvLineRef(number, Key(line, keyColumns)));
            var malformed = true;
            if (unclosed)
            {
                if (result.StrayQuoteCount++ < Listed) result.StrayQuotes.Add(where.Value);
            }
            else if (fields.Count != expected)
            {
                if (fields.Count > expected && MergeThousands(fields, expected) is { } merged)
                {
                    if (result.ThousandsSeparatorCount++ < Listed)
                        result.ThousandsSeparators.Add((where.Value, dataset.Header[merged.Index], merged.Value));
                }
                else if (result.WrongFieldCountCount++ < Listed)
                {
                    result.WrongFieldCounts.Add((where.Value, fields.Count));
                }
            }
            else
            {
                malformed = false;
            }
            foreach (var (index, (column, values)) in soughtIndex)
            {
                if (index >= fields.Count || !values.Contains(fields[index].Trim())) continue;
                if (malformed)
                {
                    result.ValuesOnMalformedLines[column] = result.ValuesOnMalformedLines.GetValueOrDefault(column) + 1;
                    continue;
                }
                var list = result.Values.TryGetValue(column, out var l) ? l : result.Values[column] = [];
                if (list.Count < Listed) list.Add(new CsvValueRef(fields[index].Trim(), where.Value, false));
            }
        }
        result.ExpectedFields = expected;
        return result;
    }

    /// <summary>
    /// A line's fields as OpenCSVSerde's parser splits them, and whether a quote is left open at its end (the SerDe then
    /// returns only the fields before the open quote).
    /// </summary>
    public static (List<string> Fields, bool UnclosedQuote) Split(string line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        var inQuotes = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\') { field.Append(line[++i]); continue; }
            if (c == '"') { inQuotes = !inQuotes; continue; }
            if (c == ',' && !inQuotes) { fields.Add(field.ToString()); field.Clear(); continue; }
            field.Append(c);
        }
        fields.Add(field.ToString().TrimEnd('\r'));
        return (fields, inQuotes);
    }

    [GeneratedRegex(@"^\s*-?\d{1,3}$")]
    private static partial Regex LeadingGroup();

    [GeneratedRegex(@"^\d{3}(\.\d*)?\s*$")]
    private static partial Regex ThousandsGroup();

    /// <summary>
    /// When joining adjacent fields that read as digit groups (<c>38</c>, <c>614.46</c>) brings the line to the expected
    /// field count, the first such number (its column and value, e.g. Weekly_Sales '38,614.46'); otherwise null.
    /// </summary>
    private static (int Index, string Value)? MergeThousands(List<string> fields, int expected)
    {
        var merged = new List<string>(fields);
        (int, string)? first = null;
        for (var i = 0; i + 1 < merged.Count && merged.Count > expected;)
        {
            if (LeadingGroup().IsMatch(merged[i]) && ThousandsGroup().IsMatch(merged[i + 1]))
            {
                merged[i] = merged[i].Trim() + "," + merged[i + 1].Trim();
                merged.RemoveAt(i + 1);
                first ??= (i, merged[i]);
                // A number may have more groups (1,234,567.89): try the same field again.
                continue;
            }
            i++;
        }
        return merged.Count == expected ? first : null;
    }

    private static readonly string[] KeyColumnNames = ["Store", "Dept", "Date"];

    private static List<(int Index, string Name)> KeyColumns(RawDataset dataset) =>
        KeyColumnNames.Where(dataset.Header.Contains).Select(n => (dataset.Header.ToList().IndexOf(n), n)).ToList();

    /// <summary>The key columns as written on the line (split on commas only, so a broken quote later on cannot hide them).</summary>
    private static string Key(string line, IReadOnlyList<(int Index, string Name)> keyColumns)
    {
        var raw = line.Split(',');
        return string.Join(", ", keyColumns.Select(k => $"{k.Name} {(k.Index < raw.Length ? raw[k.Index].Trim().Trim('"') : "?")}"));
    }

    /// <summary>The values quoted in the quality query's examples (<c>'12x5' (3 rows); 'abc' (1 rows)</c>).</summary>
    public static IReadOnlySet<string> ExampleValues(string? examples) =>
        examples is null ? new HashSet<string>() : ExamplePattern().Matches(examples).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"'(.*?)' \(\d+ rows\)")]
    private static partial Regex ExamplePattern();
}
