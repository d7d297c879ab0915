using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Local.Adapters;

namespace MlOps.Serverless.Local.Athena;

/// <summary>
/// Athena's Step Functions integrations on DuckDB: <c>startQueryExecution(.sync)</c> runs the query and returns
/// GetQueryExecution's shape; <c>getQueryResults</c> pages the kept result (the column names are the first row,
/// as Athena returns them for SELECT). Results are also written as CSV under the output location, like Athena.
/// A failed query is <c>States.TaskFailed</c> whose cause is the FAILED GetQueryExecution JSON, with a
/// StateChangeReason naming the query (by its SQL file) and the problem.
/// </summary>
public sealed class LocalAthenaAdapter : ILocalServiceAdapter, IDisposable
{
    public const string StartQuerySync = "arn:aws:states:::athena:startQueryExecution.sync";
    public const string StartQuery = "arn:aws:states:::athena:startQueryExecution";
    public const string GetQueryResults = "arn:aws:states:::athena:getQueryResults";
    private const int MaxPage = 1000;

    private readonly DuckDbAthenaEngine _engine;
    private readonly ConcurrentDictionary<string, (JsonObject Execution, QueryResult? Result)> _executions = new();

    /// <param name="s3Root">The local S3 folder: <c>s3://bucket/key</c> is <c>{s3Root}/bucket/key</c>.</param>
    /// <param name="rawBucket">The raw-data bucket name (uploads under <c>incoming/{batchId}/</c>).</param>
    /// <param name="workBucket">The work bucket name (run outputs under <c>runs/{runId}/</c>, default query results).</param>
    /// <param name="tables">The Glue catalog to expose as views; <see cref="DataCatalog.Tables"/> by default.</param>
    public LocalAthenaAdapter(string s3Root, string rawBucket, string workBucket, IReadOnlyList<TableDefinition>? tables = null)
    {
        _engine = new DuckDbAthenaEngine(s3Root, new LocalBuckets(rawBucket, workBucket), tables);
        WorkBucket = workBucket;
    }

    public string WorkBucket { get; }

    public bool CanHandle(string resource) => resource is StartQuerySync or StartQuery or GetQueryResults;

    public Task<JsonNode?> InvokeAsync(string resource, JsonNode? input, CancellationToken cancellationToken) => resource switch
    {
        StartQuerySync => Task.FromResult<JsonNode?>(Start(input, sync: true)),
        StartQuery => Task.FromResult<JsonNode?>(Start(input, sync: false)),
        GetQueryResults => Task.FromResult<JsonNode?>(Results(input)),
        _ => throw new TaskFailure("States.Runtime", $"The local Athena adapter does not handle {resource}."),
    };

    private JsonObject Start(JsonNode? input, bool sync)
    {
        var sql = input?["QueryString"]?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(sql))
            throw new TaskFailure("Athena.InvalidRequestException", "QueryString is required and must not be empty.");
        var workGroup = input?["WorkGroup"]?.GetValue<string>() ?? "primary";
        var database = input?["QueryExecutionContext"]?["Database"]?.GetValue<string>();
        var outputRoot = input?["ResultConfiguration"]?["OutputLocation"]?.GetValue<string>() ?? $"s3://{WorkBucket}/athena-results/";
        var id = Guid.NewGuid().ToString();
        var output = outputRoot.TrimEnd('/') + "/" + id + ".csv";
        var submitted = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();

        QueryResult? result = null;
        string? failure = null, errorType = null;
        try
        {
            // Queries may run concurrently (Parallel branches), each on its own connection to the one database.
            result = _engine.Run(sql);
            if (result.StatementType == "DML" && result.Columns.Count > 0) WriteResultCsv(output, result);
        }
        catch (LocalQueryFailed e)
        {
            failure = e.Reason;
            errorType = e.ErrorType;
        }

