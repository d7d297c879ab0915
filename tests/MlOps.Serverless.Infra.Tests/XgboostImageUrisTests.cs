using MlOps.Serverless.Core.Errors;
using MlOps.Serverless.Core.SageMaker;

namespace MlOps.Serverless.Infra.Tests;

public sealed class XgboostImageUrisTests
{
    [Theory]
    [InlineData("us-east-1", "1.7-1", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1")]
    [InlineData("eu-west-1", "1.5-1", "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.5-1")]
    [InlineData("ap-southeast-2", "1.3-1", "783357654285.dkr.ecr.ap-southeast-2.amazonaws.com/sagemaker-xgboost:1.3-1")]
    [InlineData("cn-north-1", "1.7-1", "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1")]
    [InlineData("us-gov-west-1", "1.7-1", "414596584902.dkr.ecr.us-gov-west-1.amazonaws.com/sagemaker-xgboost:1.7-1")]
    [InlineData("us-iso-east-1", "1.7-1", "833128469047.dkr.ecr.us-iso-east-1.c2s.ic.gov/sagemaker-xgboost:1.7-1")]
    [InlineData("us-isob-east-1", "1.7-1", "281123927165.dkr.ecr.us-isob-east-1.sc2s.sgov.gov/sagemaker-xgboost:1.7-1")]
    public void Image_uri_uses_the_regions_registry_account_and_domain(string region, string version, string expected) =>
        Assert.Equal(expected, XgboostImageUris.For(region, version));

    [Fact]
    public void Local_mode_gets_a_local_image_name() =>
        Assert.Equal("local/sagemaker-xgboost:1.7-1", XgboostImageUris.For("local", "1.7-1"));

    [Fact]
    public void Unknown_region_is_an_invalid_configuration_naming_region_and_version()
    {
        var error = Assert.Throws<InvalidConfiguration>(() => XgboostImageUris.For("mars-north-1", "1.7-1"));
        Assert.Contains("mars-north-1", error.Message);
        Assert.Contains("1.7-1", error.Message);
    }

    [Fact]
    public void Unknown_version_is_an_invalid_configuration_naming_region_and_version()
    {
        var error = Assert.Throws<InvalidConfiguration>(() => XgboostImageUris.For("us-east-1", "0.90-1"));
        Assert.Contains("0.90-1", error.Message);
        Assert.Contains("us-east-1", error.Message);
    }

    [Fact]
    public void Default_version_is_1_7_1() => Assert.Equal("1.7-1", XgboostImageUris.DefaultVersion);
}
