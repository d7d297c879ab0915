namespace MlOps.Serverless.Data.Catalog;

/// <summary>Which deployment bucket a table lives in; the bucket names come from settings.</summary>
public enum BucketRole { Raw, Work }

/// <summary>How a table's files are stored, i.e. which SerDe/format Glue needs and how DuckDB reads them.</summary>
public enum TableFormat
{
    /// <summary>Uploaded CSVs as Athena's OpenCSVSerde sees them: every column a string, header line skipped.</summary>
    CsvStringsWithHeader,
    /// <summary>Written by UNLOAD ... WITH (format = 'PARQUET').</summary>
    Parquet,
    /// <summary>Written by UNLOAD ... WITH (format = 'TEXTFILE', field_delimiter = ',', compression = 'gzip'): no header.</summary>
    GzipCsv,
    /// <summary>Plain comma-separated text without header (batch transform output, files <c>*.out</c>).</summary>
    TextCsv,
}

public sealed record ColumnDefinition(string Name, string Type);

/// <summary>
/// One Glue table. <see cref="KeyTemplate"/> is the S3 key prefix with <c>${key}</c> for each of the
/// <see cref="ProjectionKeys"/>: Athena partition projection of type <c>injected</c> (queries must filter each
/// <c>key = '...'</c>), and the local engine's view reads <c>{s3Root}/{bucket}/{key}</c> for every value of the keys.
/// </summary>
public sealed record TableDefinition(
    string Name,
    IReadOnlyList<ColumnDefinition> Columns,
    BucketRole Bucket,
    string KeyTemplate,
    TableFormat Format,
    IReadOnlyList<string> ProjectionKeys,
    string Description)
{
    /// <summary><c>storage.location.template</c> for the given bucket name, e.g. <c>s3://raw/incoming/${batch}/sales/</c>.</summary>
    public string LocationTemplate(string bucketName) => $"s3://{bucketName}/{KeyTemplate}";

    /// <summary>Only <see cref="TableFormat.TextCsv"/> tables pick files by suffix (batch transform writes <c>*.out</c>).</summary>
    public string? FileSuffix => Format == TableFormat.TextCsv ? ".out" : null;
}

/// <summary>
/// Every table the data stages read: the CDK app turns these into Glue tables (with partition projection),
/// the local engine into DuckDB views over the same key layout. Column names are lower case, as Glue stores them.
/// </summary>
public static class DataCatalog
{
    public const string RunKey = "run_id";

    /// <summary>The attempt an UNLOAD table was written in (<c>$$.Execution.RedriveCount</c>): its folder is <c>r{attempt}/</c>
    /// under the stage prefix (<c>OutputLocations.AttemptUri</c>); readers filter the attempt their producer recorded.</summary>
    public const string AttemptKey = "attempt";

    private static List<ColumnDefinition> Strings(params string[] names) =>
        names.Select(n => new ColumnDefinition(n, "string")).ToList();

    // The raw tables read the run's copy of the upload (PrepareRun copies the fingerprinted versions), never incoming/.
    public static TableDefinition RawSales { get; } = new(
        "raw_sales", Strings("store", "dept", "date", "weekly_sales", "isholiday"),
        BucketRole.Work, "runs/${run_id}/input/sales/", TableFormat.CsvStringsWithHeader, [RunKey],
        "Uploaded 'sales data-set.csv' as strings");

    public static TableDefinition RawFeatures { get; } = new(
        "raw_features", Strings("store", "date", "temperature", "fuel_price", "markdown1", "markdown2", "markdown3",
            "markdown4", "markdown5", "cpi", "unemployment", "isholiday"),
        BucketRole.Work, "runs/${run_id}/input/features/", TableFormat.CsvStringsWithHeader, [RunKey],
        "Uploaded 'Features data set.csv' as strings");

    public static TableDefinition RawStores { get; } = new(
        "raw_stores", Strings("store", "type", "size"),
        BucketRole.Work, "runs/${run_id}/input/stores/", TableFormat.CsvStringsWithHeader, [RunKey],
        "Uploaded 'stores data-set.csv' as strings");

