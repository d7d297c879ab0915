using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Local.Run;

/// <summary><c>--data</c> does not point at a folder holding the three files by their real names.</summary>
public sealed class InvalidDataFolder(string message) : Exception(message);

/// <summary>Checks a local data folder before a run starts, so a wrong <c>--data</c> is named at once rather than by the quality stage.</summary>
public static class DataFolder
{
    /// <summary>The expected names, quoted, for messages.</summary>
    public static string Expected => string.Join(", ", RawDatasets.All.Select(d => $"\"{d.FileName}\""));

    /// <summary>Throws <see cref="InvalidDataFolder"/> (one line: what is wrong, what was expected, what was found) unless all three files are there.</summary>
    public static void Check(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
            throw new InvalidDataFolder($"--data {full} is a file, not a folder. Expected a folder holding {Expected}.");
        if (!Directory.Exists(full))
            throw new InvalidDataFolder($"--data {full}: no such folder. Expected a folder holding {Expected}.");
        var found = Directory.EnumerateFiles(full).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var problems = new List<string>();
        foreach (var dataset in RawDatasets.All)
        {
            if (found.Contains(dataset.FileName, StringComparer.Ordinal)) continue;
            var near = found.FirstOrDefault(f => string.Equals(f, dataset.FileName, StringComparison.OrdinalIgnoreCase));
            problems.Add(near is null ? $"\"{dataset.FileName}\" is missing" : $"\"{dataset.FileName}\" is missing (\"{near}\" differs in case; names are case-sensitive)");
        }
        if (problems.Count > 0)
            throw new InvalidDataFolder($"--data {full}: {string.Join("; ", problems)}. Expected {Expected}; found " +
                                        (found.Count == 0 ? "no files." : string.Join(", ", found.Select(f => $"\"{f}\"")) + "."));
    }
}
