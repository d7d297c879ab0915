namespace MlOps.Serverless.Training.Data;

/// <summary>
/// A dense row-major float32 matrix as SageMaker's XGBoost reads a CSV channel: the first CSV column is
/// the label (when <see cref="Labels"/> is set), then the instance weight when the channel is weighted
/// (<c>csv_weights=1</c>), then the features; empty fields are missing (NaN).
/// </summary>
public sealed record FeatureMatrix(float[] Features, float[] Labels, int Rows, int Columns, float[]? Weights = null)
{
    public ReadOnlySpan<float> Row(int row) => Features.AsSpan(row * Columns, Columns);
}
