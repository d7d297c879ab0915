using Amazon.CDK;
using Amazon.CDK.AWS.Athena;
using Amazon.CDK.AWS.Glue;
using Constructs;
using MlOps.Serverless.Data.Catalog;

namespace MlOps.Serverless.Infra;

/// <summary>
/// The Glue database with one table per <see cref="DataCatalog"/> entry (partition projection of type
/// <c>injected</c>, so no crawler or MSCK REPAIR is ever needed) and the Athena workgroup whose result
/// location and encryption clients cannot override.
/// </summary>
public sealed class QueryEngine : Construct
{
    public string DatabaseName { get; }
    public string WorkGroupName { get; }
    public IReadOnlyList<string> TableNames { get; }

    public QueryEngine(Construct scope, string id, StackSettings settings, Buckets buckets) : base(scope, id)
    {
        DatabaseName = settings.Prefix.Replace('-', '_') + "_retraining";
        WorkGroupName = settings.Prefix + "-retraining";
        var stack = Stack.Of(this);

        var database = new CfnDatabase(this, "Database", new CfnDatabaseProps
        {
            CatalogId = stack.Account,
            DatabaseInput = new CfnDatabase.DatabaseInputProperty
            {
                Name = DatabaseName,
                Description = "Raw uploads and per-run data of the retraining workflow",
            },
        });

        foreach (var table in DataCatalog.Tables)
            CreateTable(table, (table.Bucket == BucketRole.Raw ? buckets.Raw : buckets.Work).BucketName, stack).AddDependency(database);
        TableNames = DataCatalog.Tables.Select(t => t.Name).ToList();

        CreateWorkGroup(settings, buckets);
    }

    /// <summary>A Glue table over the table's S3 location, its partitions found by projection.</summary>
    private CfnTable CreateTable(TableDefinition table, string bucketName, Stack stack)
    {
        var location = table.LocationTemplate(bucketName);
        return new CfnTable(this, "Table_" + table.Name, new CfnTableProps
        {
            CatalogId = stack.Account,
            DatabaseName = DatabaseName,
            TableInput = new CfnTable.TableInputProperty
            {
                Name = table.Name,
                Description = table.Description,
                TableType = "EXTERNAL_TABLE",
                PartitionKeys = table.ProjectionKeys.Select(key => (object)new CfnTable.ColumnProperty { Name = key, Type = "string" }).ToArray(),
                Parameters = TableParameters(table, location),
                StorageDescriptor = Storage(table, bucketName),
            },
        });
    }

    private void CreateWorkGroup(StackSettings settings, Buckets buckets)
    {
        new CfnWorkGroup(this, "WorkGroup", new CfnWorkGroupProps
        {
            Name = WorkGroupName,
            Description = "Queries of the retraining workflow",
            State = "ENABLED",
            // Lets the stack delete the workgroup although it has query history.
            RecursiveDeleteOption = true,
            WorkGroupConfiguration = new CfnWorkGroup.WorkGroupConfigurationProperty
            {
                EnforceWorkGroupConfiguration = true,
                PublishCloudWatchMetricsEnabled = true,
                // Cost guardrail: Athena cancels a query that would scan more.
                BytesScannedCutoffPerQuery = settings.AthenaMaxBytesScannedPerQuery,
                EngineVersion = new CfnWorkGroup.EngineVersionProperty { SelectedEngineVersion = "Athena engine version 3" },
                ResultConfiguration = new CfnWorkGroup.ResultConfigurationProperty
                {
                    OutputLocation = $"s3://{buckets.AthenaResults.BucketName}/query-results/",
                    EncryptionConfiguration = new CfnWorkGroup.EncryptionConfigurationProperty { EncryptionOption = "SSE_S3" },
                },
            },
        });
    }

    private static Dictionary<string, object> TableParameters(TableDefinition table, string location)
    {
        var parameters = new Dictionary<string, object>
        {
            ["classification"] = table.Format switch
            {
                TableFormat.Parquet => "parquet",
                _ => "csv",
            },
            ["projection.enabled"] = "true",
            ["storage.location.template"] = location,
        };
        foreach (var key in table.ProjectionKeys) parameters[$"projection.{key}.type"] = "injected";
        if (table.Format == TableFormat.CsvStringsWithHeader) parameters["skip.header.line.count"] = "1";
        if (table.Format == TableFormat.GzipCsv) parameters["compressionType"] = "gzip";
        return parameters;
    }

    private static CfnTable.StorageDescriptorProperty Storage(TableDefinition table, string bucketName)
    {
        var columns = table.Columns.Select(c => (object)new CfnTable.ColumnProperty { Name = c.Name, Type = c.Type }).ToArray();
        // With projection the location template wins; Location is the template's root for tools that read it.
        var root = $"s3://{bucketName}/{table.KeyTemplate[..table.KeyTemplate.IndexOf("${", StringComparison.Ordinal)]}";
        return table.Format switch
        {
            TableFormat.Parquet => new CfnTable.StorageDescriptorProperty
            {
                Columns = columns,
                Location = root,
                InputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                OutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                SerdeInfo = new CfnTable.SerdeInfoProperty
                {
                    SerializationLibrary = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
                },
            },
            TableFormat.CsvStringsWithHeader => new CfnTable.StorageDescriptorProperty
            {
                Columns = columns,
                Location = root,
                InputFormat = "org.apache.hadoop.mapred.TextInputFormat",
                OutputFormat = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                SerdeInfo = new CfnTable.SerdeInfoProperty
                {
                    // Athena's OpenCSVSerDe reads quoted fields; every column is a string.
                    SerializationLibrary = "org.apache.hadoop.hive.serde2.OpenCSVSerde",
                    Parameters = new Dictionary<string, object> { ["separatorChar"] = ",", ["quoteChar"] = "\"", ["escapeChar"] = "\\" },
                },
            },
            _ => new CfnTable.StorageDescriptorProperty
            {
                Columns = columns,
                Location = root,
                InputFormat = "org.apache.hadoop.mapred.TextInputFormat",
                OutputFormat = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                SerdeInfo = new CfnTable.SerdeInfoProperty
                {
                    // Typed, unquoted CSV written by UNLOAD or batch transform; gzip is detected by the .gz suffix.
                    SerializationLibrary = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                    Parameters = new Dictionary<string, object> { ["field.delim"] = ",", ["serialization.format"] = "," },
                },
            },
        };
    }
}
