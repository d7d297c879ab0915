using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.Local.Adapters;

/// <summary>
/// <c>arn:aws:states:::aws-sdk:sfn:getExecutionHistory</c> locally: answers from the local executions it was given,
/// in AWS's shape (<see cref="ExecutionHistory"/>): oldest first, or newest first with <c>ReverseOrder</c>; at most
/// <c>MaxResults</c> events (0 or none: 100) with a <c>NextToken</c> for the rest; without state and execution data when
/// <c>IncludeExecutionData</c> is false. An unknown execution fails as AWS does
/// (<c>Sfn.ExecutionDoesNotExistException</c>), and so does an ARN that is not an execution's
/// (<c>Sfn.InvalidArnException</c>).
/// </summary>
public sealed class ExecutionHistoryAdapter : ILocalServiceAdapter
{
    public const string Resource = "arn:aws:states:::aws-sdk:sfn:getExecutionHistory";
    private const int DefaultPageSize = 100;

    private readonly Dictionary<string, (ExecutionResult Execution, IReadOnlyDictionary<string, string> Resources)> _executions = new(StringComparer.Ordinal);

    /// <summary>Makes a finished execution's history readable; <paramref name="definition"/> names its Task states' resources.</summary>
    public void Record(string executionArn, ExecutionResult execution, string definition) =>
        _executions[executionArn] = (execution, ExecutionHistory.TaskResources(definition));

    public bool CanHandle(string resource) => resource == Resource;

    public Task<JsonNode?> InvokeAsync(string resource, JsonNode? input, CancellationToken cancellationToken)
    {
        var arn = (string?)input?["ExecutionArn"] ?? "";
        if (!arn.StartsWith("arn:", StringComparison.Ordinal) || arn.Split(':') is not { Length: 8 } parts || parts[2] != "states" || parts[5] != "execution")
            throw new TaskFailure("Sfn.InvalidArnException", $"Invalid Arn: '{arn}' is not a Step Functions execution ARN (arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME)");
        if (!_executions.TryGetValue(arn, out var found))
            throw new TaskFailure("Sfn.ExecutionDoesNotExistException", $"Execution Does Not Exist: '{arn}'");

        var includeData = input?["IncludeExecutionData"] is not JsonValue include || include.GetValue<bool>();
        var events = ExecutionHistory.ToSdkEvents(found.Execution, found.Resources, includeData).ToList();
        if (input?["ReverseOrder"] is JsonValue reverse && reverse.GetValue<bool>()) events.Reverse();

        var pageSize = input?["MaxResults"] is JsonValue max && max.GetValue<int>() > 0 ? max.GetValue<int>() : DefaultPageSize;
        var start = 0;
        if ((string?)input?["NextToken"] is { } token && !int.TryParse(token, out start))
            throw new TaskFailure("Sfn.InvalidTokenException", $"Invalid Token: '{token}'");
        var page = events.Skip(start).Take(pageSize).Select(e => e?.DeepClone()).ToArray();
        var answer = new JsonObject { ["Events"] = new JsonArray(page) };
        if (start + pageSize < events.Count) answer["NextToken"] = (start + pageSize).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Task.FromResult<JsonNode?>(answer);
    }
}
