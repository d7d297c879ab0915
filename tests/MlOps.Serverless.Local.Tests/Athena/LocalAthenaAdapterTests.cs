using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.Athena;
using Catalog = MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Local.Tests.Athena;

public sealed class LocalAthenaAdapterTests : IDisposable
{
    private readonly Workspace _workspace = new();
    private LocalAthenaAdapter Athena => _workspace.Stages.Athena;

    public void Dispose() => _workspace.Dispose();

    private async Task<JsonNode> Start(string sql) =>
        (await Athena.InvokeAsync(LocalAthenaAdapter.StartQuerySync, new JsonObject
        {
            ["QueryString"] = sql,
            ["WorkGroup"] = "wg",
            ["QueryExecutionContext"] = new JsonObject { ["Database"] = "db" },
            ["ResultConfiguration"] = new JsonObject { ["OutputLocation"] = "s3://mlops-work/results/" },
        }, CancellationToken.None))!;

    [Fact]
    public void Claims_the_athena_integrations_only()
    {
        Assert.True(Athena.CanHandle("arn:aws:states:::athena:startQueryExecution.sync"));
        Assert.True(Athena.CanHandle("arn:aws:states:::athena:getQueryResults"));
        Assert.False(Athena.CanHandle("arn:aws:states:::sagemaker:createTrainingJob.sync"));
    }

    [Fact]
    public async Task Start_returns_the_get_query_execution_shape_and_writes_the_result_csv()
    {
        var execution = (await Start("SELECT 1 AS a, 'x' AS b"))["QueryExecution"]!;

        Assert.Equal("SUCCEEDED", execution["Status"]!["State"]!.GetValue<string>());
        Assert.Equal("wg", execution["WorkGroup"]!.GetValue<string>());
        var output = execution["ResultConfiguration"]!["OutputLocation"]!.GetValue<string>();
        Assert.StartsWith("s3://mlops-work/results/", output);
        Assert.Equal("\"a\",\"b\"\n\"1\",\"x\"\n", await File.ReadAllTextAsync(_workspace.PathOf(output)));
    }

    [Fact]
    public async Task Results_start_with_the_column_names_and_nulls_have_no_value()
    {
        var id = (await Start("SELECT 1.5 AS a, CAST(NULL AS varchar) AS b"))["QueryExecution"]!["QueryExecutionId"]!.GetValue<string>();

        var page = (await Athena.InvokeAsync(LocalAthenaAdapter.GetQueryResults, new JsonObject { ["QueryExecutionId"] = id }, CancellationToken.None))!;

        var rows = page["ResultSet"]!["Rows"]!.AsArray();
        Assert.Equal("""{"Data":[{"VarCharValue":"a"},{"VarCharValue":"b"}]}""", rows[0]!.ToJsonString());
        Assert.Equal("""{"Data":[{"VarCharValue":"1.5"},{}]}""", rows[1]!.ToJsonString());
        Assert.Equal("b", page["ResultSet"]!["ResultSetMetadata"]!["ColumnInfo"]![1]!["Name"]!.GetValue<string>());
        Assert.Null(page["NextToken"]);
    }

    [Fact]
    public async Task Results_are_paged_with_next_token()
    {
        var id = (await Start("SELECT * FROM range(5) t(i)"))["QueryExecution"]!["QueryExecutionId"]!.GetValue<string>();

        var first = (await Athena.InvokeAsync(LocalAthenaAdapter.GetQueryResults, new JsonObject { ["QueryExecutionId"] = id, ["MaxResults"] = 4 }, CancellationToken.None))!;
        var second = (await Athena.InvokeAsync(LocalAthenaAdapter.GetQueryResults,
            new JsonObject { ["QueryExecutionId"] = id, ["MaxResults"] = 4, ["NextToken"] = first["NextToken"]!.GetValue<string>() }, CancellationToken.None))!;

        Assert.Equal(4, first["ResultSet"]!["Rows"]!.AsArray().Count);
        Assert.Equal(2, second["ResultSet"]!["Rows"]!.AsArray().Count);
        Assert.Null(second["NextToken"]);
    }

