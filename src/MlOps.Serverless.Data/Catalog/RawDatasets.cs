namespace MlOps.Serverless.Data.Catalog;

/// <summary>
/// One of the three uploaded CSVs: its folder under the batch prefix (<c>incoming/{batchId}/{Folder}/</c>), the
/// real file name, the header the file must start with, and the raw table that reads it.
/// </summary>
public sealed record RawDataset(string Folder, string FileName, IReadOnlyList<string> Header, TableDefinition Table);

public static class RawDatasets
{
    public static RawDataset Sales { get; } = new("sales", "sales data-set.csv",
        ["Store", "Dept", "Date", "Weekly_Sales", "IsHoliday"], DataCatalog.RawSales);

    public static RawDataset Features { get; } = new("features", "Features data set.csv",
        ["Store", "Date", "Temperature", "Fuel_Price", "MarkDown1", "MarkDown2", "MarkDown3", "MarkDown4", "MarkDown5",
         "CPI", "Unemployment", "IsHoliday"], DataCatalog.RawFeatures);

    public static RawDataset Stores { get; } = new("stores", "stores data-set.csv",
        ["Store", "Type", "Size"], DataCatalog.RawStores);

    public static IReadOnlyList<RawDataset> All { get; } = [Sales, Features, Stores];

    /// <summary>The S3 key of a file of this dataset in a batch: <c>incoming/{batchId}/{folder}/{file}</c>.</summary>
    public static string KeyOf(RawDataset dataset, string batchId, string? fileName = null) =>
        $"{UploadPrefix}{batchId}/{dataset.Folder}/{fileName ?? dataset.FileName}";

    /// <summary>Where batches are uploaded; the raw tables read the run's copy (<c>runs/{runId}/input/{folder}/</c>) instead.</summary>
    public const string UploadPrefix = "incoming/";
}
