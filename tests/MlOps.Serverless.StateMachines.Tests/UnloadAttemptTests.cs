using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Local.Runner;

namespace MlOps.Serverless.StateMachines.Tests;

/// <summary>
/// Redrive of a half-written UNLOAD: every UNLOAD writes the folder of its attempt (<c>$$.Execution.RedriveCount</c>) and
/// records that attempt in the state data; every reader (SageMaker channels, transforms, SQL over the Glue tables) uses
/// the recorded attempt, never the bare prefix. Read from the definition and the SQL templates as deployed.
/// </summary>
public sealed partial class UnloadAttemptTests
{
    private static readonly JsonObject Definition = JsonNode.Parse(DefinitionFile.LoadTemplate())!.AsObject();

    private static IReadOnlyList<SqlQuery> UnloadQueries { get; } =
        Enum.GetValues<SqlQuery>().Where(q => SqlTemplates.Source(q).Contains("UNLOAD (", StringComparison.Ordinal)).ToList();

    public static TheoryData<SqlQuery> Unloads() => [.. UnloadQueries];

    [GeneratedRegex(@"\) TO '\{\{(?<uri>[a-z_]+)\}\}(?<rest>[^']*)'")]
    private static partial Regex UnloadTarget();

    [GeneratedRegex(@"(?:FROM|JOIN) (?<table>[a-z_]+)(?: (?<alias>[a-z]))?\b")]
    private static partial Regex TableReference();

    [GeneratedRegex(@"(?:WITH|,) (?<name>[a-z_]+) AS \(")]
    private static partial Regex CommonTable();

    private static string Member(string outputPath) => outputPath["$.run.output.".Length..];

    [Theory]
    [MemberData(nameof(Unloads))]
    public void Every_unload_writes_the_folder_of_its_attempt(SqlQuery query)
    {
        var target = UnloadTarget().Match(SqlTemplates.Compact(SqlTemplates.Source(query)));

        Assert.True(target.Success, $"{query}: no UNLOAD ... TO '{{{{token}}}}...'");
        Assert.Equal("r{{redrive_count}}/", target.Groups["rest"].Value);
        Assert.Equal("$$.Execution.RedriveCount", SqlTemplates.TokenPaths["redrive_count"]);
        Assert.Contains(Member(SqlTemplates.TokenPaths[target.Groups["uri"].Value]), OutputLocations.UnloadAttemptPaths.Keys);
        Assert.Equal("s3://w/runs/x/train/r3/", OutputLocations.AttemptUri(OutputLocations.For("w", "a", "x").TrainUri, 3));
    }

    [Fact]
    public void Every_unload_stage_is_written_by_one_query_and_recorded_by_its_state_at_its_attempt_path()
    {
        var writers = UnloadQueries.ToDictionary(
            q => Member(SqlTemplates.TokenPaths[UnloadTarget().Match(SqlTemplates.Compact(SqlTemplates.Source(q))).Groups["uri"].Value]));
        Assert.Equal(OutputLocations.UnloadAttemptPaths.Keys.Order(), writers.Keys.Order());

        foreach (var (member, query) in writers)
        {
            var (state, recordedAt) = RecordingState(query);
            Assert.Equal("$$.Execution.RedriveCount", (string?)state["ResultSelector"]?["attempt.$"]);
            Assert.Equal(OutputLocations.UnloadAttemptPaths[member], recordedAt + ".attempt");
        }
    }

    [Fact]
    public void Every_reader_of_an_unload_prefix_in_the_definition_formats_it_with_the_recorded_attempt()
    {
        var readers = 0;
        foreach (var value in Strings(Definition))
        {
            foreach (Match m in Regex.Matches(value, @"\$\.run\.output\.(?<member>\w+)"))
            {
                var member = m.Groups["member"].Value;
                if (!OutputLocations.UnloadAttemptPaths.TryGetValue(member, out var attemptPath)) continue;
                Assert.Equal($"States.Format('{{}}r{{}}/', $.run.output.{member}, {attemptPath})", value);
                readers++;
            }
        }
        // Tuning and single training read train and validation; three transforms read test or forecast features.
        Assert.Equal(7, readers);
    }

