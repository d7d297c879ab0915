namespace MlOps.Serverless.Testing;

/// <summary>A fresh temporary folder for one test, removed when the test ends (xunit disposes test classes).</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "mlops-tests-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    public void Dispose()
    {
        if (Directory.Exists(Path)) Directory.Delete(Path, recursive: true);
    }
}
