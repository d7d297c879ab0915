using System.Buffers;
using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace MlOps.Serverless.Local.Athena;

/// <summary>
/// Writes a query result as DuckDB's <c>COPY ... (FORMAT csv, HEADER false)</c> does, byte for byte, for the column
/// types the data stages write (integers, doubles, strings, dates, booleans). DuckDB's CSV writer spends most of
/// the split stages' time turning doubles into text; reading the values and formatting them here is several times
/// cheaper. Doubles are printed as DuckDB prints them (shortest round-trip digits, fixed notation for
/// 1e-4 ≤ |x| &lt; 1e16 with at least one decimal, otherwise <c>1e-05</c> / <c>1.5e+16</c>; <c>nan</c>, <c>inf</c>);
/// NULL is an empty field; a string is quoted when it is empty or holds the delimiter, a quote or a line break.
/// </summary>
public sealed class DuckDbCsvWriter
{
    // DuckDB type names (as the reader reports them); FLOAT is left to DuckDB (single-precision shortest digits).
    private static readonly HashSet<string> SupportedTypes = new(StringComparer.OrdinalIgnoreCase)
        { "DOUBLE", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "VARCHAR", "DATE", "BOOLEAN" };

    private readonly byte _delimiter;
    private readonly SearchValues<char> _needsQuotes;
    private readonly byte[] _buffer = new byte[1 << 16];
    private readonly char[] _chars = new char[64];
    private Stream _output = Stream.Null;
    private int _length;

    public DuckDbCsvWriter(char delimiter = ',')
    {
        if (delimiter > 127 || delimiter is '"' or '\n' or '\r')
            throw new ArgumentException($"CSV delimiter '{delimiter}' is not supported (one ASCII character other than a quote or a line break).", nameof(delimiter));
        _delimiter = (byte)delimiter;
        _needsQuotes = SearchValues.Create([delimiter, '"', '\n', '\r']);
    }

    /// <summary>Whether every column of <paramref name="reader"/> has a type this writer formats as DuckDB does.</summary>
    public static bool Supports(DbDataReader reader) =>
        Enumerable.Range(0, reader.FieldCount).All(i => SupportedTypes.Contains(reader.GetDataTypeName(i)));

    /// <summary>Writes every row of <paramref name="reader"/> to <paramref name="output"/>; returns the row count.</summary>
    // Hot loop: optimised from the first call rather than after tiering up (one split would run on tier-0 code).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public long Write(DbDataReader reader, Stream output)
    {
        if (!Supports(reader))
            throw new NotSupportedException("The result has a column type the CSV writer does not format: " +
                string.Join(", ", Enumerable.Range(0, reader.FieldCount).Select(reader.GetDataTypeName).Where(t => !SupportedTypes.Contains(t)).Distinct()));
        var types = Enumerable.Range(0, reader.FieldCount).Select(reader.GetFieldType).ToArray();
        long rows = 0;
        _output = output;
        _length = 0;
        while (reader.Read())
        {
            for (var i = 0; i < types.Length; i++)
            {
                if (i > 0) Put(_delimiter);
                if (reader.IsDBNull(i)) continue;
                var type = types[i];
                if (type == typeof(double)) AppendDouble(reader.GetDouble(i));
                else if (type == typeof(int)) AppendInteger(reader.GetInt32(i));
                else if (type == typeof(long)) AppendInteger(reader.GetInt64(i));
                else if (type == typeof(string)) AppendString(reader.GetString(i));
                else AppendOther(reader.GetValue(i));
            }
            Put((byte)'\n');
            rows++;
        }
        Flush();
        return rows;
    }

    /// <summary>A double as DuckDB casts it to VARCHAR (and writes it to CSV).</summary>
    public static string FormatDouble(double value)
    {
        var writer = new DuckDbCsvWriter();
        writer.AppendDouble(value);
        return Encoding.ASCII.GetString(writer._buffer, 0, writer._length);
    }

    private void Flush()
    {
        _output.Write(_buffer, 0, _length);
        _length = 0;
    }

    /// <summary>Room for <paramref name="bytes"/> more bytes (at most the buffer's size).</summary>
    private void Reserve(int bytes)
    {
        if (_length + bytes > _buffer.Length) Flush();
    }

    private void Put(byte b)
    {
        if (_length == _buffer.Length) Flush();
        _buffer[_length++] = b;
    }

