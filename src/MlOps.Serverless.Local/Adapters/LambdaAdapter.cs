using System.Text.Json.Nodes;

namespace MlOps.Serverless.Local.Adapters;

/// <summary>
/// <c>arn:aws:states:::lambda:invoke</c> run in process: the function name picks a stage handler, which is
/// called through the same <c>Task&lt;Stream&gt; Handle(Stream)</c> entry point the Lambda runtime uses.
/// A thrown exception becomes what Step Functions reports for a function error: Error = the exception's
/// type name, Cause = <c>{"errorMessage","errorType","stackTrace"}</c>.
/// </summary>
public sealed class LambdaAdapter(IReadOnlyDictionary<string, Func<Stream, Task<Stream>>> functions) : ILocalServiceAdapter
{
    public const string Resource = "arn:aws:states:::lambda:invoke";

    /// <summary>How many times each function ran, and for how long (for the cost estimate).</summary>
    public List<(string Function, TimeSpan Duration)> Invocations { get; } = [];

    public bool CanHandle(string resource) => resource == Resource;

    public async Task<JsonNode?> InvokeAsync(string resource, JsonNode? input, CancellationToken cancellationToken)
    {
        var functionName = (string?)input?["FunctionName"]
            ?? throw new TaskFailure("Lambda.InvalidParameterValueException", "FunctionName is required");
        var name = functionName.Split(':')[^1];
        if (!functions.TryGetValue(name, out var handle))
            throw new TaskFailure("Lambda.ResourceNotFoundException", $"Function not found: {functionName}");

        using var payload = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(input!["Payload"]?.ToJsonString() ?? "null"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            await using var output = await handle(payload);
            var result = await JsonNode.ParseAsync(output, cancellationToken: cancellationToken);
            return new JsonObject { ["ExecutedVersion"] = "$LATEST", ["StatusCode"] = 200, ["Payload"] = result };
        }
        catch (Exception e) when (e is not TaskFailure and not OperationCanceledException)
        {
            var type = e.GetType().Name;
            throw new TaskFailure(type, new JsonObject
            {
                ["errorMessage"] = e.Message,
                ["errorType"] = type,
                ["stackTrace"] = new JsonArray(),
            }.ToJsonString());
        }
        finally
        {
            lock (Invocations) Invocations.Add((name, clock.Elapsed));
        }
    }
}
