using MlOps.Serverless.Core.Runs;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Quality;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Local.Athena;

namespace MlOps.Serverless.Data.Tests.Sql;

/// <summary>The default generated sample run once through every data stage on DuckDB; tests read the outputs.</summary>
public sealed class DataStagesFixture : IAsyncLifetime
{
    public Workspace Workspace { get; } = new();
    public SampleDataSet Sample { get; } = SampleDataGenerator.Generate();
    public RunRequest Run { get; private set; } = null!;
    public QualityVerdictOutput Verdict { get; private set; } = null!;
    public IReadOnlyList<StageTiming> Timings { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Run = await Workspace.UploadAsync("sample", Sample);
        Verdict = await Workspace.Stages.QualityAsync(Run);
        await Workspace.Stages.QueryAsync(SqlQuery.Features, Run);
        await Workspace.Stages.SplitsAsync(Run);
    }

    public Task DisposeAsync()
    {
        Workspace.Dispose();
        return Task.CompletedTask;
    }
}
