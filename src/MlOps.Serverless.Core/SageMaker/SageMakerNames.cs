using System.Security.Cryptography;
using System.Text;

namespace MlOps.Serverless.Core.SageMaker;

/// <summary>
/// Readable, unique SageMaker resource names: <c>{kind}-{readable part}-{hash}</c> in letters, digits and single
/// hyphens, cut to the resource's length limit. The hash, not the readable part, makes the name unique.
/// </summary>
public static class SageMakerNames
{
    /// <summary>The first 8 hex digits of SHA-256(<paramref name="text"/>).</summary>
    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];

    /// <summary><paramref name="text"/> with every run of characters other than ASCII letters and digits turned into one hyphen, trimmed.</summary>
    public static string Slug(string text)
    {
        var slug = new string(text.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        while (slug.Contains("--", StringComparison.Ordinal)) slug = slug.Replace("--", "-", StringComparison.Ordinal);
        return slug;
    }

    /// <summary><c>{kind}-{slug}-{hash}</c> within <paramref name="limit"/> characters, the slug shortened to fit (and left out when empty).</summary>
    public static string Compose(string kind, string slug, string hash, int limit)
    {
        var room = limit - kind.Length - hash.Length - 2;
        var middle = room <= 0 ? "" : slug.Length > room ? slug[..room].TrimEnd('-') : slug;
        return middle.Length == 0 ? $"{kind}-{hash}" : $"{kind}-{middle}-{hash}";
    }
}
