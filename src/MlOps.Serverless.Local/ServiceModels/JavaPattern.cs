using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace MlOps.Serverless.Local.ServiceModels;

/// <summary>
/// botocore's <c>pattern</c> constraints are Java regular expressions, matched against the whole value
/// (Java's <c>Matcher.matches()</c>). .NET reads most of them as they are; this rewrites the few Java-only
/// constructs the models use: POSIX classes such as <c>\p{Alnum}</c>, <c>\x{HHHH}</c> and <c>\_</c> escapes, and a quantified
/// end anchor (<c>$</c><c>{1,128}</c>, which Java accepts and ignores), and a range of supplementary characters written
/// as surrogate pairs (<c>\uD800\uDC00-\uDBFF\uDFFF</c>, one code point each in Java, loose surrogates in .NET).
/// </summary>
public static partial class JavaPattern
{
    private static readonly ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    private static readonly Dictionary<string, string> PosixClasses = new(StringComparer.Ordinal)
    {
        ["Alnum"] = "a-zA-Z0-9", ["Alpha"] = "a-zA-Z", ["Digit"] = "0-9", ["Upper"] = "A-Z", ["Lower"] = "a-z",
        ["XDigit"] = "0-9a-fA-F", ["Space"] = @" \t\n\x0B\f\r", ["Blank"] = @" \t", ["Cntrl"] = @"\x00-\x1F\x7F",
        ["Punct"] = @"!-/:-@\[-`{-~", ["Graph"] = @"!-~", ["Print"] = @" -~", ["ASCII"] = @"\x00-\x7F",
    };

    /// <summary>True when the whole of <paramref name="value"/> matches the Java pattern.</summary>
    public static bool Matches(string pattern, string value) => Compiled.GetOrAdd(pattern, Compile).IsMatch(value);

    public static Regex Compile(string pattern) =>
        new($@"\A(?:{Translate(pattern)})\z", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>The .NET spelling of a Java pattern.</summary>
    public static string Translate(string pattern)
    {
        var text = SupplementaryRange().Replace(QuantifiedEndAnchor().Replace(pattern, "$"), @"\uD800-\uDFFF");
        var result = new StringBuilder(text.Length);
        var inClass = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\\' && i + 1 < text.Length)
            {
                var next = text[i + 1];
                if (next == 'p' && i + 2 < text.Length && text[i + 2] == '{')
                {
                    var end = text.IndexOf('}', i + 3);
                    var name = end > 0 ? text[(i + 3)..end] : "";
                    if (PosixClasses.TryGetValue(name, out var set))
                    {
                        result.Append(inClass > 0 ? set : $"[{set}]");
                        i = end;
                        continue;
                    }
                }
                if (next == 'x' && i + 2 < text.Length && text[i + 2] == '{')
                {
                    var end = text.IndexOf('}', i + 3);
                    var hex = text[(i + 3)..end];
                    var code = Convert.ToInt32(hex, 16);
                    result.Append(code <= 0xFFFF ? $@"\u{code:X4}" : Regex.Escape(char.ConvertFromUtf32(code)));
                    i = end;
                    continue;
                }
                if (next == '_') result.Append('_'); // Java escapes any non-alphanumeric; .NET refuses \_
                else result.Append(c).Append(next);
                i++;
                continue;
            }
            if (c == '[') inClass++;
            else if (c == ']' && inClass > 0) inClass--;
            result.Append(c);
        }
        return result.ToString();
    }

    [GeneratedRegex(@"\\uD[89AB][0-9A-F]{2}\\uD[C-F][0-9A-F]{2}-\\uD[89AB][0-9A-F]{2}\\uD[C-F][0-9A-F]{2}", RegexOptions.IgnoreCase)]
    private static partial Regex SupplementaryRange();

    [GeneratedRegex(@"\$\{\d+(,\d*)?\}")]
    private static partial Regex QuantifiedEndAnchor();
}