    private void PutAscii(ReadOnlySpan<char> text)
    {
        foreach (var c in text) Put((byte)c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AppendInteger(long value)
    {
        Reserve(20);
        value.TryFormat(_buffer.AsSpan(_length), out var written, default, CultureInfo.InvariantCulture);
        _length += written;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AppendDouble(double value)
    {
        if (double.IsNaN(value)) { PutAscii("nan"); return; }
        if (double.IsInfinity(value)) { PutAscii(value > 0 ? "inf" : "-inf"); return; }
        if (value == 0) { PutAscii(double.IsNegative(value) ? "-0.0" : "0.0"); return; }
        if (TryAppendShortDecimal(value)) return;
        AppendShortestRoundTrip(value);
    }

    /// <summary>
    /// The fast path for values with at most 9 decimals and |v| &lt; 10^6 (rounded features, prices, CPI):
    /// m = round(v·10^9); if m / 10^9 == v, the decimal m·10^-9 rounds to v, and because the 10^-9 grid is coarser
    /// than the doubles around v (|m| &lt; 10^15), no other decimal with at most 9 decimals does: m·10^-9 without
    /// its trailing zeros is exactly the shortest round-trip text. Values below 1e-4 go the general way
    /// (DuckDB prints them as 1e-05).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryAppendShortDecimal(double value)
    {
        var magnitude = Math.Abs(value);
        if (magnitude < 1e-4 || magnitude >= 1e6) return false;
        var scaled = Math.Round(magnitude * 1e9);
        if (scaled / 1e9 != magnitude) return false;
        var digits = (long)scaled;
        var decimals = 9;
        while (decimals > 0 && digits % 10 == 0)
        {
            digits /= 10;
            decimals--;
        }
        Reserve(32);
        if (value < 0) _buffer[_length++] = (byte)'-';
        var start = _length;
        digits.TryFormat(_buffer.AsSpan(start), out var n, default, CultureInfo.InvariantCulture);
        if (decimals == 0)
        {
            _buffer[start + n] = (byte)'.';
            _buffer[start + n + 1] = (byte)'0';
            _length = start + n + 2;
        }
        else if (n > decimals)
        {
            // "12345" with 2 decimals → "123.45": shift the decimals right by one for the point.
            for (var k = start + n; k > start + n - decimals; k--) _buffer[k] = _buffer[k - 1];
            _buffer[start + n - decimals] = (byte)'.';
            _length = start + n + 1;
        }
        else
        {
            // "5" with 4 decimals → "0.0005": shift the digits right past "0." and the leading zeros.
            var shift = 2 + decimals - n;
            for (var k = start + n - 1; k >= start; k--) _buffer[k + shift] = _buffer[k];
            _buffer[start] = (byte)'0';
            _buffer[start + 1] = (byte)'.';
            for (var k = start + 2; k < start + shift; k++) _buffer[k] = (byte)'0';
            _length = start + n + shift;
        }
        return true;
    }

    /// <summary>.NET's shortest round-trip digits ("R"), laid out as DuckDB lays them out.</summary>
    // Long on purpose: a per-value formatter in the writer's hot loop, rewriting digits in place in one buffer.
    private void AppendShortestRoundTrip(double value)
    {
        if (!value.TryFormat(_chars, out var n, "R", CultureInfo.InvariantCulture))
            throw new InvalidOperationException($"Could not format {value}.");
        var text = _chars.AsSpan(0, n);
        var negative = text[0] == '-';
        if (negative) text = text[1..];
        var e = text.IndexOfAny('E', 'e');
        var exponent = e < 0 ? 0 : int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var mantissa = e < 0 ? text : text[..e];
        var point = mantissa.IndexOf('.');
        Span<char> digits = stackalloc char[32];
        var count = 0;
        foreach (var c in mantissa) if (c != '.') digits[count++] = c;
        // value = 0.d1d2... × 10^(pointPosition); strip leading zeros ("0.0001" → digits "1", position -3).
        var position = (point < 0 ? mantissa.Length : point) + exponent;
        var start = 0;
        while (start < count - 1 && digits[start] == '0') { start++; position--; }
        var end = count;
        while (end > start + 1 && digits[end - 1] == '0') end--;
        var significant = digits[start..end];
        var scientific = position - 1; // exponent of d1.d2d3...
        if (negative) Put((byte)'-');
        if (scientific is >= -4 and < 16)
        {
            if (position <= 0)
            {
                PutAscii("0.");
                for (var z = position; z < 0; z++) Put((byte)'0');
                PutAscii(significant);
            }
            else if (position >= significant.Length)
            {
                PutAscii(significant);
                for (var z = significant.Length; z < position; z++) Put((byte)'0');
                PutAscii(".0");
            }
            else
            {
                PutAscii(significant[..position]);
                Put((byte)'.');
                PutAscii(significant[position..]);
            }
            return;
        }
        Put((byte)significant[0]);
        if (significant.Length > 1)
        {
            Put((byte)'.');
            PutAscii(significant[1..]);
        }
        Put((byte)'e');
        Put((byte)(scientific < 0 ? '-' : '+'));
        var abs = Math.Abs(scientific);
        if (abs < 10) Put((byte)'0');
        AppendInteger(abs);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AppendString(string value)
    {
        var quote = value.Length == 0 || value.AsSpan().ContainsAny(_needsQuotes);
        var text = quote && value.Contains('"') ? value.Replace("\"", "\"\"", StringComparison.Ordinal) : value;
        if (quote) Put((byte)'"');
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max <= _buffer.Length)
        {
            Reserve(max);
            _length += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
        }
        else
        {
            Flush();
            _output.Write(Encoding.UTF8.GetBytes(text));
        }
        if (quote) Put((byte)'"');
    }

    private void AppendOther(object value)
    {
        switch (value)
        {
            case short or sbyte: AppendInteger(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case bool b: PutAscii(b ? "true" : "false"); break;
            case DateOnly d: PutAscii(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)); break;
            case DateTime t: PutAscii(t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)); break;
            default: throw new NotSupportedException($"CSV writer: unexpected value type {value.GetType()}.");
        }
    }
}
