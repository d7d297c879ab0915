using System.Text;
using System.Text.Json;
using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Data;
using MlOps.Serverless.Data.Catalog;
using MlOps.Serverless.Data.Quality;
using MlOps.Serverless.Data.Sample;
using MlOps.Serverless.Functions;
using MlOps.Serverless.Local.S3;

namespace MlOps.Serverless.Functions.Tests;

public class DataQualityVerdictFunctionTests
{
    private static async Task<(Workspace Workspace, Stream Payload)> Payload(SampleDataSet data)
    {
        var workspace = new Workspace();
        var run = await workspace.UploadAsync("fn", data);
        var results = await workspace.Stages.ResultsAsync(await workspace.Stages.QueryAsync(SqlQuery.Quality, run));
        var payload = JsonSerializer.SerializeToUtf8Bytes(new QualityVerdictInput(run, results), DataJsonContext.Default.QualityVerdictInput);
        return (workspace, new MemoryStream(payload));
    }

    [Fact]
    public async Task Handle_returns_the_verdict_as_camel_case_json()
    {
        var (workspace, payload) = await Payload(SampleDataGenerator.Generate(new SampleDataOptions { Stores = 3, Departments = 3 }));
        using var _ = workspace;
        var function = new DataQualityVerdictFunction(workspace.Stages.Store, new StructuredLog("test", TextWriter.Null));

        using var output = JsonDocument.Parse(await function.Handle(payload));

        Assert.True(output.RootElement.GetProperty("passed").GetBoolean());
        Assert.StartsWith("Data quality passed", output.RootElement.GetProperty("summary").GetString());
        Assert.EndsWith("/quality/report.json", output.RootElement.GetProperty("reportUri").GetString());
    }

    [Fact]
    public async Task Handle_raises_data_quality_failed_for_bad_data()
    {
        var sample = SampleDataGenerator.Generate(new SampleDataOptions { Stores = 3, Departments = 3 });
        var (workspace, payload) = await Payload(sample with { Sales = sample.Sales.Replace(",05/02/2010,", ",2010-02-05,") });
        using var _ = workspace;
        var function = new DataQualityVerdictFunction(workspace.Stages.Store, new StructuredLog("test", TextWriter.Null));

        var error = await Assert.ThrowsAsync<DataQualityFailed>(() => function.Handle(payload));

        Assert.Equal("DataQualityFailed", error.ErrorName);
        Assert.Contains("column Date: 9 value(s) cannot be parsed as a DD/MM/YYYY date, e.g. '2010-02-05' (9 rows)", error.Message);
    }

    [Fact]
    public async Task A_payload_that_is_not_the_contract_is_invalid_stage_input()
    {
        var function = new DataQualityVerdictFunction(new LocalFolderObjectStore(Path.GetTempPath()), new StructuredLog("test", TextWriter.Null));

        await Assert.ThrowsAsync<InvalidStageInput>(() => function.Handle(new MemoryStream(Encoding.UTF8.GetBytes("""{"run": 3}"""))));
    }
}
