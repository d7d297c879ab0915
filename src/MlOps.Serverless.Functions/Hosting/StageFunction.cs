using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;

namespace MlOps.Serverless.Functions.Hosting;

/// <summary>
/// The shared Lambda plumbing: the managed <c>dotnet10</c> runtime calls <see cref="Handle"/> with the raw
/// payload stream (no Amazon.Lambda.* serializer needed), this class deserialises it with the stage's
/// source-generated contract, runs the stage, logs one structured line at start and end, and
/// serialises the result. Exceptions propagate untouched so Step Functions sees their type name.
/// </summary>
public abstract class StageFunction<TInput, TOutput>
{
    protected StageFunction(StructuredLog? log = null) => Log = log ?? new StructuredLog(GetType().Name);

    protected StructuredLog Log { get; }
    protected abstract JsonTypeInfo<TInput> InputContract { get; }
    protected abstract JsonTypeInfo<TOutput> OutputContract { get; }
    protected abstract Task<TOutput> RunAsync(TInput input, CancellationToken cancellationToken);

    /// <summary>The error raised for a payload that is not valid JSON for <typeparamref name="TInput"/>.</summary>
    protected virtual Exception InvalidInput(string message, JsonException? cause) => new InvalidStageInput(message, cause);

    public async Task<Stream> Handle(Stream input)
    {
        var clock = Stopwatch.StartNew();
        TInput request;
        try
        {
            request = await JsonSerializer.DeserializeAsync(input, InputContract)
                ?? throw InvalidInput($"{GetType().Name}: the input is null; expected a {typeof(TInput).Name} object", null);
        }
        catch (JsonException e)
        {
            var at = string.IsNullOrEmpty(e.Path) ? "the payload" : e.Path;
            throw InvalidInput($"{GetType().Name}: {at} does not match {typeof(TInput).Name}: {e.Message.Split(" Path:", 2)[0]}", e);
        }

        try
        {
            var result = await RunAsync(request, CancellationToken.None);
            var output = new MemoryStream();
            await JsonSerializer.SerializeAsync(output, result, OutputContract);
            output.Position = 0;
            Log.Info("stage succeeded", ("durationMs", clock.ElapsedMilliseconds), ("outputBytes", output.Length));
            return output;
        }
        catch (Exception e)
        {
            Log.Error("stage failed", ("errorType", e.GetType().Name), ("errorMessage", e.Message), ("durationMs", clock.ElapsedMilliseconds));
            throw;
        }
    }
}
