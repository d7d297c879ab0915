using System.Text.Json.Nodes;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.ServiceModels;

namespace MlOps.Serverless.Local.Tests.ServiceModels;

/// <summary>The validator's rules, each on a real shape of AWS's published models.</summary>
public sealed class ShapeValidatorTests
{
    private static readonly ServiceModel SageMaker = BotocoreModels.Load("sagemaker");

    private static IReadOnlyList<ModelViolation> Check(string shape, string json) =>
        new ShapeValidator(SageMaker).Validate(shape, JsonNode.Parse(json));

    private static JsonObject ValidModelPackage() => JsonNode.Parse("""
        {
          "ModelPackageGroupName": "retail-weekly-sales",
          "ModelApprovalStatus": "Approved",
          "InferenceSpecification": {
            "Containers": [ { "Image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1", "ModelDataUrl": "s3://artifacts/model.tar.gz" } ],
            "SupportedContentTypes": [ "text/csv" ],
            "SupportedResponseMIMETypes": [ "text/csv" ]
          },
          "ClientToken": "0123456789abcdef0123456789abcdef"
        }
        """)!.AsObject();

    [Fact]
    public void A_valid_request_has_no_violations() =>
        Assert.Empty(new ShapeValidator(SageMaker).Validate("CreateModelPackageInput", ValidModelPackage()));

    [Fact]
    public void Client_token_longer_than_36_characters_breaks_the_length_rule()
    {
        var request = ValidModelPackage();
        request["ClientToken"] = "0c6a2a8e-6f4e-5d3c-9a55-2b1f0e6a9c11-a1b2c3d4-e5f6-7890-abcd-ef0123456789";
        var violation = Assert.Single(new ShapeValidator(SageMaker).Validate("CreateModelPackageInput", request));
        Assert.Equal("ClientToken", violation.Path);
        Assert.Contains("at most 36 characters", violation.Rule);
    }

    [Fact]
    public void Client_token_with_an_underscore_breaks_the_pattern_matched_against_the_whole_value()
    {
        var request = ValidModelPackage();
        request["ClientToken"] = "event_1234";
        var violation = Assert.Single(new ShapeValidator(SageMaker).Validate("CreateModelPackageInput", request));
        Assert.Equal("ClientToken", violation.Path);
        Assert.Contains("does not match the required pattern", violation.Rule);
        Assert.Contains("[a-zA-Z0-9-]+", violation.Rule);
    }

    [Fact]
    public void Missing_required_member_is_named_with_its_path()
    {
        var violations = Check("Channel", """{ "ChannelName": "train" }""");
        Assert.Equal("DataSource is required but missing", Assert.Single(violations).ToString());
    }

    [Fact]
    public void Unknown_member_is_refused()
    {
        var violations = Check("CheckpointConfig", """{ "S3Uri": "s3://b/k", "S3Prefix": "x" }""");
        Assert.Equal("S3Prefix", Assert.Single(violations).Path);
    }

    [Fact]
    public void Enum_values_are_checked()
    {
        var violations = Check("Channel", """{ "ChannelName": "train", "CompressionType": "GZIP", "DataSource": { "S3DataSource": { "S3DataType": "S3Prefix", "S3Uri": "s3://b/k/" } } }""");
        var violation = Assert.Single(violations);
        Assert.Equal("CompressionType", violation.Path);
        Assert.Contains("None, Gzip", violation.Rule);
    }

    [Fact]
    public void Types_are_checked_a_number_where_a_string_is_expected()
    {
        var violations = Check("Tag", """{ "Key": "mlops:run-id", "Value": 12 }""");
        Assert.Equal("Value must be a string, but is a number 12", Assert.Single(violations).ToString());
    }

    [Fact]
    public void Integer_ranges_are_checked()
    {
        // ResourceLimits.MaxNumberOfTrainingJobs: at least 1.
        var violations = Check("ResourceLimits", """{ "MaxNumberOfTrainingJobs": 0, "MaxParallelTrainingJobs": 1 }""");
        Assert.Contains("at least 1", Assert.Single(violations).Rule);
        Assert.Contains("whole number", Assert.Single(Check("ResourceLimits", """{ "MaxParallelTrainingJobs": 1.5 }""")).Rule);
    }

    [Fact]
    public void List_sizes_are_checked()
    {
        // InferenceSpecification.Containers: 1 to 15 containers.
        var violations = Check("InferenceSpecification", """{ "Containers": [], "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"] }""");
        Assert.Equal("InferenceSpecification.Containers", "InferenceSpecification." + Assert.Single(violations).Path);
        Assert.Contains("at least 1 item", violations[0].Rule);
    }