    /// <summary>The model inputs, in the order of the CSV columns after the label (train/validation) or the record id (test/forecast).</summary>
    public static IReadOnlyList<ColumnDefinition> FeatureColumns { get; } =
    [
        new("store", "int"), new("dept", "int"), new("store_type", "int"), new("store_size", "int"),
        new("year", "int"), new("month", "int"), new("week_of_year", "int"),
        new("is_holiday", "int"), new("super_bowl", "int"), new("labor_day", "int"), new("thanksgiving", "int"), new("christmas", "int"),
        new("temperature", "double"), new("fuel_price", "double"),
        new("markdown1", "double"), new("markdown2", "double"), new("markdown3", "double"), new("markdown4", "double"), new("markdown5", "double"),
        new("markdown_active", "int"), new("cpi", "double"), new("unemployment", "double"),
        new("horizon", "int"), new("log_scale", "double"), new("history_weeks", "int"),
        new("r_lag52", "double"), new("r_lag51", "double"), new("r_lag53", "double"), new("r_lag50", "double"), new("r_lag54", "double"),
        new("r_lag52_mean5", "double"), new("r_lag104", "double"),
        new("r_level8", "double"), new("r_level8_year_ago", "double"), new("r_level4", "double"), new("r_last", "double"),
        new("growth", "double"), new("r_lag52_adjusted", "double"), new("d_lag52", "double"), new("d_lag52_adjusted", "double"),
        new("store_growth", "double"), new("r_lag52_store_adjusted", "double"),
        new("growth26", "double"), new("r_lag52_adjusted26", "double"), new("r_lag52_growth26", "double"),
        new("store_growth26", "double"), new("r_lag52_store_growth26", "double"),
    ];

    /// <summary>One row per (store, dept, week) of every split, written once per run as Parquet; the split queries read it.</summary>
    public static TableDefinition Features { get; } = new(
        "features",
        [
            new("record_id", "string"), new("split", "string"), new("sale_date", "date"),
            new("weekly_sales", "double"), new("label", "double"), new("weight", "int"), new("naive", "double"), new("scale", "double"),
            .. FeatureColumns,
        ],
        BucketRole.Work, "runs/${run_id}/features/r${attempt}/", TableFormat.Parquet, [RunKey, AttemptKey],
        "Engineered features of one run (all splits)");

    /// <summary>What the evaluation needs per test row; <c>scale</c> turns the model's relative prediction back into Weekly_Sales.</summary>
    public static TableDefinition TestLabels { get; } = new(
        "test_labels",
        [
            new("record_id", "string"), new("weekly_sales", "double"), new("weight", "int"), new("naive", "double"),
            new("scale", "double"), new("store", "int"), new("dept", "int"), new("sale_date", "date"),
        ],
        BucketRole.Work, "runs/${run_id}/test-labels/r${attempt}/", TableFormat.GzipCsv, [RunKey, AttemptKey],
        "Test rows: actual Weekly_Sales, WMAE weight (5 holiday / 1), naive same-week-last-year value, label scale");

    /// <summary>Batch transform output with <c>JoinSource=Input, OutputFilter=$[0,-1]</c>.</summary>
    public static TableDefinition Predictions { get; } = new(
        "predictions",
        [new("record_id", "string"), new("prediction", "double")],
        BucketRole.Work, "runs/${run_id}/predictions/", TableFormat.TextCsv, [RunKey],
        "Batch transform predictions on the test features (relative to scale)");

    /// <summary>The champion's batch transform output on the same test features, beside the challenger's.</summary>
    public static TableDefinition ChampionPredictions { get; } = new(
        "champion_predictions",
        [new("record_id", "string"), new("prediction", "double")],
        BucketRole.Work, "runs/${run_id}/champion-predictions/", TableFormat.TextCsv, [RunKey],
        "The champion model's batch transform predictions on this run's test features (relative to scale)");

    /// <summary>Batch transform output on the forecast features (same shape as <see cref="Predictions"/>).</summary>
    public static TableDefinition ForecastPredictions { get; } = new(
        "forecast_predictions",
        [new("record_id", "string"), new("prediction", "double")],
        BucketRole.Work, "runs/${run_id}/forecast/", TableFormat.TextCsv, [RunKey],
        "Batch transform predictions on the forecast weeks (relative to scale)");

    /// <summary>The forecast in dollars: what the team queries in Athena (<c>WHERE run_id = '...' AND attempt = '...'</c>).</summary>
    public static TableDefinition ForecastSales { get; } = new(
        "forecast_sales",
        [
            new("store", "int"), new("dept", "int"), new("week", "date"), new("predicted_sales", "double"),
            new("naive_sales", "double"), new("is_holiday", "int"),
        ],
        BucketRole.Work, "runs/${run_id}/forecast-sales/r${attempt}/", TableFormat.GzipCsv, [RunKey, AttemptKey],
        "Forecast weekly sales in dollars per store, department and week, beside the same week last year (naive)");

    public static IReadOnlyList<TableDefinition> Tables { get; } =
        [RawSales, RawFeatures, RawStores, Features, TestLabels, Predictions, ChampionPredictions, ForecastPredictions, ForecastSales];

    public static TableDefinition Find(string name) =>
        Tables.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"No table '{name}' in the data catalog.", nameof(name));
}
