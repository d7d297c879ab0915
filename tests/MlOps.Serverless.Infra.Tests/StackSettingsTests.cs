using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Infra.Tests;

public sealed class StackSettingsTests
{
    private static StackSettings From(params (string Key, object Value)[] context) =>
        StackSettings.FromContext(key => context.FirstOrDefault(c => c.Key == key).Value);

    [Fact]
    public void Defaults_need_no_context()
    {
        var settings = From();
        Assert.Equal("MlOpsRetraining", settings.StackName);
        Assert.Equal("mlops", settings.Prefix);
        Assert.Equal("cron(0 6 ? * MON *)", settings.Schedule);
        Assert.True(settings.ScheduleEnabled);
        Assert.False(settings.DeployEndpoint);
        Assert.Null(settings.MlflowTrackingUri);
        Assert.Equal("artifacts/functions", settings.FunctionsAssetPath);
        Assert.Equal("""{"training.xgboostVersion":"1.7-1"}""", settings.EffectivePipelineSettings().ToJsonString());
    }

    [Fact]
    public void Dedicated_keys_become_pipeline_settings_unless_pipeline_settings_already_set_them()
    {
        var settings = From(("trainingInstanceType", "ml.m5.2xlarge"), ("deployEndpoint", "true"),
            ("pipelineSettings", """{"tuning.maxJobs": 8, "training": {"instanceType": "ml.c5.xlarge"}}"""));
        var effective = settings.EffectivePipelineSettings();
        Assert.Equal(8, (int?)effective["tuning.maxJobs"]);
        Assert.Equal("ml.c5.xlarge", (string?)effective["training"]!["instanceType"]);
        Assert.False(effective.ContainsKey("training.instanceType"));
        Assert.True((bool?)effective["predictions.updateEndpoint"]);
    }

    [Fact]
    public void Credentials_in_the_tracking_url_are_refused_without_quoting_them()
    {
        var error = Assert.Throws<InvalidConfiguration>(() => From(("mlflowTrackingUri", "https://ml-user:s3cret-pw@mlflow.example.com")));
        Assert.Contains("mlflowCredentialsParameter", error.Message);
        Assert.DoesNotContain("s3cret-pw", error.Message);
    }

    [Fact]
    public void Pipeline_settings_may_be_an_object_in_cdk_json() =>
        Assert.Equal(20, (int?)From(("pipelineSettings", new Dictionary<string, object> { ["tuning.maxJobs"] = 20 })).PipelineSettings["tuning.maxJobs"]);

    [Theory]
    [InlineData("prefix", "Bad_Prefix")]
    [InlineData("schedule", "every monday")]
    [InlineData("scheduleEnabled", "yes")]
    [InlineData("xgboostVersion", "2.0-1")]
    [InlineData("pipelineSettings", "{not json")]
    [InlineData("pipelineSettings", "[1,2]")]
    [InlineData("pipelineSettings", "{\"tuning.maxJob\": 8}")]
    [InlineData("pipelineSettings", "{\"tuning.maxJobs\": \"many\"}")]
    [InlineData("mlflowTrackingUri", "arn:aws:sagemaker:eu-west-1:123456789012:model/x")]
    [InlineData("mlflowTrackingUri", "mlflow.example.com")]
    [InlineData("logRetentionDays", "0")]
    [InlineData("prefix", "a-prefix-of-19-char")]
    [InlineData("notificationTopicArn", "platform-alerts")]
    [InlineData("notificationEmail", "ml-team")]
    [InlineData("athenaMaxBytesScannedPerQuery", "1000")]
    [InlineData("runRetentionDays", "-1")]
    [InlineData("guardrails", "{\"maxTuningJob\": 8}")]
    [InlineData("guardrails", "{\"maxTuningJobs\": 0}")]
    [InlineData("guardrails", "{\"allowedInstanceTypes\": [\"m5.xlarge\"]}")]
    public void Invalid_context_is_an_invalid_configuration_naming_the_key(string key, string value)
    {
        var error = Assert.Throws<InvalidConfiguration>(() => From((key, value)));
        Assert.Contains(key, error.Message);
    }

    [Fact]
    public void Credentials_without_a_tracking_server_are_rejected() =>
        Assert.Contains("mlflowTrackingUri", Assert.Throws<InvalidConfiguration>(() => From(("mlflowCredentialsParameter", "/mlflow/creds"))).Message);

    [Fact]
    public void A_tracking_server_arn_is_recognised_as_sagemaker_managed_mlflow()
    {
        Assert.True(From(("mlflowTrackingUri", "arn:aws:sagemaker:eu-west-1:123456789012:mlflow-tracking-server/team")).MlflowIsSageMaker);
        Assert.False(From(("mlflowTrackingUri", "https://mlflow.example.com")).MlflowIsSageMaker);
    }

    [Fact]
    public void Guardrails_default_to_safe_caps_and_can_be_set_per_deployment()
    {
        Assert.Same(Core.Configuration.CostGuardrails.Defaults, From().Guardrails);
        var caps = From(("guardrails", """{"maxTuningJobs": 100, "allowedInstanceTypes": ["ml.m5.large", "ml.m5.xlarge", "ml.c5.2xlarge"]}""")).Guardrails;
        Assert.Equal(100, caps.MaxTuningJobs);
        Assert.Equal(["ml.m5.large", "ml.m5.xlarge", "ml.c5.2xlarge"], caps.AllowedInstanceTypes);
        Assert.Equal(Core.Configuration.CostGuardrails.Defaults.MaxParallelJobs, caps.MaxParallelJobs);
    }

    [Theory]
    [InlineData("""{"tuning.maxJobs": 60}""", "guardrails.maxTuningJobs")]
    [InlineData("""{"training.instanceType": "ml.p4d.24xlarge"}""", "guardrails.allowedInstanceTypes")]
    [InlineData("""{"training.maxRuntimeSeconds": 86400, "training.maxWaitSeconds": 86400}""", "guardrails.maxRuntimeSeconds")]
    public void Deployment_settings_over_a_cap_fail_the_synth_naming_the_cap(string pipelineSettings, string cap)
    {
        var error = Assert.Throws<InvalidConfiguration>(() => From(("pipelineSettings", pipelineSettings)));
        Assert.Contains(cap, error.Message);
        Assert.Contains("pipelineSettings", error.Message);
    }

    [Fact]
    public void A_raised_cap_admits_the_deployment_setting() =>
        Assert.Equal(60, (int?)From(("pipelineSettings", """{"tuning.maxJobs": 60}"""), ("guardrails", """{"maxTuningJobs": 60}""")).PipelineSettings["tuning.maxJobs"]);
}