    [Fact]
    public void Map_sizes_keys_and_values_are_checked()
    {
        var tooMany = new JsonObject();
        for (var i = 0; i < 101; i++) tooMany[$"k{i}"] = "v";
        var sizes = new ShapeValidator(SageMaker).Validate("HyperParameters", tooMany);
        Assert.Contains(sizes, v => v.Rule.Contains("at most 100 entries"));

        var nonString = Check("HyperParameters", """{ "max_depth": 5 }""");
        Assert.Equal("max_depth must be a string, but is a number 5", nonString.Single().ToString().TrimStart('.'));
    }

    [Fact]
    public void Names_follow_sagemakers_name_pattern()
    {
        const string role = "arn:aws:iam::123456789012:role/sagemaker";
        Assert.Empty(Check("CreateModelInput", $$"""{ "ModelName": "model-abc-123", "ExecutionRoleArn": "{{role}}" }"""));
        var violation = Assert.Single(Check("CreateModelInput", $$"""{ "ModelName": "model_abc", "ExecutionRoleArn": "{{role}}" }"""));
        Assert.Equal("ModelName", violation.Path);
    }

    [Theory]
    [InlineData(@"arn:[\p{Alnum}\-]+:lambda:[\p{Alnum}\-]+:[0-9]{12}:function:.*", "arn:aws:lambda:eu-west-1:123456789012:function:f", true)]
    [InlineData(@"arn:[\p{Alnum}\-]+:lambda:[\p{Alnum}\-]+:[0-9]{12}:function:.*", "arn:aws:lambda:eu_west:123456789012:function:f", false)]
    [InlineData(@"([\p{L}\p{Z}\p{N}_.:\/=+\-@]*)${1,128}", "mlops:run-id", true)]
    [InlineData(@"([\p{L}\p{Z}\p{N}_.:\/=+\-@]*)${1,128}", "run#1", false)]
    [InlineData(@"[0-9A-Za-z\.\-_]*(?<!\.)", "a.b", true)]
    [InlineData(@"[0-9A-Za-z\.\-_]*(?<!\.)", "a.", false)]
    [InlineData("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", "abc_def", false)]
    [InlineData(@"\x{0020}+", "  ", true)]
    [InlineData(@"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*", "AwsDataCatalog \U0001F600", true)]
    [InlineData(@"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*", "line\nbreak", false)]
    public void Java_patterns_match_the_whole_value(string pattern, string value, bool matches) =>
        Assert.Equal(matches, JavaPattern.Matches(pattern, value));

    [Theory]
    [InlineData("sagemaker")]
    [InlineData("athena")]
    [InlineData("sns")]
    [InlineData("lambda")]
    [InlineData("s3")]
    public void Every_pattern_of_the_models_the_stand_ins_use_compiles(string service)
    {
        var model = BotocoreModels.Load(service);
        var document = JsonNode.Parse(File.ReadAllText(Decompressed(model.File)))!;
        foreach (var (name, shape) in document["shapes"]!.AsObject())
        {
            if ((string?)shape!["pattern"] is { } pattern)
            {
                var e = Record.Exception(() => JavaPattern.Compile(pattern));
                Assert.True(e is null, $"{service} {name}: {pattern}: {e?.Message}");
            }
        }
    }

