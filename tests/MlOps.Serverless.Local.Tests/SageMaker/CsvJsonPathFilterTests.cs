using MlOps.Serverless.Local.SageMaker;

namespace MlOps.Serverless.Local.Tests.SageMaker;

public sealed class CsvJsonPathFilterTests
{
    private static readonly string[] Record = ["id", "a", "b", "c", "pred"];

    [Theory]
    [InlineData("$", "id,a,b,c,pred")]
    [InlineData("$[1:]", "a,b,c,pred")]
    [InlineData("$[0,-1]", "id,pred")]
    [InlineData("$[:2]", "id,a")]
    [InlineData("$[1:-1]", "a,b,c")]
    [InlineData("$[0, 2:4]", "id,b,c")]
    [InlineData("$[-2]", "c")]
    [InlineData("$[3:100]", "c,pred")]
    public void Selects_columns_like_sagemaker_csv_filters(string expression, string expected)
    {
        var filter = CsvJsonPathFilter.TryParse(expression, out var problem);
        Assert.Null(problem);
        Assert.Equal(expected, string.Join(',', filter!.Apply(Record, "test")));
    }

    [Theory]
    [InlineData("$.features", "not a supported CSV JSONPath")]
    [InlineData("$[*]", "not an integer index")]
    [InlineData("$[0:4:2]", "has a step")]
    [InlineData("[0]", "not a supported CSV JSONPath")]
    public void Rejects_expressions_sagemaker_csv_filters_do_not_support(string expression, string message)
    {
        Assert.Null(CsvJsonPathFilter.TryParse(expression, out var problem));
        Assert.Contains(message, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_index_past_the_record_fails_the_record_with_its_position()
    {
        var filter = CsvJsonPathFilter.TryParse("$[7]", out _)!;
        var error = Assert.Throws<TransformFilterFailed>(() => filter.Apply(Record, "s3://b/x.csv line 3"));
        Assert.Contains("s3://b/x.csv line 3", error.Message, StringComparison.Ordinal);
    }
}