        var status = QueryStatus(sql, submitted, failure, errorType);
        var execution = new JsonObject
        {
            ["QueryExecutionId"] = id,
            ["Query"] = sql,
            ["StatementType"] = result?.StatementType ?? "DML",
            ["ResultConfiguration"] = new JsonObject { ["OutputLocation"] = output },
            ["QueryExecutionContext"] = database is null ? new JsonObject() : new JsonObject { ["Database"] = database },
            ["Status"] = status,
            ["Statistics"] = new JsonObject
            {
                ["EngineExecutionTimeInMillis"] = clock.ElapsedMilliseconds,
                ["TotalExecutionTimeInMillis"] = clock.ElapsedMilliseconds,
                ["DataScannedInBytes"] = 0,
            },
            ["WorkGroup"] = workGroup,
        };
        _executions[id] = (execution, result);
        var response = new JsonObject { ["QueryExecution"] = execution.DeepClone() };
        if (failure is not null) throw new TaskFailure("States.TaskFailed", response.ToJsonString());
        return sync ? response : new JsonObject { ["QueryExecutionId"] = id };
    }

    /// <summary>The execution's Status; a failure names the query (its SQL file) and carries Athena's USER error fields.</summary>
    private static JsonObject QueryStatus(string sql, DateTimeOffset submitted, string? failure, string? errorType)
    {
        var name = SqlTemplates.Identify(sql) is { } query ? $"{query} ({SqlTemplates.FileName(query)})" : "ad-hoc query";
        var status = new JsonObject
        {
            ["State"] = failure is null ? "SUCCEEDED" : "FAILED",
            ["SubmissionDateTime"] = submitted.ToString("O", CultureInfo.InvariantCulture),
            ["CompletionDateTime"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        if (failure is not null)
        {
            status["StateChangeReason"] = $"{name} failed on the local Athena engine (DuckDB): {failure}";
            status["AthenaError"] = new JsonObject
            {
                ["ErrorCategory"] = 2, // USER
                ["ErrorType"] = 1000,
                ["Retryable"] = false,
                ["ErrorMessage"] = $"{errorType}: {failure}",
            };
        }
        return status;
    }

    private JsonObject Results(JsonNode? input)
    {
        var id = input?["QueryExecutionId"]?.GetValue<string>() ?? "";
        if (!_executions.TryGetValue(id, out var entry))
            throw new TaskFailure("Athena.InvalidRequestException", $"QueryExecution {id} was not found.");
        if (entry.Result is null)
            throw new TaskFailure("Athena.InvalidRequestException", $"Query has not yet finished or failed. QueryExecution {id} has state FAILED.");
        var result = entry.Result;
        var max = Math.Clamp(input?["MaxResults"]?.GetValue<int>() ?? MaxPage, 1, MaxPage);
        var offset = input?["NextToken"]?.GetValue<string>() is { } token && int.TryParse(token, CultureInfo.InvariantCulture, out var o) ? o : 0;

        // Row 0 is the header for SELECT results, then the data rows.
        var all = result.Columns.Count == 0 ? 0 : result.Rows.Count + 1;
        var rows = new JsonArray();
        for (var i = offset; i < Math.Min(all, offset + max); i++)
        {
            var values = i == 0 ? result.Columns.Select(c => (string?)c.Name) : result.Rows[i - 1];
            rows.Add(new JsonObject
            {
                ["Data"] = new JsonArray(values.Select(v => (JsonNode)(v is null ? new JsonObject() : new JsonObject { ["VarCharValue"] = v })).ToArray()),
            });
        }
        var columns = new JsonArray(result.Columns.Select(c => (JsonNode)new JsonObject
        {
            ["CatalogName"] = "hive", ["SchemaName"] = "", ["TableName"] = "", ["Name"] = c.Name, ["Label"] = c.Name,
            ["Type"] = c.Type, ["Precision"] = 0, ["Scale"] = 0, ["Nullable"] = "UNKNOWN", ["CaseSensitive"] = c.Type == "varchar",
        }).ToArray());
        var response = new JsonObject
        {
            ["UpdateCount"] = 0,
            ["ResultSet"] = new JsonObject { ["Rows"] = rows, ["ResultSetMetadata"] = new JsonObject { ["ColumnInfo"] = columns } },
        };
        if (offset + max < all) response["NextToken"] = (offset + max).ToString(CultureInfo.InvariantCulture);
        return response;
    }

    private void WriteResultCsv(string outputUri, QueryResult result)
    {
        var path = _engine.LocalPath(outputUri);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var writer = new StreamWriter(path);
        DuckDbAthenaEngine.WriteCsv(result, writer);
    }

    public void Dispose() => _engine.Dispose();
}
