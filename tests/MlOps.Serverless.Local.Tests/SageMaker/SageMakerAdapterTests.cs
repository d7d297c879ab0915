using System.Globalization;
using System.Text.Json.Nodes;
using MlOps.Serverless.Core.Logging;
using MlOps.Serverless.Core.Storage;
using MlOps.Serverless.Local.Adapters;
using MlOps.Serverless.Local.S3;
using MlOps.Serverless.Local.SageMaker;
using MlOps.Serverless.Training.Jobs;
using MlOps.Serverless.Training.Metrics;

namespace MlOps.Serverless.Local.Tests.SageMaker;

public sealed class SageMakerAdapterTests : IDisposable
{
    private const string Image = "local/sagemaker-xgboost:1.7-1";
    private readonly TempFolder _folder = new();
    private readonly LocalFolderObjectStore _s3;
    private readonly SageMakerAdapter _adapter;

    public SageMakerAdapterTests()
    {
        _s3 = new LocalFolderObjectStore(Path.Combine(_folder.Path, "s3"));
        _adapter = NewAdapter();
    }

    private SageMakerAdapter NewAdapter() =>
        new(_s3, Path.Combine(_folder.Path, "state"), new LocalAwsIdentity(), new StructuredLog("test", TextWriter.Null));

    public void Dispose() => _folder.Dispose();

    private async Task WriteChannelsAsync(int trainRows = 800, int validationRows = 300)
    {
        // Two objects in the train prefix, as Athena UNLOAD writes several files.
        var train = TestData.Rows(trainRows, 11);
        await TestData.PutAsync(_s3, "s3://work/runs/r1/train/part-0.csv", TestData.Csv(train.Take(trainRows / 2)), gzip: false);
        await TestData.PutAsync(_s3, "s3://work/runs/r1/train/part-1.csv", TestData.Csv(train.Skip(trainRows / 2)), gzip: false);
        await TestData.PutAsync(_s3, "s3://work/runs/r1/validation/part-0.csv", TestData.Csv(TestData.Rows(validationRows, 12)), gzip: false);
    }

    private static JsonArray Channels() => new(
        Channel("train", "s3://work/runs/r1/train/"),
        Channel("validation", "s3://work/runs/r1/validation/"));

    private static JsonObject Channel(string name, string uri) => new()
    {
        ["ChannelName"] = name,
        ["DataSource"] = new JsonObject { ["S3DataSource"] = new JsonObject { ["S3Uri"] = uri, ["S3DataType"] = "S3Prefix", ["S3DataDistributionType"] = "FullyReplicated" } },
        ["ContentType"] = "text/csv",
    };

    private static JsonObject TrainingRequest(string name = "train-r1") => new()
    {
        ["TrainingJobName"] = name,
        ["AlgorithmSpecification"] = new JsonObject { ["TrainingImage"] = Image, ["TrainingInputMode"] = "File" },
        ["HyperParameters"] = new JsonObject
        {
            ["num_round"] = "80", ["max_depth"] = "4", ["eta"] = "0.2", ["subsample"] = "0.9", ["objective"] = "reg:squarederror",
            ["early_stopping_rounds"] = "10", ["eval_metric"] = "rmse",
        },
        ["InputDataConfig"] = Channels(),
        ["OutputDataConfig"] = new JsonObject { ["S3OutputPath"] = "s3://artifacts/runs/r1/models/" },
        ["ResourceConfig"] = new JsonObject { ["InstanceType"] = "ml.m5.xlarge", ["InstanceCount"] = 1, ["VolumeSizeInGB"] = 10 },
        ["StoppingCondition"] = new JsonObject { ["MaxRuntimeInSeconds"] = 3600, ["MaxWaitTimeInSeconds"] = 7200 },
        ["EnableManagedSpotTraining"] = true,
        ["CheckpointConfig"] = new JsonObject { ["S3Uri"] = "s3://artifacts/runs/r1/checkpoints/" },
        ["RoleArn"] = "arn:aws:iam::000000000000:role/sagemaker",
    };

