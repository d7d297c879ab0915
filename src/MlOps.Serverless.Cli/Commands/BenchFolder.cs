namespace MlOps.Serverless.Cli.Commands;

/// <summary><c>bench --out</c> names a file, or a folder the bench did not create: it is left as it is.</summary>
public sealed class BenchFolderInUse(string message) : Exception(message);

/// <summary>
/// The bench's scratch folder. Each bench starts from an empty one, so the folder is deleted first, but only when it
/// is missing, empty, or was made by an earlier bench (it carries <see cref="MarkerFile"/>).
/// </summary>
public static class BenchFolder
{
    public const string MarkerFile = ".mlops-bench";

    /// <summary>Empties (or creates) the folder and marks it; throws <see cref="BenchFolderInUse"/> and touches nothing otherwise.</summary>
    public static void Reset(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full))
            throw new BenchFolderInUse($"--out {full} is a file, not a folder. Give a new or empty folder for the bench's scratch data.");
        if (Directory.Exists(full))
        {
            if (Directory.EnumerateFileSystemEntries(full).Any() && !File.Exists(Path.Combine(full, MarkerFile)))
                throw new BenchFolderInUse($"--out {full} holds files the bench did not create (no {MarkerFile} marker), so the bench does not delete it. " +
                                           "Give a new or empty folder.");
            Directory.Delete(full, recursive: true);
        }
        Directory.CreateDirectory(full);
        File.WriteAllText(Path.Combine(full, MarkerFile), "Scratch folder of `mlops bench`: the next bench deletes it.\n");
    }
}
