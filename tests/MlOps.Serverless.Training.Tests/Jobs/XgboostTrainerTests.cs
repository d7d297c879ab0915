using MlOps.Serverless.Training.Data;
using MlOps.Serverless.Training.Jobs;
using MlOps.Serverless.Training.XGBoost;

namespace MlOps.Serverless.Training.Tests.Jobs;

public sealed class XgboostTrainerTests
{
    private static FeatureMatrix Matrix(int rows, int seed)
    {
        var csv = TestData.Csv(TestData.Rows(rows, seed));
        return CsvMatrixReader.Read([new CsvMatrixReader.Part("generated.csv", new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), Compression.None)], labelled: true);
    }

    private static XgboostHyperParameters Parameters(string rounds = "60", string? earlyStopping = null)
    {
        var map = new Dictionary<string, string> { ["num_round"] = rounds, ["max_depth"] = "4", ["eta"] = "0.3", ["objective"] = "reg:squarederror" };
        if (earlyStopping is not null) map["early_stopping_rounds"] = earlyStopping;
        return XgboostHyperParameters.Parse(map);
    }

    [Fact]
    public void Reports_train_and_validation_rmse_every_round_and_validation_rmse_drops()
    {
        using var train = DMatrix.FromMatrix(Matrix(1500, 1));
        using var validation = DMatrix.FromMatrix(Matrix(400, 2));
        using var outcome = XgboostTrainer.Train(Parameters(), train, validation, threads: 1);

        Assert.Equal(60, outcome.Curve.Count);
        Assert.All(outcome.Curve, r => Assert.Equal(["train:rmse", "validation:rmse"], r.Values.Keys.Order()));
        var first = outcome.Curve[0].Values["validation:rmse"];
        var final = outcome.FinalMetrics["validation:rmse"];
        Assert.True(final < first / 5, $"validation RMSE {first} -> {final}");
        Assert.True(final < 3, $"the target has noise ±0.5 and range ~70; validation RMSE {final} is too high");
    }

    [Fact]
    public void Early_stopping_keeps_only_the_rounds_up_to_the_best_iteration()
    {
        using var train = DMatrix.FromMatrix(Matrix(300, 3));
        using var validation = DMatrix.FromMatrix(Matrix(300, 4));
        // eta 1 and deep trees overfit quickly, so validation RMSE stops improving long before 500 rounds.
        var hp = XgboostHyperParameters.Parse(new Dictionary<string, string> { ["num_round"] = "500", ["max_depth"] = "8", ["eta"] = "1", ["early_stopping_rounds"] = "5" });
        using var outcome = XgboostTrainer.Train(hp, train, validation, threads: 1);

        Assert.True(outcome.StoppedEarly);
        Assert.Equal(outcome.BestIteration + 6, outcome.RoundsTrained);
        Assert.Equal(outcome.BestIteration + 1, outcome.Model.BoostedRounds);
        var best = outcome.Curve.Min(r => r.Values["validation:rmse"]);
        Assert.Equal(best, outcome.FinalMetrics["validation:rmse"]);
    }

    [Fact]
    public void Several_eval_metrics_are_reported_and_the_tuning_objective_drives_early_stopping()
    {
        using var train = DMatrix.FromMatrix(Matrix(300, 7));
        using var validation = DMatrix.FromMatrix(Matrix(300, 8));
        var map = new Dictionary<string, string>
        {
            ["num_round"] = "300", ["max_depth"] = "8", ["eta"] = "1", ["early_stopping_rounds"] = "5",
            ["eval_metric"] = "rmse,mae", ["_tuning_objective_metric"] = "validation:rmse",
        };
        using var outcome = XgboostTrainer.Train(XgboostHyperParameters.Parse(map), train, validation, threads: 1);

        Assert.Equal(["train:mae", "train:rmse", "validation:mae", "validation:rmse"], outcome.FinalMetrics.Keys.Order());
        Assert.Equal(outcome.Curve.Min(r => r.Values["validation:rmse"]), outcome.FinalMetrics["validation:rmse"]);
        Assert.Equal(outcome.BestIteration + 6, outcome.RoundsTrained);
    }

    [Fact]
    public void Csv_weights_read_the_second_column_as_instance_weight_and_change_the_model()
    {
        // Two groups with identical features but different labels: the weighted mean decides the prediction.
        var csv = "10,1,0.5\n10,1,0.5\n0,3,0.5\n"u8.ToArray();
        var matrix = CsvMatrixReader.Read([new CsvMatrixReader.Part("w.csv", new MemoryStream(csv), Compression.None)], labelled: true, weighted: true);
        Assert.Equal(1, matrix.Columns);
        Assert.Equal([1f, 1f, 3f], matrix.Weights!);

        using var weighted = DMatrix.FromMatrix(matrix);
        var hp = XgboostHyperParameters.Parse(new Dictionary<string, string> { ["num_round"] = "200", ["eta"] = "0.3", ["csv_weights"] = "1", ["base_score"] = "0", ["lambda"] = "0", ["min_child_weight"] = "0" });
        Assert.True(hp.CsvWeights);
        using var outcome = XgboostTrainer.Train(hp, weighted, null, threads: 1);
        // Weighted mean (1·10 + 1·10 + 3·0) / 5 = 4; unweighted it would be 6.67.
        Assert.Equal(4.0, outcome.Model.Predict(weighted)[0], 2);
    }

    [Fact]
    public void Validation_mae_with_csv_weights_is_the_weighted_mean_absolute_error_as_wmae()
    {
        // Label, weight (holiday weeks 5), one feature: the pipeline's train/validation layout.
        var rows = TestData.Rows(600, 7);
        var lines = rows.Select((r, i) => (Csv: TestData.Csv([r]).TrimEnd('\n', '\r'), Weight: i % 7 == 0 ? 5 : 1)).ToList();
        var csv = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', lines.Select(l =>
        {
            var comma = l.Csv.IndexOf(',');
            return $"{l.Csv[..comma]},{l.Weight}{l.Csv[comma..]}";
        })));
        var matrix = CsvMatrixReader.Read([new CsvMatrixReader.Part("v.csv", new MemoryStream(csv), Compression.None)], labelled: true, weighted: true);
        using var train = DMatrix.FromMatrix(Matrix(1500, 1));
        using var validation = DMatrix.FromMatrix(matrix);
        var hp = XgboostHyperParameters.Parse(new Dictionary<string, string>
        {
            ["num_round"] = "20", ["max_depth"] = "4", ["eta"] = "0.3", ["eval_metric"] = "rmse,mae", ["csv_weights"] = "1",
        });
        using var outcome = XgboostTrainer.Train(hp, train, validation, threads: 1);

        var predicted = outcome.Model.Predict(validation);
        var weights = matrix.Weights!;
        var wmae = Enumerable.Range(0, matrix.Rows).Sum(i => weights[i] * Math.Abs(matrix.Labels[i] - predicted[i])) / weights.Sum();
        var mae = Enumerable.Range(0, matrix.Rows).Average(i => Math.Abs(matrix.Labels[i] - predicted[i]));
        Assert.Equal(wmae, outcome.FinalMetrics["validation:mae"], 3);
        Assert.NotEqual(Math.Round(mae, 3), Math.Round(outcome.FinalMetrics["validation:mae"], 3));
    }

    [Fact]
    public void Model_artifact_is_a_tar_gz_holding_xgboost_model_that_predicts_like_the_trained_booster()
    {
        using var train = DMatrix.FromMatrix(Matrix(500, 5));
        using var outcome = XgboostTrainer.Train(Parameters("20"), train, null, threads: 1);
        var buffer = new MemoryStream();
        ModelArtifact.Write(outcome.Model, buffer);

        buffer.Position = 0;
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionMode.Decompress, leaveOpen: true))
        using (var tar = new System.Formats.Tar.TarReader(gzip))
        {
            var entry = tar.GetNextEntry();
            Assert.Equal("xgboost-model", entry!.Name);
            Assert.Null(tar.GetNextEntry());
        }
        buffer.Position = 0;
        using var loaded = ModelArtifact.Load(buffer, "memory");
        Assert.Equal(outcome.Model.Predict(train), loaded.Predict(train));
        Assert.Equal(20, loaded.BoostedRounds);
    }

    [Fact]
    public void Parses_the_container_evaluation_line_into_sagemaker_metric_names()
    {
        var metrics = XgboostTrainer.ParseEvaluation("[12]\ttrain-rmse:1.25\tvalidation-rmse:2.5\tvalidation-mae:0.75");
        Assert.Equal(1.25, metrics["train:rmse"]);
        Assert.Equal(2.5, metrics["validation:rmse"]);
        Assert.Equal(0.75, metrics["validation:mae"]);
    }

    [Theory]
    [InlineData(null, "num_round is required")]
    [InlineData("0", "must be a positive integer")]
    [InlineData("ten", "must be a positive integer")]
    public void Rejects_num_round_the_container_would_reject(string? numRound, string message)
    {
        var map = new Dictionary<string, string>();
        if (numRound is not null) map["num_round"] = numRound;
        var error = Assert.Throws<InvalidHyperParameters>(() => XgboostHyperParameters.Parse(map));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Booster_parameters_drop_container_keys_and_default_to_hist()
    {
        var parsed = XgboostHyperParameters.Parse(new Dictionary<string, string> { ["num_round"] = "50.0", ["early_stopping_rounds"] = "10", ["eta"] = "0.1", ["nthread"] = "64" });
        Assert.Equal(50, parsed.NumRound);
        Assert.Equal(10, parsed.EarlyStoppingRounds);
        Assert.Equal("hist", parsed.BoosterParameters["tree_method"]);
        Assert.Equal("0.1", parsed.BoosterParameters["eta"]);
        Assert.False(parsed.BoosterParameters.ContainsKey("num_round"));
        Assert.False(parsed.BoosterParameters.ContainsKey("nthread"));
    }

    [Fact]
    public void An_invalid_booster_parameter_surfaces_xgboost_s_own_message()
    {
        using var train = DMatrix.FromMatrix(Matrix(50, 6));
        var hp = XgboostHyperParameters.Parse(new Dictionary<string, string> { ["num_round"] = "2", ["max_depth"] = "-3" });
        var error = Assert.Throws<XGBoostCallFailed>(() => XgboostTrainer.Train(hp, train, null, threads: 1));
        Assert.Contains("max_depth", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_reader_reads_gzip_empty_fields_as_missing_and_names_the_bad_line()
    {
        var gz = new MemoryStream();
        using (var z = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            z.Write("1,2,,4\r\n5,6,7,8\r\n"u8);
        gz.Position = 0;
        var matrix = CsvMatrixReader.Read([new CsvMatrixReader.Part("a.csv.gz", gz, Compression.Gzip)], labelled: true);
        Assert.Equal(2, matrix.Rows);
        Assert.Equal(3, matrix.Columns);
        Assert.Equal([1f, 5f], matrix.Labels);
        Assert.True(float.IsNaN(matrix.Features[1]));

        var bad = Assert.Throws<InvalidTrainingData>(() => CsvMatrixReader.Read(
            [new CsvMatrixReader.Part("b.csv", new MemoryStream("1,2\n3,x\n"u8.ToArray()), Compression.None)], labelled: true));
        Assert.Contains("b.csv line 2 column 2: 'x'", bad.Message, StringComparison.Ordinal);
    }
}
