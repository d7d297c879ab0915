using System.Text.Json;
using System.Text.Json.Nodes;

namespace MlOps.Serverless.Local.SageMaker;

/// <summary>
/// What the local SageMaker remembers across calls and runs: one JSON document per resource, the
/// resource's Describe* response as SageMaker would return it, at
/// <c>{stateDirectory}/{kind}/{name}.json</c> (kinds: training-jobs, tuning-jobs, models,
/// transform-jobs, model-packages/{group}, endpoint-configs, endpoints). Writes are atomic
/// (temp file + rename), so a crashed run never leaves half a document.
/// </summary>
public sealed class LocalJobStore
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly Lock _gate = new();

    public LocalJobStore(string stateDirectory)
    {
        Root = Path.GetFullPath(stateDirectory);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public JsonObject? Get(string kind, string name)
    {
        var path = PathOf(kind, name);
        lock (_gate)
            return File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path))!.AsObject() : null;
    }

    public void Put(string kind, string name, JsonNode document)
    {
        var path = PathOf(kind, name);
        var text = document.ToJsonString(Indented);
        lock (_gate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = path + ".tmp";
            File.WriteAllText(temp, text);
            File.Move(temp, path, overwrite: true);
        }
    }

    /// <summary>Stores <paramref name="document"/> only if nothing has that name yet (SageMaker names are unique).</summary>
    public bool TryCreate(string kind, string name, JsonNode document)
    {
        lock (_gate)
        {
            if (File.Exists(PathOf(kind, name))) return false;
            Put(kind, name, document);
            return true;
        }
    }

    public IReadOnlyList<JsonObject> All(string kind)
    {
        var folder = Path.Combine(Root, kind);
        lock (_gate)
        {
            if (!Directory.Exists(folder)) return [];
            return Directory.EnumerateFiles(folder, "*.json", SearchOption.AllDirectories)
                .Order(StringComparer.Ordinal)
                .Select(f => JsonNode.Parse(File.ReadAllText(f))!.AsObject())
                .ToList();
        }
    }

    /// <summary>Paths stay inside the state folder: SageMaker names are [a-zA-Z0-9-], validated before they get here.</summary>
    private string PathOf(string kind, string name)
    {
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name.Contains(".."))
            throw new ArgumentException($"'{name}' is not a valid resource name for the local job store.", nameof(name));
        return Path.Combine(Root, kind, name + ".json");
    }
}
