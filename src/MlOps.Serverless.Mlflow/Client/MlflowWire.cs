using System.Text.Json.Serialization;

namespace MlOps.Serverless.Mlflow.Client;

// MLflow REST API 2.0 request/response bodies. MLflow's JSON is snake_case (protobuf field names),
// so every property names its wire field explicitly; the project's one JSON context stays camelCase.

public sealed record MlflowTag([property: JsonPropertyName("key")] string Key, [property: JsonPropertyName("value")] string Value);

public sealed record MlflowParam([property: JsonPropertyName("key")] string Key, [property: JsonPropertyName("value")] string Value);

public sealed record MlflowMetric(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("value")] double Value,
    [property: JsonPropertyName("timestamp")] long Timestamp,
    [property: JsonPropertyName("step")] long Step = 0);

public sealed record MlflowExperiment(
    [property: JsonPropertyName("experiment_id")] string ExperimentId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("artifact_location")] string? ArtifactLocation = null,
    [property: JsonPropertyName("lifecycle_stage")] string? LifecycleStage = null);

public sealed record MlflowRunInfo(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("experiment_id")] string ExperimentId,
    [property: JsonPropertyName("run_name")] string? RunName = null,
    [property: JsonPropertyName("status")] string? Status = null,
    [property: JsonPropertyName("start_time")] long? StartTime = null,
    [property: JsonPropertyName("end_time")] long? EndTime = null,
    [property: JsonPropertyName("artifact_uri")] string? ArtifactUri = null,
    [property: JsonPropertyName("lifecycle_stage")] string? LifecycleStage = null);

public sealed record MlflowRunData(
    [property: JsonPropertyName("metrics")] IReadOnlyList<MlflowMetric>? Metrics = null,
    [property: JsonPropertyName("params")] IReadOnlyList<MlflowParam>? Params = null,
    [property: JsonPropertyName("tags")] IReadOnlyList<MlflowTag>? Tags = null);

public sealed record MlflowRun(
    [property: JsonPropertyName("info")] MlflowRunInfo Info,
    [property: JsonPropertyName("data")] MlflowRunData? Data = null)
{
    public string? Tag(string key) => Data?.Tags?.FirstOrDefault(t => t.Key == key)?.Value;
    public string? Param(string key) => Data?.Params?.FirstOrDefault(p => p.Key == key)?.Value;
}

public sealed record MlflowAlias(
    [property: JsonPropertyName("alias")] string Alias,
    [property: JsonPropertyName("version")] string Version);

public sealed record MlflowRegisteredModel(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("aliases")] IReadOnlyList<MlflowAlias>? Aliases = null,
    [property: JsonPropertyName("description")] string? Description = null);

public sealed record MlflowModelVersion(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("source")] string? Source = null,
    [property: JsonPropertyName("run_id")] string? RunId = null,
    [property: JsonPropertyName("status")] string? Status = null,
    [property: JsonPropertyName("aliases")] IReadOnlyList<string>? Aliases = null,
    [property: JsonPropertyName("tags")] IReadOnlyList<MlflowTag>? Tags = null)
{
    public string? Tag(string key) => Tags?.FirstOrDefault(t => t.Key == key)?.Value;
}

/// <summary>A dataset as <c>runs/log-inputs</c> takes it (MLflow's <c>Dataset</c> message; digest at most 36 characters).</summary>
public sealed record MlflowDataset(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("digest")] string Digest,
    [property: JsonPropertyName("source_type")] string SourceType,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("schema")] string? Schema = null,
    [property: JsonPropertyName("profile")] string? Profile = null);

public sealed record MlflowDatasetInput(
    [property: JsonPropertyName("tags")] IReadOnlyList<MlflowTag> Tags,
    [property: JsonPropertyName("dataset")] MlflowDataset Dataset);

// Requests.
public sealed record CreateExperimentRequest([property: JsonPropertyName("name")] string Name);

public sealed record CreateRunRequest(
    [property: JsonPropertyName("experiment_id")] string ExperimentId,
    [property: JsonPropertyName("run_name")] string? RunName,
    [property: JsonPropertyName("start_time")] long StartTime,
    [property: JsonPropertyName("tags")] IReadOnlyList<MlflowTag> Tags);

public sealed record LogBatchRequest(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("metrics")] IReadOnlyList<MlflowMetric> Metrics,
    [property: JsonPropertyName("params")] IReadOnlyList<MlflowParam> Params,
    [property: JsonPropertyName("tags")] IReadOnlyList<MlflowTag> Tags);

public sealed record UpdateRunRequest(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("end_time")] long? EndTime);

public sealed record SearchRunsRequest(
    [property: JsonPropertyName("experiment_ids")] IReadOnlyList<string> ExperimentIds,
    [property: JsonPropertyName("filter")] string Filter,
    [property: JsonPropertyName("run_view_type")] string RunViewType,
    [property: JsonPropertyName("max_results")] int MaxResults,
    [property: JsonPropertyName("page_token")] string? PageToken);

public sealed record CreateRegisteredModelRequest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string? Description = null);

public sealed record UpdateRegisteredModelRequest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description);

public sealed record LogInputsRequest(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("datasets")] IReadOnlyList<MlflowDatasetInput> Datasets);

public sealed record SetExperimentTagRequest(
    [property: JsonPropertyName("experiment_id")] string ExperimentId,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("value")] string Value);

public sealed record CreateModelVersionRequest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("run_id")] string? RunId,
    [property: JsonPropertyName("tags")] IReadOnlyList<MlflowTag>? Tags);

public sealed record SetAliasRequest(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("alias")] string Alias,
    [property: JsonPropertyName("version")] string Version);

// Responses.
public sealed record GetExperimentResponse([property: JsonPropertyName("experiment")] MlflowExperiment Experiment);

public sealed record CreateExperimentResponse([property: JsonPropertyName("experiment_id")] string ExperimentId);

public sealed record RunResponse([property: JsonPropertyName("run")] MlflowRun Run);

public sealed record SearchRunsResponse(
    [property: JsonPropertyName("runs")] IReadOnlyList<MlflowRun>? Runs,
    [property: JsonPropertyName("next_page_token")] string? NextPageToken);

public sealed record RegisteredModelResponse([property: JsonPropertyName("registered_model")] MlflowRegisteredModel RegisteredModel);

public sealed record ModelVersionResponse([property: JsonPropertyName("model_version")] MlflowModelVersion ModelVersion);

public sealed record SearchModelVersionsResponse(
    [property: JsonPropertyName("model_versions")] IReadOnlyList<MlflowModelVersion>? ModelVersions,
    [property: JsonPropertyName("next_page_token")] string? NextPageToken);

public sealed record MlflowErrorBody(
    [property: JsonPropertyName("error_code")] string? ErrorCode,
    [property: JsonPropertyName("message")] string? Message);

public sealed record EmptyResponse;
