using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Adapters;

namespace MlOps.Serverless.Local.Runner;

/// <summary>
/// Executes an ASL definition on the real interpreter (aws-local-stepfunctions, in Node) and answers its
/// Task states in .NET. The protocol is JSON lines over the child process's stdio; see
/// <c>Runner/run-state-machine.mjs</c>.
/// </summary>
public sealed class StateMachineRunner(NodeEnvironment node)
{
    /// <param name="tasks">Each task gets its own token, cancelled when node gives up on the task (its state timed
    /// out, the execution ended), so the stand-in stops the work as Step Functions stops a <c>.sync</c> job.</param>
    /// <param name="cancellationToken">Stops the execution (StopExecution): the result's status is then ABORTED.</param>
    public async Task<ExecutionResult> RunAsync(ExecutionRequest request, ITaskHandler tasks,
        Action<ExecutionEvent>? onEvent = null, CancellationToken cancellationToken = default)
    {
        using var process = StartNode();
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        var writeLock = new SemaphoreSlim(1, 1);
        // Not cancellable: stopping the execution is itself a message, and node must hear it.
        async Task Send(JsonObject message)
        {
            await writeLock.WaitAsync(CancellationToken.None);
            try
            {
                await process.StandardInput.WriteLineAsync(message.ToJsonString());
                await process.StandardInput.FlushAsync(CancellationToken.None);
            }
            finally { writeLock.Release(); }
        }

        await Send(StartMessage(request));

        var history = new List<ExecutionEvent>();
        var inFlight = new ConcurrentBag<Task>();
        // Each task's own token: node cancels it when the state gives up on the task (timeout, execution ended).
        var running = new ConcurrentDictionary<int, CancellationTokenSource>();
        // StopExecution: node aborts the execution, cancels what runs and still ends with a result (ABORTED).
        await using var stop = cancellationToken.Register(() => _ = Send(new JsonObject { ["type"] = "stop" }));
        while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
        {
            if (line.Length == 0) continue;
            var message = JsonNode.Parse(line)!.AsObject();
            switch ((string?)message["type"])
            {
                case "task":
                    var task = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    running[(int)message["id"]!] = task;
                    inFlight.Add(Answer(message, tasks, Send, task, running));
                    break;
                case "cancel":
                    await CancelTaskAsync(running, (int)message["id"]!);
                    break;
                case "event":
                    var evt = ToEvent(message["event"]!.AsObject());
                    history.Add(evt);
                    onEvent?.Invoke(evt);
                    break;
                case "end":
                    await Task.WhenAll(inFlight);
                    return await EndAsync(process, message, history);
            }
        }
        await process.WaitForExitAsync(CancellationToken.None);
        throw new InvalidOperationException($"The state machine runner exited ({process.ExitCode}) without a result: {await stderr}");
    }

    private Process StartNode()
    {
        var startInfo = new ProcessStartInfo(node.NodeExecutable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(node.RunnerScript);
        startInfo.ArgumentList.Add(node.ModulesDirectory);
        return Process.Start(startInfo) ?? throw new InvalidOperationException("node did not start");
    }

    /// <summary>The definition, input and context object (as Step Functions fills <c>$$</c>) node starts the execution with.</summary>
    private static JsonObject StartMessage(ExecutionRequest request)
    {
        var startTime = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
        return new JsonObject
        {
            ["type"] = "start",
            ["definition"] = JsonNode.Parse(request.Definition),
            ["input"] = request.Input?.DeepClone(),
            ["context"] = new JsonObject
            {
                ["Execution"] = new JsonObject
                {
                    ["Id"] = request.ExecutionArn,
                    ["Name"] = request.ExecutionName,
                    ["StartTime"] = startTime,
                    ["Input"] = request.Input?.DeepClone(),
                    ["RoleArn"] = $"arn:aws:iam::{request.Account}:role/local-state-machine",
                    ["RedriveCount"] = request.RedriveCount,
                },
                ["StateMachine"] = new JsonObject { ["Id"] = request.StateMachineArn, ["Name"] = request.StateMachineName },
            },
            ["startAt"] = request.StartAt,
            ["retryIntervalOverrides"] = request.RetryIntervalOverridesMs is null ? new JsonObject()
                : JsonSerializer.SerializeToNode(request.RetryIntervalOverridesMs.ToDictionary(p => p.Key, p => p.Value), LocalJsonContext.Default.DictionaryStringInt32),
        };
    }

    private static async Task CancelTaskAsync(ConcurrentDictionary<int, CancellationTokenSource> running, int id)
    {
        if (running.TryRemove(id, out var abandoned))
        {
            try { await abandoned.CancelAsync(); }
            catch (ObjectDisposedException) { } // it finished meanwhile
        }
    }

    /// <summary>The execution's result, with node's peak memory and CPU time read before it exits.</summary>
    private static async Task<ExecutionResult> EndAsync(Process process, JsonObject message, List<ExecutionEvent> history)
    {
        var peak = PeakResidentBytes(process.Id);
        var cpu = CpuTime(process);
        process.StandardInput.Close();
        await process.WaitForExitAsync(CancellationToken.None);
        return new ExecutionResult((string)message["status"]!, message["output"]?.DeepClone(),
            Text(message["error"]), Text(message["cause"]), history, peak, cpu);
    }

    private static async Task Answer(JsonObject message, ITaskHandler tasks, Func<JsonObject, Task> send,
        CancellationTokenSource cancellation, ConcurrentDictionary<int, CancellationTokenSource> running)
    {
        var id = (int)message["id"]!;
        var invocation = new TaskInvocation((string)message["state"]!, (string)message["resource"]!, message["input"]?.DeepClone());
        JsonObject reply;
        try
        {
            var output = await tasks.HandleAsync(invocation, cancellation.Token);
            reply = new JsonObject { ["type"] = "result", ["id"] = id, ["output"] = output };
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            return; // node has given up on this task already
        }
        catch (TaskFailure failure)
        {
            reply = new JsonObject { ["type"] = "error", ["id"] = id, ["error"] = failure.Error, ["cause"] = failure.Cause };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // An adapter bug still fails the state visibly, under a name no Retry matches by accident.
            reply = new JsonObject { ["type"] = "error", ["id"] = id, ["error"] = "Local.AdapterError", ["cause"] = $"{e.GetType().Name}: {e.Message}" };
        }
        finally
        {
            running.TryRemove(id, out _);
            cancellation.Dispose();
        }
        await send(reply);
    }

    private static long? PeakResidentBytes(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status)) return null;
        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }

    private static TimeSpan? CpuTime(Process process)
    {
        try
        {
            return process.TotalProcessorTime;
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    // The interpreter reports some errors' causes as objects; keep them as JSON text.
    private static string? Text(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    private static ExecutionEvent ToEvent(JsonObject e)
    {
        var state = e["state"] as JsonObject;
        var timestamp = e["timestamp"] is JsonValue t && t.TryGetValue(out long ms) ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : DateTimeOffset.UtcNow;
        return new ExecutionEvent((string)e["type"]!, timestamp, (string?)state?["name"], (string?)state?["type"],
            state?["input"]?.DeepClone(), state?["output"]?.DeepClone() ?? e["output"]?.DeepClone(),
            Text(e["Error"]), Text(e["Cause"]), e.DeepClone());
    }
}
