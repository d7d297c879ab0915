namespace MlOps.Serverless.Local.Runner;

/// <summary>Where node, the runner script and the repository's node_modules are.</summary>
public sealed record NodeEnvironment(string NodeExecutable, string RunnerScript, string ModulesDirectory)
{
    public const string Interpreter = "aws-local-stepfunctions";

    /// <summary>
    /// Finds node on PATH and the node_modules that holds aws-local-stepfunctions, searching upwards
    /// from the current directory and the application directory (or MLOPS_NODE_MODULES).
    /// </summary>
    public static NodeEnvironment Discover()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Runner", "run-state-machine.mjs");
        var modules = Environment.GetEnvironmentVariable("MLOPS_NODE_MODULES") is { Length: > 0 } configured
            ? configured
            : new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory }.Select(FindModules).FirstOrDefault(m => m is not null);
        if (modules is null || !Directory.Exists(Path.Combine(modules, Interpreter)))
            throw new LocalSetupMissing($"The npm package {Interpreter} is not installed. Run ./scripts/setup.sh (it runs `npm ci` at the repository root).");
        var node = FindOnPath("node")
            ?? throw new LocalSetupMissing("node is not on PATH. Install Node.js 20 or newer, then run ./scripts/setup.sh.");
        return new NodeEnvironment(node, script, modules);
    }

    private static string? FindModules(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "node_modules");
            if (Directory.Exists(Path.Combine(candidate, Interpreter))) return candidate;
        }
        return null;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}

/// <summary>A local prerequisite (node, npm packages, libxgboost) is missing; the message says how to install it.</summary>
public sealed class LocalSetupMissing(string message) : Exception(message);
