using System.Text;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Configuration;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.SageMaker;
using MlOps.Serverless.Core.StateMachines;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Data.Tests.Catalog;

public class SqlTemplatesTests
{
    public static TheoryData<SqlQuery> Queries() => [.. Enum.GetValues<SqlQuery>()];

    private static RunRequest SampleRun() => new(
        "run-42", "arn:aws:states:us-east-1:000000000000:execution:retraining:run-42", TriggerKind.Manual, DateTimeOffset.UnixEpoch,
        new DataLocation("raw-bucket", "incoming/b-1/", "b-1", [new StoredObject("incoming/b-1/sales/x.csv", 10, "\"e\"", null)], "fp"),
        PipelineConfiguration.Defaults with { Split = new SplitSettings { TestWeeks = 13, ValidationWeeks = 20 } },
        OutputLocations.For("work-bucket", "artifact-bucket", "run-42"),
        SageMakerParameters.From(PipelineConfiguration.Defaults, "us-east-1", "run-42"));


    [Theory]
    [MemberData(nameof(Queries))]
    public void Partitions_are_filtered_by_static_equalities_in_where_never_in_a_join_condition(SqlQuery query)
    {
        // Athena prunes an injected partition on a static equality in WHERE; in an ON clause it may read every partition.
        var joins = System.Text.RegularExpressions.Regex.Matches(SqlTemplates.Source(query), @"\bJOIN\b[^\n]*\bON\b(?<on>[^\n]*)");
        Assert.All(joins, j => Assert.DoesNotContain("run_id", j.Groups["on"].Value));
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public void States_format_of_the_escaped_template_gives_exactly_the_rendered_sql(SqlQuery query)
    {
        var run = SampleRun();
        var template = SqlTemplates.ForStatesFormat(query);
        var input = SqlTemplates.StateInput(run);
        var context = new JsonObject { ["Execution"] = new JsonObject { ["RedriveCount"] = 0 } };
        var args = template.ArgumentPaths.Length == 0 ? [] : template.ArgumentPaths.Split(", ").Select(p => StatesFormat.Resolve(input, context, p)).ToArray();

        var formatted = StatesFormat.Evaluate(template.EscapedTemplate, args);

        Assert.Equal(SqlTemplates.Render(query, SqlTemplates.TokenValues(run)), formatted);
    }

    [Theory]
    [MemberData(nameof(Queries))]
    public void Rendered_sql_has_no_tokens_or_comments_left_and_is_recognised(SqlQuery query)
    {
        var sql = SqlTemplates.Render(query, SqlTemplates.TokenValues(SampleRun()));

        Assert.DoesNotContain("{{", sql);
        Assert.DoesNotContain("--", sql);
        Assert.DoesNotContain("\n", sql);
        Assert.Equal(query, SqlTemplates.Identify(sql));
    }

    [Fact]
    public void Argument_paths_follow_token_occurrence_order()
    {
        var template = SqlTemplates.ForStatesFormat(SqlQuery.SplitTrain);

        Assert.Equal("$.run.config.training.instanceCount, $.run.runId, $.features.attempt, $.run.output.trainUri, $$.Execution.RedriveCount", template.ArgumentPaths);
        Assert.Contains("run_id = \\'{}\\'", template.EscapedTemplate);
    }

    [Fact]
    public void Features_query_reads_the_split_sizes_from_the_run_configuration()
    {
        var paths = SqlTemplates.ForStatesFormat(SqlQuery.Features).ArgumentPaths.Split(", ");

        Assert.Contains("$.run.config.split.testWeeks", paths);
        Assert.Contains("$.run.config.split.validationWeeks", paths);
        Assert.Equal("13", SqlTemplates.TokenValues(SampleRun())["test_weeks"]);
        Assert.Equal("s3://work-bucket/runs/run-42/features/", SqlTemplates.TokenValues(SampleRun())["features_uri"]);
    }

    [Fact]
    public void Split_queries_write_the_catalog_feature_columns_in_order()
    {
        var columns = string.Join(", ", DataCatalog.FeatureColumns.Select(c => "\"" + c.Name + "\""));

        // Train and validation: label, the instance weight (csv_weights=1), then the features; the last column is the
        // partition (shard) column, which Athena writes as the folder, not into the files.
        foreach (var split in new[] { SqlQuery.SplitTrain, SqlQuery.SplitValidation })
        {
            var sql = SqlTemplates.Render(split, SqlTemplates.TokenValues(SampleRun()));
            Assert.Contains("SELECT label, weight, " + columns + ", ", sql);
            Assert.Matches(@"% 1 AS shard FROM .* partitioned_by = ARRAY\['shard'\]\)$", sql);
        }
        Assert.Contains("SELECT record_id, " + columns + " FROM", SqlTemplates.Render(SqlQuery.SplitTestFeatures, SqlTemplates.TokenValues(SampleRun())));
    }

    [Fact]
    public void Compact_strips_comments_but_not_double_dashes_inside_string_literals()
    {
        var compact = SqlTemplates.Compact("SELECT '--x' AS a, -- comment\n  'it''s' AS b -- tail");

        Assert.Equal("SELECT '--x' AS a, 'it''s' AS b", compact);
    }

    [Fact]
    public void Ad_hoc_sql_is_not_identified_as_a_template() => Assert.Null(SqlTemplates.Identify("SELECT 1"));

    [Fact]
    public void File_names_follow_the_query_names()
    {
        Assert.Equal("split_test_labels.sql", SqlTemplates.FileName(SqlQuery.SplitTestLabels));
        Assert.Equal("quality.sql", SqlTemplates.FileName(SqlQuery.Quality));
    }
}

/// <summary>The States.Format intrinsic as Step Functions evaluates it: backslash escapes the next character,
/// each <c>{}</c> takes the next argument (strings as is, numbers as JSON text).</summary>
internal static class StatesFormat
{
    public static string Evaluate(string template, IReadOnlyList<string> args)
    {
        var result = new StringBuilder();
        var next = 0;
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if (c == '\\')
            {
                result.Append(template[++i]);
            }
            else if (c == '{')
            {
                if (template[i + 1] != '}') throw new FormatException($"Unescaped '{{' at {i}");
                result.Append(args[next++]);
                i++;
            }
            else if (c is '}' or '\'')
            {
                throw new FormatException($"Unescaped '{c}' at {i}: the intrinsic's string literal would end or break here.");
            }
            else
            {
                result.Append(c);
            }
        }
        if (next != args.Count) throw new FormatException($"{args.Count} arguments for {next} placeholders.");
        return result.ToString();
    }

    public static string Resolve(JsonNode input, JsonNode context, string path)
    {
        var node = (path.StartsWith("$$.", StringComparison.Ordinal) ? StatePath.Select(context, path[1..]) : StatePath.Select(input, path))
            ?? throw new KeyNotFoundException(path);
        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : node.ToJsonString();
    }
}
