using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MlOps.Serverless.Core.Json;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Core.StateMachines;

namespace MlOps.Serverless.Data.Catalog;

/// <summary>The SQL statements of the data stages; the name is the file (and the <c>${NameSql}</c> substitution).</summary>
public enum SqlQuery
{
    Quality,
    Features,
    SplitTrain,
    SplitValidation,
    SplitTestFeatures,
    SplitTestLabels,
    SplitForecastFeatures,
    Evaluation,
    ForecastSales,
}

/// <summary>A template ready for <c>States.Format('{EscapedTemplate}', {ArgumentPaths})</c>.</summary>
public sealed record StatesFormatTemplate(string EscapedTemplate, string ArgumentPaths);

/// <summary>
/// The Athena-dialect SQL files (embedded resources) and their named tokens <c>{{token}}</c>. Each run-time token
/// maps to a JSONPath of the state machine's input; <c>{{feature_columns}}</c> is expanded at build time from
/// <see cref="DataCatalog.FeatureColumns"/> so the CSV layout and the Glue schema share one list.
/// </summary>
public static partial class SqlTemplates
{
    /// <summary>Run-time tokens and where the state machine finds their values.</summary>
    public static IReadOnlyDictionary<string, string> TokenPaths { get; } = new Dictionary<string, string>
    {
        ["batch_id"] = "$.run.data.batchId",
        ["run_id"] = "$.run.runId",
        ["test_weeks"] = "$.run.config.split.testWeeks",
        ["validation_weeks"] = "$.run.config.split.validationWeeks",
        ["shards"] = "$.run.config.training.instanceCount",
        ["quality_uri"] = "$.run.output.qualityUri",
        ["features_uri"] = "$.run.output.featuresUri",
        ["train_uri"] = "$.run.output.trainUri",
        ["validation_uri"] = "$.run.output.validationUri",
        ["test_features_uri"] = "$.run.output.testFeaturesUri",
        ["test_labels_uri"] = "$.run.output.testLabelsUri",
        ["forecast_features_uri"] = "$.run.output.forecastFeaturesUri",
        ["predictions_uri"] = "$.run.output.predictionsUri",
        ["evaluation_uri"] = "$.run.output.evaluationUri",
        ["forecast_sales_uri"] = "$.run.output.forecastSalesUri",
        // An UNLOAD writes into its attempt's folder; a reader filters the attempt its producer recorded.
        ["redrive_count"] = "$$.Execution.RedriveCount",
        ["features_attempt"] = OutputLocations.UnloadAttemptPaths["featuresUri"],
        ["test_labels_attempt"] = OutputLocations.UnloadAttemptPaths["testLabelsUri"],
    };

    /// <summary>
    /// The token values for one state input and context object, read through the same JSONPaths the state machine's
    /// <c>States.Format</c> arguments use (<c>$.</c> the input, <c>$$.</c> the context), so a local run renders exactly
    /// what Athena receives.
    /// </summary>
    public static IReadOnlyDictionary<string, string> TokenValues(JsonNode stateInput, JsonNode context) =>
        TokenPaths.ToDictionary(t => t.Key, t =>
        {
            var node = t.Value.StartsWith("$$.", StringComparison.Ordinal) ? StatePath.Select(context, t.Value[1..]) : StatePath.Select(stateInput, t.Value);
            return node switch
            {
                null => throw new ArgumentException($"The state input or context has no value at {t.Value} (token {t.Key})."),
                JsonValue v when v.TryGetValue<string>(out var text) => text,
                _ => node.ToJsonString(),
            };
        });

    /// <summary>The token values of a run request in one attempt, with every UNLOAD before it recorded in that attempt.</summary>
    public static IReadOnlyDictionary<string, string> TokenValues(RunRequest run, int attempt = 0) =>
        TokenValues(StateInput(run, attempt), new JsonObject { ["Execution"] = new JsonObject { ["RedriveCount"] = attempt } });

    /// <summary>The state data as the state machine holds it once every UNLOAD stage succeeded in <paramref name="attempt"/>:
    /// <c>$.run</c> and each stage's recorded attempt at its <see cref="OutputLocations.UnloadAttemptPaths"/>.</summary>
    public static JsonObject StateInput(RunRequest run, int attempt = 0)
    {
        var input = new JsonObject { ["run"] = JsonSerializer.SerializeToNode(run, CoreJsonContext.Default.RunRequest) };
        foreach (var path in OutputLocations.UnloadAttemptPaths.Values)
        {
            var names = path[2..].Split('.');
            var node = input;
            foreach (var name in names[..^1]) node = node[name] as JsonObject ?? (JsonObject)(node[name] = new JsonObject());
            node[names[^1]] = attempt;
        }
        return input;
    }

    private const string FeatureColumnsToken = "feature_columns";

    [GeneratedRegex(@"\{\{([a-z_]+)\}\}")]
    private static partial Regex TokenPattern();

