using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Sample;

namespace MlOps.Serverless.Data.Tests.Sql;

/// <summary>More than one training instance: the channels are ShardedByS3Key, so the splits must give each instance files of its own.</summary>
public sealed class ShardedSplitTests : IDisposable
{
    private readonly Workspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private async Task<(Core.Runs.RunRequest Run, int Train, int Validation)> SplitAsync(string batch, int instances)
    {
        var sample = SampleDataGenerator.Generate(new SampleDataOptions { Stores = 3, Departments = 5 });
        var run = await _workspace.UploadAsync(batch, sample, new JsonObject { ["training.instanceCount"] = instances });
        await _workspace.Stages.QueryAsync(SqlQuery.Features, run);
        await _workspace.Stages.SplitsAsync(run);
        return (run, _workspace.ReadCsv(run.Output.TrainUri).Count, _workspace.ReadCsv(run.Output.ValidationUri).Count);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Train_and_validation_are_written_in_at_least_one_file_per_instance(int instances)
    {
        var (run, _, _) = await SplitAsync("shards-" + instances, instances);

        foreach (var uri in new[] { run.Output.TrainUri, run.Output.ValidationUri })
        {
            var root = _workspace.PathOf(OutputLocations.AttemptUri(uri, 0));
            var folders = Directory.GetDirectories(root).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(Enumerable.Range(0, instances).Select(k => $"shard={k}"), folders);
            Assert.All(folders, f => Assert.NotEmpty(Directory.GetFiles(Path.Combine(root, f!), "*.csv")));
            Assert.Empty(Directory.GetFiles(root)); // every file is in a shard folder
        }
        Assert.Equal(instances > 1 ? "ShardedByS3Key" : "FullyReplicated", run.SageMaker.DataDistribution);
    }

    [Fact]
    public async Task Sharding_splits_the_rows_without_losing_or_changing_any()
    {
        var (_, train1, validation1) = await SplitAsync("one", 1);
        var (run3, train3, validation3) = await SplitAsync("three", 3);

        Assert.Equal(train1, train3);
        Assert.Equal(validation1, validation3);
        // The shard column is the folder, not a CSV column: label, weight and the feature columns only.
        Assert.All(_workspace.ReadCsv(run3.Output.TrainUri), r => Assert.Equal(2 + DataCatalog.FeatureColumns.Count, r.Length));
    }
}
