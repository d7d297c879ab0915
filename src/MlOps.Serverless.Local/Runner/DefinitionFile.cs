namespace MlOps.Serverless.Local.Runner;

/// <summary>The deployed state machine definition (<c>statemachines/retraining.asl.json</c>, copied beside the binaries).</summary>
public static class DefinitionFile
{
    public const string FileName = "retraining.asl.json";

    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "statemachines", FileName);

    public static string LoadTemplate() => File.ReadAllText(Path);

    /// <summary>Another definition of the folder, e.g. the failure notifier's.</summary>
    public static string LoadTemplate(string fileName) => File.ReadAllText(System.IO.Path.Combine(AppContext.BaseDirectory, "statemachines", fileName));
}