    private static JsonObject TuningRequest(string name = "tune-r1", int jobs = 4, int parallel = 2) => new()
    {
        ["HyperParameterTuningJobName"] = name,
        ["HyperParameterTuningJobConfig"] = new JsonObject
        {
            ["Strategy"] = "Bayesian",
            ["HyperParameterTuningJobObjective"] = new JsonObject { ["Type"] = "Minimize", ["MetricName"] = "validation:rmse" },
            ["ResourceLimits"] = new JsonObject { ["MaxNumberOfTrainingJobs"] = jobs, ["MaxParallelTrainingJobs"] = parallel },
            ["ParameterRanges"] = new JsonObject
            {
                ["IntegerParameterRanges"] = new JsonArray(
                    new JsonObject { ["Name"] = "num_round", ["MinValue"] = "20", ["MaxValue"] = "60", ["ScalingType"] = "Auto" },
                    new JsonObject { ["Name"] = "max_depth", ["MinValue"] = "2", ["MaxValue"] = "6", ["ScalingType"] = "Auto" }),
                ["ContinuousParameterRanges"] = new JsonArray(
                    new JsonObject { ["Name"] = "eta", ["MinValue"] = "0.05", ["MaxValue"] = "0.5", ["ScalingType"] = "Logarithmic" },
                    new JsonObject { ["Name"] = "alpha", ["MinValue"] = "1", ["MaxValue"] = "20", ["ScalingType"] = "Auto" }),
            },
            ["TrainingJobEarlyStoppingType"] = "Auto",
        },
        ["TrainingJobDefinition"] = new JsonObject
        {
            ["StaticHyperParameters"] = new JsonObject { ["objective"] = "reg:squarederror", ["early_stopping_rounds"] = "5", ["subsample"] = "0.9" },
            ["AlgorithmSpecification"] = new JsonObject { ["TrainingImage"] = Image, ["TrainingInputMode"] = "File" },
            ["InputDataConfig"] = Channels(),
            ["OutputDataConfig"] = new JsonObject { ["S3OutputPath"] = "s3://artifacts/runs/r1/models/" },
            ["ResourceConfig"] = new JsonObject { ["InstanceType"] = "ml.m5.xlarge", ["InstanceCount"] = 1, ["VolumeSizeInGB"] = 10 },
            ["StoppingCondition"] = new JsonObject { ["MaxRuntimeInSeconds"] = 3600, ["MaxWaitTimeInSeconds"] = 7200 },
            ["EnableManagedSpotTraining"] = true,
            ["RoleArn"] = "arn:aws:iam::000000000000:role/sagemaker",
        },
    };

    private Task<JsonNode?> Invoke(string resource, JsonNode request) => _adapter.InvokeAsync(resource, request, CancellationToken.None);