    [Fact]
    public void The_locator_honours_the_override_and_refuses_a_folder_without_models()
    {
        var real = BotocoreModels.DataDirectory;
        Assert.Equal(real, BotocoreModels.Locate(v => v == BotocoreModels.DataDirectoryVariable ? real : null));
        var empty = Directory.CreateTempSubdirectory("no-models-").FullName;
        try
        {
            var e = Assert.Throws<ServiceModelMissing>(() => BotocoreModels.Locate(v => v == BotocoreModels.DataDirectoryVariable ? empty : null));
            Assert.Contains(BotocoreModels.DataDirectoryVariable, e.Message);
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Theory]
    [InlineData("arn:aws:states:::sagemaker:createTrainingJob.sync", "sagemaker", "CreateTrainingJob", "DescribeTrainingJob", "SageMaker.AmazonSageMakerException")]
    [InlineData("arn:aws:states:::aws-sdk:sagemaker:createModelPackage", "sagemaker", "CreateModelPackage", "CreateModelPackage", "SageMaker.ValidationException")]
    [InlineData("arn:aws:states:::athena:startQueryExecution.sync", "athena", "StartQueryExecution", "GetQueryExecution", "Athena.InvalidRequestException")]
    [InlineData("arn:aws:states:::sns:publish", "sns", "Publish", "Publish", "SNS.InvalidParameterException")]
    [InlineData("arn:aws:states:::lambda:invoke", "lambda", "Invoke", "Invoke", "Lambda.InvalidParameterValueException")]
    [InlineData("arn:aws:states:::aws-sdk:sfn:getExecutionHistory", "stepfunctions", "GetExecutionHistory", "GetExecutionHistory", "Sfn.ValidationException")]
    public void Resources_resolve_to_operations_and_error_names(string resource, string service, string operation, string answer, string error) =>
        Assert.Equal(new ServiceIntegration(service, operation, answer, error, resource.Contains(":aws-sdk:", StringComparison.Ordinal)), ServiceIntegration.Resolve(resource));

    [Fact]
    public void An_aws_sdk_integration_spells_the_models_camelCase_members_with_a_capital()
    {
        var model = ServiceIntegration.Resolve("arn:aws:states:::aws-sdk:sfn:getExecutionHistory")!.Model;
        var validator = new ShapeValidator(model);

        Assert.Empty(validator.Validate(model.InputShape("GetExecutionHistory")!, JsonNode.Parse("""{"ExecutionArn":"arn:aws:states:r:1:execution:m:n","MaxResults":1000}""")));
        Assert.Contains(validator.Validate(model.InputShape("GetExecutionHistory")!, JsonNode.Parse("""{"executionArn":"a"}""")), v => v.Path == "ExecutionArn");
        // The plain model keeps AWS's own spelling.
        Assert.Contains(new ShapeValidator(BotocoreModels.Load("stepfunctions")).Validate("GetExecutionHistoryInput", JsonNode.Parse("""{"ExecutionArn":"a"}""")),
            v => v.Path == "executionArn");
    }

    [Fact]
    public void A_refused_request_fails_with_the_integration_error_and_names_the_member()
    {
        var request = ValidModelPackage();
        request["ClientToken"] = "a_b";
        var e = Assert.Throws<TaskFailure>(() =>
            ServiceIntegration.Resolve("arn:aws:states:::aws-sdk:sagemaker:createModelPackage")!.CheckRequest("RegisterModelPackage", request));
        Assert.Equal("SageMaker.ValidationException", e.Error);
        Assert.Contains("RegisterModelPackage", e.Cause);
        Assert.Contains("ClientToken is 'a_b', which does not match the required pattern", e.Cause);
        Assert.DoesNotContain("\\\"", e.Cause);
    }

    [Fact]
    public void Answers_are_shaped_by_the_output_model_members_it_lacks_are_left_out()
    {
        var integration = ServiceIntegration.Resolve("arn:aws:states:::sagemaker:createModel")!;
        var shaped = integration.ShapeAnswer(JsonNode.Parse("""{ "ModelArn": "arn:aws:sagemaker:eu-west-1:123456789012:model/m", "LocalOnly": 1 }"""));
        Assert.Equal("""{"ModelArn":"arn:aws:sagemaker:eu-west-1:123456789012:model/m"}""", shaped!.ToJsonString());
        Assert.Contains("must be a string", Assert.Single(integration.CheckAnswer(JsonNode.Parse("""{ "ModelArn": 5 }"""))).Rule);
    }

    [Fact]
    public void A_lambda_payload_over_6_MB_is_too_large()
    {
        var request = new JsonObject { ["FunctionName"] = "arn:aws:lambda:eu-west-1:123456789012:function:f", ["Payload"] = new JsonObject { ["x"] = new string('a', 6 * 1024 * 1024) } };
        var e = Assert.Throws<TaskFailure>(() => ServiceIntegration.Resolve("arn:aws:states:::lambda:invoke")!.CheckRequest("PrepareRun", request));
        Assert.Equal("Lambda.RequestTooLargeException", e.Error);
    }

    private static string Decompressed(string file)
    {
        if (!file.EndsWith(".gz", StringComparison.Ordinal)) return file;
        var target = Path.Combine(Path.GetTempPath(), $"model-{Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(file)))}-{Environment.ProcessId}.json");
        using (var input = new System.IO.Compression.GZipStream(File.OpenRead(file), System.IO.Compression.CompressionMode.Decompress))
        using (var output = File.Create(target)) input.CopyTo(output);
        return target;
    }
}