    /// <summary>The file name of a query: <c>SplitTestLabels</c> → <c>split_test_labels.sql</c>.</summary>
    public static string FileName(SqlQuery query) =>
        string.Concat(query.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())) + ".sql";

    /// <summary>The SQL file as written (comments and tokens included, feature columns expanded).</summary>
    public static string Source(SqlQuery query)
    {
        var name = "Sql/" + FileName(query);
        using var stream = typeof(SqlTemplates).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"SQL resource {name} is not embedded in {typeof(SqlTemplates).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var featureColumns = string.Join(", ", DataCatalog.FeatureColumns.Select(c => "\"" + c.Name + "\""));
        return reader.ReadToEnd().Replace("{{" + FeatureColumnsToken + "}}", featureColumns, StringComparison.Ordinal);
    }

    /// <summary>Plain SQL with the tokens replaced (benchmarks, tests, the local runner's direct use).</summary>
    public static string Render(SqlQuery query, IReadOnlyDictionary<string, string> tokenValues) =>
        TokenPattern().Replace(Compact(Source(query)), m => tokenValues.TryGetValue(m.Groups[1].Value, out var value)
            ? value
            : throw new ArgumentException($"{query}: no value for token {{{{{m.Groups[1].Value}}}}}.", nameof(tokenValues)));

    /// <summary>
    /// The template for <c>States.Format</c>: comments stripped, whitespace collapsed, each token replaced by <c>{}</c>
    /// and the characters intrinsic string literals reserve (<c>' { } \</c>) escaped with a backslash.
    /// </summary>
    public static StatesFormatTemplate ForStatesFormat(SqlQuery query)
    {
        var sql = Compact(Source(query));
        var template = new StringBuilder();
        var paths = new List<string>();
        var last = 0;
        foreach (Match m in TokenPattern().Matches(sql))
        {
            template.Append(EscapeIntrinsic(sql[last..m.Index])).Append("{}");
            var token = m.Groups[1].Value;
            paths.Add(TokenPaths.TryGetValue(token, out var path)
                ? path
                : throw new InvalidOperationException($"{FileName(query)}: token {{{{{token}}}}} has no JSONPath in SqlTemplates.TokenPaths."));
            last = m.Index + m.Length;
        }
        template.Append(EscapeIntrinsic(sql[last..]));
        return new StatesFormatTemplate(template.ToString(), string.Join(", ", paths));
    }

    /// <summary>The state machine definition's substitutions for every query: <c>{Name}Sql</c> (the escaped template)
    /// and <c>{Name}SqlArgs</c> (the argument JSONPaths), as used in <c>States.Format('${NameSql}', ${NameSqlArgs})</c>;
    /// and <c>FeatureSetVersion</c>, the version of the feature set these queries produce.</summary>
    public static IReadOnlyDictionary<string, string> DefinitionSubstitutions()
    {
        var values = new Dictionary<string, string>();
        foreach (var query in Enum.GetValues<SqlQuery>())
        {
            var template = ForStatesFormat(query);
            values[$"{query}Sql"] = template.EscapedTemplate;
            values[$"{query}SqlArgs"] = template.ArgumentPaths;
        }
        values[FeatureSet.Placeholder] = FeatureSet.Version;
        return values;
    }

    private static readonly Lazy<IReadOnlyList<(SqlQuery Query, Regex Pattern)>> Patterns = new(() =>
        Enum.GetValues<SqlQuery>().Select(q => (q, new Regex(
            "^" + string.Join(".*?", TokenPattern().Split(Compact(Source(q))).Where((_, i) => i % 2 == 0).Select(Regex.Escape)) + "$",
            RegexOptions.Singleline | RegexOptions.CultureInvariant))).ToList());

    /// <summary>Which template a rendered statement came from (for error messages), or null for ad-hoc SQL.</summary>
    public static SqlQuery? Identify(string sql)
    {
        var compact = Compact(sql);
        foreach (var (query, pattern) in Patterns.Value)
            if (pattern.IsMatch(compact)) return query;
        return null;
    }

    private static string EscapeIntrinsic(string text)
    {
        var escaped = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (c is '\'' or '{' or '}' or '\\') escaped.Append('\\');
            escaped.Append(c);
        }
        return escaped.ToString();
    }

    /// <summary>Drops <c>--</c> comments (outside string literals) and collapses whitespace to single spaces.</summary>
    public static string Compact(string sql)
    {
        var result = new StringBuilder(sql.Length);
        var inString = false;
        var pendingSpace = false;
        for (var i = 0; i < sql.Length; i++)
        {
            var c = sql[i];
            if (!inString && c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                while (i < sql.Length && sql[i] != '\n') i++;
                pendingSpace = true;
                continue;
            }
            if (!inString && char.IsWhiteSpace(c))
            {
                pendingSpace = true;
                continue;
            }
            if (pendingSpace && result.Length > 0) result.Append(' ');
            pendingSpace = false;
            if (c == '\'') inString = !inString;
            result.Append(c);
        }
        return result.ToString();
    }
}