    [Fact]
    public async Task A_failing_query_is_a_task_failure_naming_the_query_and_the_problem()
    {
        var run = await _workspace.UploadAsync("b", new Dictionary<Catalog.RawDataset, byte[]?> { [Catalog.RawDatasets.Stores] = "Store,Type,Size\r\n1,A,2"u8.ToArray() });
        var sql = Catalog.SqlTemplates.Render(Catalog.SqlQuery.Evaluation, Catalog.SqlTemplates.TokenValues(run)).Replace("test_labels l", "no_such_table l");

        var failure = await Assert.ThrowsAsync<TaskFailure>(() => Start(sql));

        Assert.Equal("States.TaskFailed", failure.Error);
        var cause = JsonNode.Parse(failure.Cause)!["QueryExecution"]!;
        Assert.Equal("FAILED", cause["Status"]!["State"]!.GetValue<string>());
        var reason = cause["Status"]!["StateChangeReason"]!.GetValue<string>();
        Assert.StartsWith("ad-hoc query failed on the local Athena engine (DuckDB): Catalog Error: Table with name no_such_table does not exist", reason);
    }

    [Fact]
    public async Task A_failing_template_query_is_named_by_its_file()
    {
        var run = await _workspace.UploadAsync("b", new Dictionary<Catalog.RawDataset, byte[]?> { [Catalog.RawDatasets.Stores] = "Store,Type,Size\r\n1,A,2"u8.ToArray() });
        var sql = Catalog.SqlTemplates.Render(Catalog.SqlQuery.SplitTestLabels, Catalog.SqlTemplates.TokenValues(run));

        // No features were written for this run, so the split reads an empty table: that succeeds, like Athena
        // (an unpartitioned UNLOAD still writes its one, empty, file).
        await Start(sql);
        // Writing the same prefix again is refused, as Athena's UNLOAD refuses a non-empty target.
        var failure = await Assert.ThrowsAsync<TaskFailure>(() => Start(sql));

        var reason = JsonNode.Parse(failure.Cause)!["QueryExecution"]!["Status"]!["StateChangeReason"]!.GetValue<string>();
        Assert.StartsWith("SplitTestLabels (split_test_labels.sql) failed on the local Athena engine (DuckDB): HIVE_PATH_ALREADY_EXISTS", reason);
    }

    [Fact]
    public async Task Unknown_query_ids_are_an_invalid_request()
    {
        var failure = await Assert.ThrowsAsync<TaskFailure>(() =>
            Athena.InvokeAsync(LocalAthenaAdapter.GetQueryResults, new JsonObject { ["QueryExecutionId"] = "nope" }, CancellationToken.None));

        Assert.Equal("Athena.InvalidRequestException", failure.Error);
    }

    [Fact]
    public async Task Raw_tables_are_strings_with_the_header_skipped_and_the_crlf_cr_kept_on_the_last_field()
    {
        var run = await _workspace.UploadAsync("crlf", new Dictionary<Catalog.RawDataset, byte[]?>
        {
            [Catalog.RawDatasets.Stores] = "Store,Type,Size\r\n1,A,151315\r\n2,NA,2"u8.ToArray(),
        });
        var id = (await Start($"SELECT store, type, size, length(size) AS n FROM raw_stores WHERE run_id = '{run.RunId}' ORDER BY store"))["QueryExecution"]!["QueryExecutionId"]!.GetValue<string>();

        var page = (await Athena.InvokeAsync(LocalAthenaAdapter.GetQueryResults, new JsonObject { ["QueryExecutionId"] = id }, CancellationToken.None))!;

        var rows = page["ResultSet"]!["Rows"]!.AsArray().Skip(1).Select(r => r!["Data"]!.AsArray().Select(d => d!["VarCharValue"]?.GetValue<string>() ?? "<null>").ToList()).ToList();
        Assert.Equal(["1", "A", "151315\r", "7"], rows[0]);
        // NA stays a string. (The local view also puts the CR on a last line without line break: the SQL strips it either way.)
        Assert.Equal(["2", "NA"], rows[1].Take(2));
        Assert.Equal("varchar", page["ResultSet"]!["ResultSetMetadata"]!["ColumnInfo"]![2]!["Type"]!.GetValue<string>());
    }

    [Fact]
    public void Profile_reports_where_an_unload_query_spends_its_time()
    {
        using var engine = new DuckDbAthenaEngine(Path.Combine(_workspace.Root, "s3"), new LocalBuckets("mlops-raw", "mlops-work"));

        var profile = engine.Profile("UNLOAD (SELECT count(*) AS n FROM raw_sales WHERE run_id = 'x') TO 's3://mlops-work/p/' WITH (format = 'PARQUET')");

        Assert.Contains("Total Time", profile);
        Assert.False(Directory.Exists(_workspace.PathOf("s3://mlops-work/p/")));
    }
}
