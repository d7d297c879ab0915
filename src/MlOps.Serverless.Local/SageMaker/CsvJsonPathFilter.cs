using System.Globalization;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Local.SageMaker;

/// <summary>A transform record does not fit the job's InputFilter or OutputFilter.</summary>
public sealed class TransformFilterFailed(string message) : WorkflowError(message);

/// <summary>
/// The JSONPath subset SageMaker batch transform accepts for CSV records: <c>$</c> (whole record) or
/// <c>$[selectors]</c> where each comma-separated selector is an index (<c>0</c>, <c>-1</c>) or a slice
/// without step (<c>1:</c>, <c>:3</c>, <c>2:-1</c>), Python semantics. Anything else (field names,
/// filters, wildcards, steps) is rejected when the job is created.
/// </summary>
public sealed class CsvJsonPathFilter
{
    private abstract record Selector;
    private sealed record Index(int Value) : Selector;
    private sealed record Slice(int? Start, int? End) : Selector;

    private readonly IReadOnlyList<Selector>? _selectors; // null = "$", the whole record

    private CsvJsonPathFilter(string expression, IReadOnlyList<Selector>? selectors) => (Expression, _selectors) = (expression, selectors);

    public string Expression { get; }

    public static CsvJsonPathFilter All { get; } = new("$", null);

    /// <summary>Parses <paramref name="expression"/>, or returns null with the reason it is not supported.</summary>
    public static CsvJsonPathFilter? TryParse(string expression, out string? problem)
    {
        problem = null;
        var text = expression.Trim();
        if (text == "$") return All;
        if (!text.StartsWith("$[", StringComparison.Ordinal) || !text.EndsWith(']') || text.Length < 4)
        {
            problem = $"'{expression}' is not a supported CSV JSONPath: use $ or $[i], $[i,j], $[a:b] with integer indices";
            return null;
        }
        var selectors = new List<Selector>();
        foreach (var raw in text[2..^1].Split(','))
        {
            var part = raw.Trim();
            var colon = part.IndexOf(':');
            if (colon < 0)
            {
                if (!TryInt(part, out var index))
                {
                    problem = $"'{expression}': selector '{part}' is not an integer index (CSV records are selected by position)";
                    return null;
                }
                selectors.Add(new Index(index));
                continue;
            }
            var startText = part[..colon].Trim();
            var endText = part[(colon + 1)..].Trim();
            if (endText.Contains(':'))
            {
                problem = $"'{expression}': slice '{part}' has a step, which SageMaker's CSV filters do not support";
                return null;
            }
            int? start = null, end = null;
            if (startText.Length > 0) { if (!TryInt(startText, out var s)) { problem = $"'{expression}': slice start '{startText}' is not an integer"; return null; } start = s; }
            if (endText.Length > 0) { if (!TryInt(endText, out var e)) { problem = $"'{expression}': slice end '{endText}' is not an integer"; return null; } end = e; }
            selectors.Add(new Slice(start, end));
        }
        return new CsvJsonPathFilter(text, selectors);
    }

    /// <summary>The selected columns, in selector order.</summary>
    public IReadOnlyList<string> Apply(IReadOnlyList<string> columns, string where)
    {
        if (_selectors is null) return columns;
        var result = new List<string>(columns.Count);
        foreach (var selector in _selectors)
        {
            switch (selector)
            {
                case Index(var value):
                    var i = value < 0 ? columns.Count + value : value;
                    if (i < 0 || i >= columns.Count)
                        throw new TransformFilterFailed($"{where}: filter {Expression} selects column {value}, but the record has {columns.Count} columns");
                    result.Add(columns[i]);
                    break;
                case Slice(var start, var end):
                    var from = Clamp(start ?? 0, columns.Count);
                    var to = Clamp(end ?? columns.Count, columns.Count);
                    for (var j = from; j < to; j++) result.Add(columns[j]);
                    break;
            }
        }
        return result;
    }

    private static int Clamp(int index, int count) => Math.Clamp(index < 0 ? count + index : index, 0, count);

    private static bool TryInt(string text, out int value) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
}