    [Fact]
    public async Task Training_job_returns_describe_training_job_and_writes_the_sagemaker_model_layout()
    {
        await WriteChannelsAsync();
        var result = (await Invoke("arn:aws:states:::sagemaker:createTrainingJob.sync", TrainingRequest()))!;

        Assert.Equal("train-r1", result["TrainingJobName"]!.GetValue<string>());
        Assert.Equal("arn:aws:sagemaker:local:000000000000:training-job/train-r1", result["TrainingJobArn"]!.GetValue<string>());
        Assert.Equal("Completed", result["TrainingJobStatus"]!.GetValue<string>());
        Assert.Equal("Completed", result["SecondaryStatus"]!.GetValue<string>());
        Assert.Equal("80", result["HyperParameters"]!["num_round"]!.GetValue<string>());
        Assert.Equal(Image, result["AlgorithmSpecification"]!["TrainingImage"]!.GetValue<string>());
        Assert.True(result["EnableManagedSpotTraining"]!.GetValue<bool>());
        var model = result["ModelArtifacts"]!["S3ModelArtifacts"]!.GetValue<string>();
        Assert.Equal("s3://artifacts/runs/r1/models/train-r1/output/model.tar.gz", model);
        var metrics = result["FinalMetricDataList"]!.AsArray().ToDictionary(m => m!["MetricName"]!.GetValue<string>(), m => m!["Value"]!.GetValue<double>());
        Assert.Equal(["train:rmse", "validation:rmse"], metrics.Keys.Order());
        Assert.True(metrics["validation:rmse"] < 5, $"validation RMSE {metrics["validation:rmse"]}");
        Assert.True(result["BillableTimeInSeconds"]!.GetValue<int>() >= 1);
        Assert.NotNull(result["TrainingStartTime"]);
        Assert.NotNull(result["TrainingEndTime"]);

        await using (var artifact = await _s3.OpenReadAsync(S3Uri.Parse(model)))
        using (var booster = ModelArtifact.Load(artifact!, model))
            Assert.True(booster.BoostedRounds >= 1);
        var curves = _adapter.Training.Curves("train-r1")!;
        Assert.Equal(curves.RoundsTrained, curves.Metrics["validation:rmse"].Count);
        Assert.Contains("validation:rmse", await TestData.ReadAsync(_s3, "s3://artifacts/runs/r1/models/train-r1/output/metric-curves.json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describe_training_job_answers_from_the_store_across_adapter_instances()
    {
        await WriteChannelsAsync(200, 100);
        await Invoke("arn:aws:states:::sagemaker:createTrainingJob.sync", TrainingRequest());

        var again = await NewAdapter().InvokeAsync("arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob", new JsonObject { ["TrainingJobName"] = "train-r1" }, CancellationToken.None);
        Assert.Equal("Completed", again!["TrainingJobStatus"]!.GetValue<string>());

        var missing = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob", new JsonObject { ["TrainingJobName"] = "nope" }));
        Assert.Equal("SageMaker.ResourceNotFoundException", missing.Error);
    }

    [Fact]
    public async Task A_job_without_data_fails_as_states_task_failed_with_the_describe_json_as_cause()
    {
        var failure = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::sagemaker:createTrainingJob.sync", TrainingRequest()));
        Assert.Equal("States.TaskFailed", failure.Error);
        var cause = JsonNode.Parse(failure.Cause)!;
        Assert.Equal("Failed", cause["TrainingJobStatus"]!.GetValue<string>());
        Assert.Contains("no objects under s3://work/runs/r1/train/", cause["FailureReason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task File_mode_refuses_a_gzip_compression_type_like_sagemaker()
    {
        await WriteChannelsAsync();
        var request = TrainingRequest();
        request["InputDataConfig"]![0]!["CompressionType"] = "Gzip";
        var failure = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::sagemaker:createTrainingJob.sync", request));
        Assert.Equal("SageMaker.AmazonSageMakerException", failure.Error);
        Assert.Contains("InputDataConfig[0].CompressionType is 'Gzip', but File input mode only supports None", failure.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task File_mode_delivers_objects_as_stored_so_gzip_objects_fail_the_job()
    {
        await TestData.PutAsync(_s3, "s3://work/runs/r1/train/part-0.csv.gz", TestData.Csv(TestData.Rows(200, 11)), gzip: true);
        await TestData.PutAsync(_s3, "s3://work/runs/r1/validation/part-0.csv", TestData.Csv(TestData.Rows(100, 12)), gzip: false);
        var failure = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::sagemaker:createTrainingJob.sync", TrainingRequest()));
        Assert.Equal("States.TaskFailed", failure.Error);
        Assert.Contains("part-0.csv.gz is gzip-compressed, but File mode delivers objects as stored",
            JsonNode.Parse(failure.Cause)!["FailureReason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TrainingJobName", "'TrainingJobName'")]
    [InlineData("OutputDataConfig", "'OutputDataConfig.S3OutputPath'")]
    [InlineData("AlgorithmSpecification", "'AlgorithmSpecification'")]
    public async Task Invalid_training_requests_name_the_missing_field(string field, string message)
    {
        var request = TrainingRequest();
        request.Remove(field);
        var failure = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::sagemaker:createTrainingJob.sync", request));
        Assert.Equal("SageMaker.AmazonSageMakerException", failure.Error);
        Assert.Contains(message, failure.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tuning_explores_within_the_ranges_and_returns_the_best_job_by_the_objective()
    {
        await WriteChannelsAsync(600, 200);
        var result = (await Invoke("arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync", TuningRequest()))!;

        Assert.Equal("Completed", result["HyperParameterTuningJobStatus"]!.GetValue<string>());
        Assert.Equal("arn:aws:sagemaker:local:000000000000:hyper-parameter-tuning-job/tune-r1", result["HyperParameterTuningJobArn"]!.GetValue<string>());
        Assert.Equal(4, result["TrainingJobStatusCounters"]!["Completed"]!.GetValue<int>());
        Assert.Equal(4, result["ObjectiveStatusCounters"]!["Succeeded"]!.GetValue<int>());
        Assert.Null(result["TrainingJobSummaries"]);

        var list = (await Invoke("arn:aws:states:::aws-sdk:sagemaker:listTrainingJobsForHyperParameterTuningJob", new JsonObject
        {
            ["HyperParameterTuningJobName"] = "tune-r1", ["MaxResults"] = 10, ["SortBy"] = "FinalObjectiveMetricValue", ["SortOrder"] = "Ascending",
        }))!["TrainingJobSummaries"]!.AsArray();
        Assert.Equal(4, list.Count);
        var values = list.Select(s => s!["FinalHyperParameterTuningJobObjectiveMetric"]!["Value"]!.GetValue<double>()).ToList();
        Assert.Equal(values.Order(), values);
        Assert.All(list, s =>
        {
            Assert.Matches("^tune-r1-00[1-4]-[0-9a-f]{8}$", s!["TrainingJobName"]!.GetValue<string>());
            var tuned = s["TunedHyperParameters"]!;
            Assert.InRange(int.Parse(tuned["num_round"]!.GetValue<string>(), CultureInfo.InvariantCulture), 20, 60);
            Assert.InRange(int.Parse(tuned["max_depth"]!.GetValue<string>(), CultureInfo.InvariantCulture), 2, 6);
            Assert.InRange(double.Parse(tuned["eta"]!.GetValue<string>(), CultureInfo.InvariantCulture), 0.05, 0.5);
            Assert.InRange(double.Parse(tuned["alpha"]!.GetValue<string>(), CultureInfo.InvariantCulture), 1, 20);
        });
        Assert.Equal(4, list.Select(s => s!["TunedHyperParameters"]!["eta"]!.GetValue<string>()).Distinct().Count());

        var best = result["BestTrainingJob"]!;
        Assert.Equal(list[0]!["TrainingJobName"]!.GetValue<string>(), best["TrainingJobName"]!.GetValue<string>());
        Assert.Equal(values[0], best["FinalHyperParameterTuningJobObjectiveMetric"]!["Value"]!.GetValue<double>());
        Assert.Equal("validation:rmse", best["FinalHyperParameterTuningJobObjectiveMetric"]!["MetricName"]!.GetValue<string>());

        // Each trial is a real training job: describable, with the static and tuned hyperparameters merged.
        var job = (await Invoke("arn:aws:states:::aws-sdk:sagemaker:describeTrainingJob", new JsonObject { ["TrainingJobName"] = best["TrainingJobName"]!.GetValue<string>() }))!;
        Assert.Equal("5", job["HyperParameters"]!["early_stopping_rounds"]!.GetValue<string>());
        Assert.Equal("validation:rmse", job["HyperParameters"]!["_tuning_objective_metric"]!.GetValue<string>());
        Assert.Equal(best["TunedHyperParameters"]!["eta"]!.GetValue<string>(), job["HyperParameters"]!["eta"]!.GetValue<string>());
        Assert.Equal(result["HyperParameterTuningJobArn"]!.GetValue<string>(), job["TuningJobArn"]!.GetValue<string>());
    }

    [Fact]
    public async Task Tuning_rejects_names_over_32_characters_and_static_parameters_that_are_also_tuned()
    {
        var longName = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync", TuningRequest(new string('t', 33))));
        Assert.Equal("SageMaker.AmazonSageMakerException", longName.Error);
        Assert.Contains("HyperParameterTuningJobName", longName.Cause, StringComparison.Ordinal);

        var request = TuningRequest();
        request["TrainingJobDefinition"]!["StaticHyperParameters"]!["eta"] = "0.1";
        var both = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync", request));
        Assert.Contains("'eta' is both", both.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Model_registry_is_idempotent_per_client_token_and_lists_latest_approved_first()
    {
        JsonObject Package(string token, string status, string wmae) => new()
        {
            ["ModelPackageGroupName"] = "retail-weekly-sales",
            ["ModelApprovalStatus"] = status,
            ["ModelPackageDescription"] = "run " + token,
            ["InferenceSpecification"] = new JsonObject
            {
                ["Containers"] = new JsonArray(new JsonObject { ["Image"] = Image, ["ModelDataUrl"] = "s3://artifacts/m/model.tar.gz" }),
                ["SupportedContentTypes"] = new JsonArray("text/csv"),
                ["SupportedResponseMIMETypes"] = new JsonArray("text/csv"),
            },
            ["ModelMetrics"] = new JsonObject { ["ModelQuality"] = new JsonObject { ["Statistics"] = new JsonObject { ["ContentType"] = "application/json", ["S3Uri"] = "s3://work/e.json" } } },
            ["CustomerMetadataProperties"] = new JsonObject { ["wmae"] = wmae },
            ["ClientToken"] = token,
        };
        const string create = "arn:aws:states:::aws-sdk:sagemaker:createModelPackage";
        var first = (await Invoke(create, Package("run-a", "Approved", "1500")))!["ModelPackageArn"]!.GetValue<string>();
        var retry = (await Invoke(create, Package("run-a", "Approved", "1500")))!["ModelPackageArn"]!.GetValue<string>();
        var second = (await Invoke(create, Package("run-b", "Approved", "1400")))!["ModelPackageArn"]!.GetValue<string>();
        await Invoke(create, Package("run-c", "Rejected", "9999"));

        Assert.Equal(first, retry);
        Assert.Equal("arn:aws:sagemaker:local:000000000000:model-package/retail-weekly-sales/1", first);
        Assert.Equal("arn:aws:sagemaker:local:000000000000:model-package/retail-weekly-sales/2", second);

        var list = (await Invoke("arn:aws:states:::aws-sdk:sagemaker:listModelPackages", new JsonObject
        {
            ["ModelPackageGroupName"] = "retail-weekly-sales", ["ModelApprovalStatus"] = "Approved", ["SortBy"] = "CreationTime", ["SortOrder"] = "Descending", ["MaxResults"] = 1,
        }))!;
        var summaries = list["ModelPackageSummaryList"]!.AsArray();
        Assert.Single(summaries);
        Assert.Equal(second, summaries[0]!["ModelPackageArn"]!.GetValue<string>());
        Assert.Equal(2, summaries[0]!["ModelPackageVersion"]!.GetValue<int>());
        Assert.Equal("Completed", summaries[0]!["ModelPackageStatus"]!.GetValue<string>());
        Assert.NotNull(list["NextToken"]);

        var described = (await Invoke("arn:aws:states:::aws-sdk:sagemaker:describeModelPackage", new JsonObject { ["ModelPackageName"] = second }))!;
        Assert.Equal("1400", described["CustomerMetadataProperties"]!["wmae"]!.GetValue<string>());
        Assert.Equal("s3://artifacts/m/model.tar.gz", described["InferenceSpecification"]!["Containers"]![0]!["ModelDataUrl"]!.GetValue<string>());
        Assert.Equal("s3://work/e.json", described["ModelMetrics"]!["ModelQuality"]!["Statistics"]!["S3Uri"]!.GetValue<string>());
        Assert.Null(described["ClientToken"]);

        var unknown = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::aws-sdk:sagemaker:describeModelPackage",
            new JsonObject { ["ModelPackageName"] = "arn:aws:sagemaker:local:000000000000:model-package/retail-weekly-sales/99" }));
        Assert.Equal("SageMaker.ResourceNotFoundException", unknown.Error);
    }

    [Fact]
    public async Task Model_package_metadata_over_the_limits_is_rejected_naming_the_key()
    {
        var request = new JsonObject
        {
            ["ModelPackageGroupName"] = "g",
            ["InferenceSpecification"] = new JsonObject { ["Containers"] = new JsonArray(new JsonObject { ["Image"] = Image }) },
            ["CustomerMetadataProperties"] = new JsonObject { ["reasons"] = new string('x', 257) },
        };
        var failure = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::aws-sdk:sagemaker:createModelPackage", request));
        Assert.Equal("SageMaker.AmazonSageMakerException", failure.Error);
        Assert.Contains("CustomerMetadataProperties.reasons", failure.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task End_to_end_train_transform_and_metrics_on_generated_data()
    {
        await WriteChannelsAsync();
        var training = (await Invoke("arn:aws:states:::sagemaker:createTrainingJob.sync", TrainingRequest()))!;
        var modelData = training["ModelArtifacts"]!["S3ModelArtifacts"]!.GetValue<string>();

        // Test features: record id first, then the features (the data stage's layout).
        var test = TestData.Rows(200, 13, noise: 0);
        await TestData.PutAsync(_s3, "s3://work/runs/r1/test-features/part-0.csv.gz", TestData.Csv(test.Take(120), recordId: i => $"1_{i}_2012-04-06"), gzip: true);
        await TestData.PutAsync(_s3, "s3://work/runs/r1/test-features/part-1.csv.gz", TestData.Csv(test.Skip(120), recordId: i => $"2_{i}_2012-04-06"), gzip: true);

        var model = (await Invoke("arn:aws:states:::sagemaker:createModel", new JsonObject
        {
            ["ModelName"] = "model-r1",
            ["PrimaryContainer"] = new JsonObject { ["Image"] = Image, ["ModelDataUrl"] = modelData },
            ["ExecutionRoleArn"] = "arn:aws:iam::000000000000:role/sagemaker",
        }))!;
        Assert.Equal("arn:aws:sagemaker:local:000000000000:model/model-r1", model["ModelArn"]!.GetValue<string>());

        var transform = (await Invoke("arn:aws:states:::sagemaker:createTransformJob.sync", new JsonObject
        {
            ["TransformJobName"] = "eval-r1",
            ["ModelName"] = "model-r1",
            ["TransformInput"] = new JsonObject
            {
                ["DataSource"] = new JsonObject { ["S3DataSource"] = new JsonObject { ["S3DataType"] = "S3Prefix", ["S3Uri"] = "s3://work/runs/r1/test-features/" } },
                ["ContentType"] = "text/csv", ["SplitType"] = "Line", ["CompressionType"] = "Gzip",
            },
            ["TransformOutput"] = new JsonObject { ["S3OutputPath"] = "s3://work/runs/r1/predictions/", ["Accept"] = "text/csv", ["AssembleWith"] = "Line" },
            ["TransformResources"] = new JsonObject { ["InstanceType"] = "ml.m5.large", ["InstanceCount"] = 1 },
            ["DataProcessing"] = new JsonObject { ["InputFilter"] = "$[1:]", ["JoinSource"] = "Input", ["OutputFilter"] = "$[0,-1]" },
        }))!;
        Assert.Equal("Completed", transform["TransformJobStatus"]!.GetValue<string>());
        Assert.Equal("arn:aws:sagemaker:local:000000000000:transform-job/eval-r1", transform["TransformJobArn"]!.GetValue<string>());

        var lines = (await TestData.ReadAsync(_s3, "s3://work/runs/r1/predictions/part-0.csv.gz.out")).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Concat((await TestData.ReadAsync(_s3, "s3://work/runs/r1/predictions/part-1.csv.gz.out")).Split('\n', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(200, lines.Count);
        Assert.All(lines, l => Assert.Matches(@"^\d_\d+_2012-04-06,-?[0-9.E+-]+$", l));
        Assert.StartsWith("1_0_2012-04-06,", lines[0], StringComparison.Ordinal);

        // Evaluate as the evaluation SQL does: join predictions to labels by record id.
        var predicted = lines.Select(l => double.Parse(l.Split(',')[1], CultureInfo.InvariantCulture)).ToArray();
        var actual = test.Select(r => r.Label).ToArray();
        var errors = RegressionMetrics.Compute(actual, predicted, actual.Select((_, i) => i % 10 == 0).ToArray());
        var naive = RegressionMetrics.Compute(actual, actual.Select(_ => actual.Average()).ToArray(), actual.Select((_, i) => i % 10 == 0).ToArray());
        Assert.True(errors.Wmae < 0.2 * naive.Wmae, $"model WMAE {errors.Wmae} vs mean-forecast WMAE {naive.Wmae}");
    }

    [Fact]
    public async Task Transform_of_an_empty_prefix_fails_like_sagemaker_and_unknown_models_are_not_found()
    {
        await WriteChannelsAsync(200, 100);
        var training = (await Invoke("arn:aws:states:::sagemaker:createTrainingJob.sync", TrainingRequest()))!;
        await Invoke("arn:aws:states:::sagemaker:createModel", new JsonObject
        {
            ["ModelName"] = "m1",
            ["PrimaryContainer"] = new JsonObject { ["Image"] = Image, ["ModelDataUrl"] = training["ModelArtifacts"]!["S3ModelArtifacts"]!.DeepClone() },
        });
        JsonObject Request(string model) => new()
        {
            ["TransformJobName"] = "t-" + model,
            ["ModelName"] = model,
            ["TransformInput"] = new JsonObject
            {
                ["DataSource"] = new JsonObject { ["S3DataSource"] = new JsonObject { ["S3DataType"] = "S3Prefix", ["S3Uri"] = "s3://work/empty/" } },
                ["ContentType"] = "text/csv", ["SplitType"] = "Line",
            },
            ["TransformOutput"] = new JsonObject { ["S3OutputPath"] = "s3://work/out/", ["AssembleWith"] = "Line" },
        };

        var empty = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::sagemaker:createTransformJob.sync", Request("m1")));
        Assert.Equal("States.TaskFailed", empty.Error);
        Assert.Contains("No data found under s3://work/empty/", JsonNode.Parse(empty.Cause)!["FailureReason"]!.GetValue<string>(), StringComparison.Ordinal);

        var unknown = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::sagemaker:createTransformJob.sync", Request("nope")));
        Assert.Equal("SageMaker.ResourceNotFoundException", unknown.Error);

        var badFilter = Request("m1");
        badFilter["DataProcessing"] = new JsonObject { ["InputFilter"] = "$.features" };
        var invalid = await Assert.ThrowsAsync<TaskFailure>(() => Invoke("arn:aws:states:::sagemaker:createTransformJob.sync", badFilter));
        Assert.Equal("SageMaker.AmazonSageMakerException", invalid.Error);
        Assert.Contains("DataProcessing.InputFilter", invalid.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public void Claims_only_sagemaker_resources()
    {
        Assert.True(_adapter.CanHandle("arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync"));
        Assert.True(_adapter.CanHandle("arn:aws:states:::aws-sdk:sagemaker:listModelPackages"));
        Assert.True(_adapter.CanHandle("arn:aws:states:::sagemaker:createEndpointConfig"));
        Assert.False(_adapter.CanHandle("arn:aws:states:::athena:startQueryExecution.sync"));
        Assert.False(_adapter.CanHandle("arn:aws:states:::aws-sdk:sagemaker:deleteModel"));
    }
}
