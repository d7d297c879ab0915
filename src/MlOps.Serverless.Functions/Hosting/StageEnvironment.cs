using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Functions.Hosting;

/// <summary>Reads a stage's deployment settings from Lambda environment variables (set by the CDK app).</summary>
public static class StageEnvironment
{
    public static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidConfiguration($"Environment variable {name} is not set; the CDK app sets it on the function.");

    public static string? Optional(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
