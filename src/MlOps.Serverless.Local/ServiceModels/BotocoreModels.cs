using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json.Nodes;

namespace MlOps.Serverless.Local.ServiceModels;

/// <summary>
/// AWS's published service models, as botocore ships them (<c>botocore/data/{service}/{version}/service-2.json[.gz]</c>):
/// the same shapes, lengths, patterns and enums AWS validates requests against. Looked up in
/// <see cref="DataDirectoryVariable"/>, then in the botocore that <c>python3</c> imports, then in Debian's
/// <c>python3-botocore</c> (which <c>scripts/setup.sh</c> installs when none is found).
/// </summary>
public static class BotocoreModels
{
    public const string DataDirectoryVariable = "MLOPS_BOTOCORE_DATA";
    public const string DebianDataDirectory = "/usr/lib/python3/dist-packages/botocore/data";

    private static readonly Lazy<string> Located = new(() => Locate(Environment.GetEnvironmentVariable));
    private static readonly ConcurrentDictionary<string, ServiceModel> Cache = new(StringComparer.Ordinal);

    /// <summary>The botocore data folder in use.</summary>
    public static string DataDirectory => Located.Value;

    /// <summary>The newest model of <paramref name="service"/> (botocore's folder name: sagemaker, athena, sns, lambda, s3).</summary>
    public static ServiceModel Load(string service) => Cache.GetOrAdd(service, s => LoadFrom(DataDirectory, s));

    /// <summary>
    /// The model as Step Functions' <c>aws-sdk</c> integrations speak it: every member name starts with a capital
    /// (<c>executionArn</c> is <c>ExecutionArn</c> in Parameters and in the result). Models already in PascalCase
    /// (SageMaker, Athena, S3) are unchanged.
    /// </summary>
    public static ServiceModel LoadForSdkIntegration(string service) =>
        Cache.GetOrAdd(service + "#aws-sdk", _ => Load(service).WithCapitalizedMembers());

    public static ServiceModel LoadFrom(string dataDirectory, string service)
    {
        var serviceDirectory = Path.Combine(dataDirectory, service);
        var file = Directory.Exists(serviceDirectory)
            ? Directory.GetDirectories(serviceDirectory).OrderDescending(StringComparer.Ordinal)
                .SelectMany(v => new[] { Path.Combine(v, "service-2.json.gz"), Path.Combine(v, "service-2.json") })
                .FirstOrDefault(File.Exists)
            : null;
        if (file is null)
            throw new ServiceModelMissing($"No service model for '{service}' under {dataDirectory} (expected {service}/<version>/service-2.json[.gz]).");
        using var stream = File.OpenRead(file);
        using var content = file.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(stream, CompressionMode.Decompress) : (Stream)stream;
        return new ServiceModel(service, file, (JsonObject)JsonNode.Parse(content)!);
    }

    /// <summary>The first botocore data folder holding a SageMaker model: the override, python3's botocore, Debian's package.</summary>
    public static string Locate(Func<string, string?> environment)
    {
        var candidates = new List<string>();
        if (environment(DataDirectoryVariable) is { Length: > 0 } configured)
        {
            if (!HasModels(configured))
                throw new ServiceModelMissing($"{DataDirectoryVariable}={configured} holds no botocore service models (expected sagemaker/<version>/service-2.json[.gz]).");
            return configured;
        }
        if (PythonBotocore() is { } python) candidates.Add(python);
        candidates.Add(DebianDataDirectory);
        return candidates.FirstOrDefault(HasModels)
               ?? throw new ServiceModelMissing("AWS's service models (botocore) were not found: run ./scripts/setup.sh (it installs Debian's python3-botocore), " +
                                                $"or point {DataDirectoryVariable} at a botocore/data folder. Looked in: {string.Join(", ", candidates)}.");
    }

    private static bool HasModels(string dataDirectory) =>
        Directory.Exists(Path.Combine(dataDirectory, "sagemaker"))
        && Directory.GetDirectories(Path.Combine(dataDirectory, "sagemaker"))
            .Any(v => File.Exists(Path.Combine(v, "service-2.json.gz")) || File.Exists(Path.Combine(v, "service-2.json")));

    private static string? PythonBotocore()
    {
        try
        {
            var start = new ProcessStartInfo("python3", ["-c", "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data'))"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var process = Process.Start(start);
            if (process is null) return null;
            var output = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit(10_000);
            return process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // no python3 on this machine
        }
    }
}

/// <summary>The service models cannot be found or read.</summary>
public sealed class ServiceModelMissing(string message) : Exception(message);

/// <summary>One botocore service model: its operations and shapes.</summary>
public sealed class ServiceModel(string service, string file, JsonObject document)
{
    public string Service { get; } = service;
    public string File { get; } = file;
    private JsonObject Shapes => (JsonObject)document["shapes"]!;
    private JsonObject Operations => (JsonObject)document["operations"]!;

    public bool HasOperation(string operation) => Operations.ContainsKey(operation);

    /// <summary>The input shape's name, or null for an operation without input.</summary>
    public string? InputShape(string operation) => (string?)Operation(operation)["input"]?["shape"];

    public string? OutputShape(string operation) => (string?)Operation(operation)["output"]?["shape"];

    /// <summary>A copy whose structure members (and required lists) start with a capital letter.</summary>
    public ServiceModel WithCapitalizedMembers()
    {
        var copy = (JsonObject)document.DeepClone();
        foreach (var (_, node) in (JsonObject)copy["shapes"]!)
        {
            if (node is not JsonObject shape || (string?)shape["type"] != "structure") continue;
            if (shape["members"] is JsonObject members)
                shape["members"] = new JsonObject(members.Select(m => KeyValuePair.Create(Capitalize(m.Key), m.Value?.DeepClone())));
            if (shape["required"] is JsonArray required)
                shape["required"] = new JsonArray(required.Select(r => (JsonNode?)JsonValue.Create(Capitalize((string)r!))).ToArray());
        }
        return new ServiceModel(Service, File, copy);
    }

    private static string Capitalize(string name) => name.Length == 0 ? name : char.ToUpperInvariant(name[0]) + name[1..];

    public JsonObject Shape(string name) => Shapes[name] as JsonObject ?? throw new ServiceModelMissing($"{Service}: shape {name} is not in {File}.");

    private JsonObject Operation(string operation) =>
        Operations[operation] as JsonObject ?? throw new ServiceModelMissing($"{Service}: operation {operation} is not in {File}.");
}
