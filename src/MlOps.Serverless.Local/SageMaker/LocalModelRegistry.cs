using System.Globalization;
using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Adapters;
using static MlOps.Serverless.Local.SageMaker.SageMakerRequest;

namespace MlOps.Serverless.Local.SageMaker;

/// <summary>
/// The SageMaker model registry and endpoint records, as local files: CreateModelPackage (versioned, with
/// ClientToken idempotency), ListModelPackages, DescribeModelPackage, UpdateModelPackage (approval), and
/// CreateEndpointConfig / CreateEndpoint / UpdateEndpoint recorded without hosting anything. Groups are
/// created implicitly on their first package (in the cloud the CDK stack creates the group).
/// </summary>
public sealed class LocalModelRegistry(LocalJobStore jobs, LocalAwsIdentity identity)
{
    public const string PackagesKind = "model-packages";
    public const string EndpointConfigKind = "endpoint-configs";
    public const string EndpointKind = "endpoints";
    private static readonly string[] ApprovalStatuses = ["Approved", "Rejected", "PendingManualApproval"];
    private readonly Lock _gate = new();

    public JsonObject CreateModelPackage(JsonNode? request)
    {
        var group = Name(request, "ModelPackageGroupName");
        var approval = OptionalString(request, "ModelApprovalStatus") ?? "PendingManualApproval";
        if (!ApprovalStatuses.Contains(approval))
            throw Invalid($"Value '{approval}' at 'ModelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", ApprovalStatuses)}]");
        var containers = Array(At(request, "InferenceSpecification"), "Containers");
        if (containers.Count == 0) throw Invalid("InferenceSpecification.Containers must hold at least one container");
        for (var i = 0; i < containers.Count; i++) RequiredString(containers[i], "Image");
        var metadata = StringMap(request, "CustomerMetadataProperties");
        if (metadata.Count > 50) throw Invalid($"CustomerMetadataProperties has {metadata.Count} entries; at most 50 are allowed");
        foreach (var (key, value) in metadata)
        {
            if (key.Length is 0 or > 128) throw Invalid($"CustomerMetadataProperties key '{key}' must be 1-128 characters");
            if (value.Length > 256) throw Invalid($"CustomerMetadataProperties.{key} is {value.Length} characters; at most 256 are allowed");
        }
        var token = OptionalString(request, "ClientToken");

        lock (_gate)
        {
            var existing = Packages(group);
            if (token is not null && existing.FirstOrDefault(p => p["ClientToken"]?.GetValue<string>() == token) is { } same)
                return new JsonObject { ["ModelPackageArn"] = same["ModelPackageArn"]!.DeepClone() };

            var version = existing.Count == 0 ? 1 : existing.Max(p => p["ModelPackageVersion"]!.GetValue<int>()) + 1;
            var arn = $"{identity.Arn("model-package", group)}/{version.ToString(CultureInfo.InvariantCulture)}";
            var now = Timestamp(DateTimeOffset.UtcNow);
            var package = new JsonObject
            {
                ["ModelPackageName"] = group,
                ["ModelPackageGroupName"] = group,
                ["ModelPackageVersion"] = version,
                ["ModelPackageArn"] = arn,
                ["CreationTime"] = now,
                ["LastModifiedTime"] = now,
                ["InferenceSpecification"] = At(request, "InferenceSpecification")!.DeepClone(),
                ["ModelPackageStatus"] = "Completed",
                ["ModelPackageStatusDetails"] = new JsonObject { ["ValidationStatuses"] = new JsonArray(), ["ImageScanStatuses"] = new JsonArray() },
                ["CertifyForMarketplace"] = false,
                ["ModelApprovalStatus"] = approval,
            };
            foreach (var field in new[] { "ModelPackageDescription", "ModelMetrics", "MetadataProperties", "Domain", "Task", "SamplePayloadUrl" })
                if (At(request, field) is { } value) package[field] = value.DeepClone();
            if (metadata.Count > 0)
            {
                var map = new JsonObject();
                foreach (var (k, v) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) map[k] = v;
                package["CustomerMetadataProperties"] = map;
            }
            if (token is not null) package["ClientToken"] = token;
            jobs.Put($"{PackagesKind}/{group}", version.ToString("D6", CultureInfo.InvariantCulture), package);
            return new JsonObject { ["ModelPackageArn"] = arn };
        }
    }

    public JsonObject ListModelPackages(JsonNode? request)
    {
        var group = OptionalString(request, "ModelPackageGroupName");
        var approval = OptionalString(request, "ModelApprovalStatus");
        var packages = group is null
            ? jobs.All(PackagesKind).ToList()
            : Packages(group);
        if (approval is not null) packages = packages.Where(p => p["ModelApprovalStatus"]!.GetValue<string>() == approval).ToList();
        var descending = (OptionalString(request, "SortOrder") ?? "Ascending") == "Descending";
        var sortBy = OptionalString(request, "SortBy") ?? "CreationTime";
        if (sortBy is not ("Name" or "CreationTime"))
            throw Invalid($"Value '{sortBy}' at 'SortBy' failed to satisfy constraint: Member must satisfy enum value set: [Name, CreationTime]");
        // Versions are created in order, so (time, version) is a stable creation order.
        var ordered = sortBy == "Name"
            ? packages.OrderBy(p => p["ModelPackageGroupName"]!.GetValue<string>(), StringComparer.Ordinal).ThenBy(p => p["ModelPackageVersion"]!.GetValue<int>())
            : packages.OrderBy(p => p["CreationTime"]!.GetValue<string>(), StringComparer.Ordinal).ThenBy(p => p["ModelPackageVersion"]!.GetValue<int>());
        var list = descending ? ordered.Reverse().ToList() : ordered.ToList();
        var maxResults = OptionalInt(request, "MaxResults") ?? 100;
        if (maxResults is < 1 or > 100) throw Invalid($"Value '{maxResults}' at 'MaxResults' failed to satisfy constraint: Member must have value between 1 and 100");
        var start = OptionalString(request, "NextToken") is { } t && int.TryParse(t, CultureInfo.InvariantCulture, out var s) ? s : 0;
        var page = list.Skip(start).Take(maxResults).ToList();
        var summaries = new JsonArray();
        foreach (var p in page)
        {
            var summary = new JsonObject();
            foreach (var field in new[] { "ModelPackageName", "ModelPackageGroupName", "ModelPackageVersion", "ModelPackageArn", "ModelPackageDescription", "CreationTime", "ModelPackageStatus", "ModelApprovalStatus" })
                if (p[field] is { } value) summary[field] = value.DeepClone();
            summaries.Add(summary);
        }
        var result = new JsonObject { ["ModelPackageSummaryList"] = summaries };
        if (start + page.Count < list.Count) result["NextToken"] = (start + page.Count).ToString(CultureInfo.InvariantCulture);
        return result;
    }

    public JsonObject DescribeModelPackage(JsonNode? request)
    {
        var package = Find(RequiredString(request, "ModelPackageName"));
        package.Remove("ClientToken");
        return package;
    }

    /// <summary>UpdateModelPackage: approval status (and description) changes, as a manual review would make.</summary>
    public JsonObject UpdateModelPackage(JsonNode? request)
    {
        var arn = RequiredString(request, "ModelPackageArn");
        lock (_gate)
        {
            var package = Find(arn);
            if (OptionalString(request, "ModelApprovalStatus") is { } approval)
            {
                if (!ApprovalStatuses.Contains(approval))
                    throw Invalid($"Value '{approval}' at 'ModelApprovalStatus' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", ApprovalStatuses)}]");
                package["ModelApprovalStatus"] = approval;
            }
            if (OptionalString(request, "ApprovalDescription") is { } description) package["ApprovalDescription"] = description;
            package["LastModifiedTime"] = Timestamp(DateTimeOffset.UtcNow);
            jobs.Put($"{PackagesKind}/{package["ModelPackageGroupName"]!.GetValue<string>()}",
                package["ModelPackageVersion"]!.GetValue<int>().ToString("D6", CultureInfo.InvariantCulture), package);
            return new JsonObject { ["ModelPackageArn"] = package["ModelPackageArn"]!.DeepClone() };
        }
    }

    public JsonObject CreateEndpointConfig(JsonNode? request)
    {
        var name = Name(request, "EndpointConfigName");
        var variants = Array(request, "ProductionVariants");
        if (variants.Count == 0) throw Invalid("ProductionVariants must hold at least one variant");
        for (var i = 0; i < variants.Count; i++)
            if (OptionalString(variants[i], "ModelName") is not { } model || jobs.Get(LocalBatchTransform.ModelKind, model) is null)
                throw NotFound($"Could not find model \"{OptionalString(variants[i], "ModelName")}\" named in ProductionVariants[{i}].ModelName");
        var arn = identity.Arn("endpoint-config", name);
        var config = new JsonObject
        {
            ["EndpointConfigName"] = name,
            ["EndpointConfigArn"] = arn,
            ["ProductionVariants"] = variants.DeepClone(),
            ["CreationTime"] = Timestamp(DateTimeOffset.UtcNow),
        };
        if (!jobs.TryCreate(EndpointConfigKind, name, config))
            throw Invalid($"Cannot create already existing endpoint configuration \"{arn}\".");
        return new JsonObject { ["EndpointConfigArn"] = arn };
    }

    /// <summary>CreateEndpoint / UpdateEndpoint: recorded as InService at once; nothing is hosted locally.</summary>
    public JsonObject PutEndpoint(JsonNode? request, bool update)
    {
        var name = Name(request, "EndpointName");
        var configName = RequiredString(request, "EndpointConfigName");
        if (jobs.Get(EndpointConfigKind, configName) is null)
            throw NotFound($"Could not find endpoint configuration \"{identity.Arn("endpoint-config", configName)}\".");
        var arn = identity.Arn("endpoint", name);
        lock (_gate)
        {
            var existing = jobs.Get(EndpointKind, name);
            if (update && existing is null) throw NotFound($"Could not find endpoint \"{arn}\".");
            if (!update && existing is not null) throw Invalid($"Cannot create already existing endpoint \"{arn}\".");
            var now = Timestamp(DateTimeOffset.UtcNow);
            jobs.Put(EndpointKind, name, new JsonObject
            {
                ["EndpointName"] = name,
                ["EndpointArn"] = arn,
                ["EndpointConfigName"] = configName,
                ["EndpointStatus"] = "InService",
                ["CreationTime"] = existing?["CreationTime"]?.DeepClone() ?? now,
                ["LastModifiedTime"] = now,
            });
        }
        return new JsonObject { ["EndpointArn"] = arn };
    }

    private List<JsonObject> Packages(string group) => jobs.All($"{PackagesKind}/{group}").ToList();

    /// <summary>A package by ARN (<c>.../model-package/{group}/{version}</c>); a bare group name means its latest version.</summary>
    private JsonObject Find(string nameOrArn)
    {
        var all = jobs.All(PackagesKind);
        var match = nameOrArn.StartsWith("arn:", StringComparison.Ordinal)
            ? all.FirstOrDefault(p => string.Equals(p["ModelPackageArn"]!.GetValue<string>(), nameOrArn, StringComparison.OrdinalIgnoreCase))
            : all.Where(p => p["ModelPackageGroupName"]!.GetValue<string>() == nameOrArn).MaxBy(p => p["ModelPackageVersion"]!.GetValue<int>());
        return match ?? throw NotFound($"ModelPackage {nameOrArn} does not exist.");
    }
}
