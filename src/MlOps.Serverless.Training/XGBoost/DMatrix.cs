using MlOps.Serverless.Training.Data;

namespace MlOps.Serverless.Training.XGBoost;

/// <summary>
/// A dense float32 XGBoost matrix (missing = NaN), optionally labelled. Create it once and share it
/// between boosters: XGBoost caches the hist quantisation on the matrix, so every trial after the
/// first skips the sketching.
/// </summary>
public sealed class DMatrix : IDisposable
{
    internal DMatrixHandle Handle { get; }
    public int Rows { get; }
    public int Columns { get; }

    private DMatrix(DMatrixHandle handle, int rows, int columns) => (Handle, Rows, Columns) = (handle, rows, columns);

    /// <param name="features">Row-major, <paramref name="rows"/> × <paramref name="columns"/>; NaN is missing.</param>
    /// <param name="labels">One label per row, or null for prediction-only matrices.</param>
    public static unsafe DMatrix FromDense(ReadOnlySpan<float> features, int rows, int columns, ReadOnlySpan<float> labels = default, int threads = 0)
    {
        if (rows < 0 || columns <= 0 || (long)rows * columns != features.Length)
            throw new ArgumentException($"features has {features.Length} values, expected rows {rows} × columns {columns}.", nameof(features));
        if (!labels.IsEmpty && labels.Length != rows)
            throw new ArgumentException($"labels has {labels.Length} values, expected one per row ({rows}).", nameof(labels));

        IntPtr raw = IntPtr.Zero;
        fixed (float* data = features)
        {
            var pointer = data;
            var code = XGBoostCall.Guard(() => XGBoostNative.XGDMatrixCreateFromMat_omp(pointer, (ulong)rows, (ulong)columns, float.NaN, out raw, threads));
            XGBoostCall.Check(code, "XGDMatrixCreateFromMat");
        }
        var matrix = new DMatrix(new DMatrixHandle(raw), rows, columns);
        if (!labels.IsEmpty)
        {
            fixed (float* label = labels)
                XGBoostCall.Check(XGBoostNative.XGDMatrixSetFloatInfo(matrix.Handle, "label", label, (ulong)rows), "XGDMatrixSetFloatInfo(label)");
        }
        return matrix;
    }

    public static unsafe DMatrix FromMatrix(FeatureMatrix matrix, int threads = 0)
    {
        var result = FromDense(matrix.Features, matrix.Rows, matrix.Columns, matrix.Labels, threads);
        if (matrix.Weights is { } weights)
        {
            if (weights.Length != matrix.Rows) throw new ArgumentException($"weights has {weights.Length} values, expected one per row ({matrix.Rows}).", nameof(matrix));
            fixed (float* weight = weights)
                XGBoostCall.Check(XGBoostNative.XGDMatrixSetFloatInfo(result.Handle, "weight", weight, (ulong)weights.Length), "XGDMatrixSetFloatInfo(weight)");
        }
        return result;
    }

    public void Dispose() => Handle.Dispose();
}