    [Fact]
    public void Every_query_reading_an_unloaded_table_filters_the_attempt_its_writer_recorded()
    {
        var attemptTables = DataCatalog.Tables.Where(t => t.ProjectionKeys.Contains(DataCatalog.AttemptKey)).ToList();
        var layout = OutputLocations.For("work", "artifacts", "${run_id}");
        var members = typeof(OutputLocations).GetProperties().Where(p => p.PropertyType == typeof(string))
            .ToDictionary(p => char.ToLowerInvariant(p.Name[0]) + p.Name[1..], p => (string)p.GetValue(layout)!);

        // The Glue tables over UNLOAD output: the stage prefix and then the attempt's folder, as the UNLOAD writes it.
        var tableWriters = new Dictionary<string, string>();
        foreach (var member in OutputLocations.UnloadAttemptPaths.Keys)
        {
            var table = DataCatalog.Tables.SingleOrDefault(t => t.LocationTemplate("work").StartsWith(members[member], StringComparison.Ordinal));
            if (table is null) continue; // train, validation, test and forecast features: SageMaker reads them, no table
            Assert.Equal(members[member] + "r${" + DataCatalog.AttemptKey + "}/", table.LocationTemplate("work"));
            tableWriters[table.Name] = member;
        }
        Assert.Equal(attemptTables.Select(t => t.Name).Order(), tableWriters.Keys.Order());

        var filtered = 0;
        foreach (var query in Enum.GetValues<SqlQuery>())
        {
            var sql = SqlTemplates.Compact(SqlTemplates.Source(query));
            var commonTables = CommonTable().Matches(sql).Select(m => m.Groups["name"].Value).ToHashSet();
            foreach (Match reference in TableReference().Matches(sql))
            {
                if (commonTables.Contains(reference.Groups["table"].Value)) continue; // a WITH query of that name, not the table
                if (!tableWriters.TryGetValue(reference.Groups["table"].Value, out var member)) continue;
                var column = (reference.Groups["alias"].Success ? reference.Groups["alias"].Value + "." : "") + DataCatalog.AttemptKey;
                var filter = Regex.Match(sql, $@"WHERE [^()]*\b{Regex.Escape(column)} = '\{{\{{(?<token>[a-z_]+)\}}\}}'");
                Assert.True(filter.Success, $"{query} reads {reference.Value} without a static equality on {column} in WHERE");
                Assert.Equal(OutputLocations.UnloadAttemptPaths[member], SqlTemplates.TokenPaths[filter.Groups["token"].Value]);
                filtered++;
            }
        }
        // Five splits and the forecast read features; the evaluation reads test labels.
        Assert.Equal(7, filtered);
    }

    /// <summary>The Task state whose query is <paramref name="query"/>, and where its result is recorded: its ResultPath, or,
    /// inside a Parallel branch, the Parallel's ResultPath and the ResultSelector key that picks that branch's output.</summary>
    private static (JsonObject State, string RecordedAt) RecordingState(SqlQuery query)
    {
        var marker = $"'${{{query}Sql}}'";
        foreach (var (name, node) in Definition["States"]!.AsObject())
        {
            var state = node!.AsObject();
            if (Uses(state, marker)) return (state, (string)state["ResultPath"]!);
            if ((string?)state["Type"] != "Parallel") continue;
            var branches = state["Branches"]!.AsArray();
            for (var i = 0; i < branches.Count; i++)
            {
                var inner = branches[i]!["States"]!.AsObject().Select(p => p.Value!.AsObject()).SingleOrDefault(s => Uses(s, marker));
                if (inner is null) continue;
                Assert.Null(inner["ResultPath"]); // the branch's output is its result
                var key = state["ResultSelector"]!.AsObject().Single(p => (string?)p.Value == $"$[{i}]").Key;
                return (inner, (string)state["ResultPath"]! + "." + key[..^2]);
            }
        }
        throw new Xunit.Sdk.XunitException($"No state runs {query}.");
    }

    private static bool Uses(JsonObject state, string marker) =>
        (string?)state["Parameters"]?["QueryString.$"] is { } sql && sql.Contains(marker, StringComparison.Ordinal);

    private static IEnumerable<string> Strings(JsonNode? node) => node switch
    {
        JsonObject o => o.SelectMany(p => Strings(p.Value)),
        JsonArray a => a.SelectMany(Strings),
        JsonValue v when v.TryGetValue<string>(out var s) => [s],
        _ => [],
    };
}
