using System.Globalization;
using System.Runtime.InteropServices;

namespace MlOps.Serverless.Training.XGBoost;

/// <summary>
/// One XGBoost model being trained or loaded. Not thread-safe: use one booster per thread
/// (several boosters may share a <see cref="DMatrix"/>).
/// </summary>
public sealed class Booster : IDisposable
{
    private readonly BoosterHandle _handle;
    // The booster keeps raw pointers to its cache matrices; hold them so the GC cannot free them first.
    private readonly DMatrix[] _cache;

    private Booster(BoosterHandle handle, DMatrix[] cache) => (_handle, _cache) = (handle, cache);

    /// <param name="cache">The matrices the booster trains and evaluates on (XGBoost caches predictions for them).</param>
    public static unsafe Booster Create(params DMatrix[] cache)
    {
        var handles = new IntPtr[cache.Length];
        for (var i = 0; i < cache.Length; i++) handles[i] = cache[i].Handle.DangerousGetHandle();
        IntPtr raw = IntPtr.Zero;
        fixed (IntPtr* pointer = handles)
        {
            var p = pointer;
            var code = XGBoostCall.Guard(() => XGBoostNative.XGBoosterCreate(p, (ulong)handles.Length, out raw));
            XGBoostCall.Check(code, "XGBoosterCreate");
        }
        return new Booster(new BoosterHandle(raw), cache);
    }

    /// <summary>Loads a model file written by <see cref="Save"/> or by SageMaker's XGBoost container.</summary>
    public static Booster Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"XGBoost model file '{path}' does not exist.", path);
        var booster = Create();
        try
        {
            XGBoostCall.Check(XGBoostNative.XGBoosterLoadModel(booster._handle, path), $"XGBoosterLoadModel('{path}')");
            return booster;
        }
        catch
        {
            booster.Dispose();
            throw;
        }
    }

    public void SetParam(string name, string value) =>
        XGBoostCall.Check(XGBoostNative.XGBoosterSetParam(_handle, name, value), $"XGBoosterSetParam({name}={value})");

    public void SetAttribute(string key, string value) =>
        XGBoostCall.Check(XGBoostNative.XGBoosterSetAttr(_handle, key, value), $"XGBoosterSetAttr({key})");

    public void UpdateOneIteration(int iteration, DMatrix train) =>
        XGBoostCall.Check(XGBoostNative.XGBoosterUpdateOneIter(_handle, iteration, train.Handle), $"XGBoosterUpdateOneIter(round {iteration})");

    /// <summary>Evaluates the configured eval_metric(s) on named matrices: <c>[3]\ttrain-rmse:1.2\tvalidation-rmse:1.4</c>.</summary>
    public unsafe string EvaluateOneIteration(int iteration, IReadOnlyList<(string Name, DMatrix Matrix)> sets)
    {
        var matrices = new IntPtr[sets.Count];
        var names = new IntPtr[sets.Count];
        try
        {
            for (var i = 0; i < sets.Count; i++)
            {
                matrices[i] = sets[i].Matrix.Handle.DangerousGetHandle();
                names[i] = Marshal.StringToCoTaskMemUTF8(sets[i].Name);
            }
            IntPtr result;
            fixed (IntPtr* m = matrices)
            fixed (IntPtr* n = names)
                XGBoostCall.Check(XGBoostNative.XGBoosterEvalOneIter(_handle, iteration, m, n, (ulong)sets.Count, out result), $"XGBoosterEvalOneIter(round {iteration})");
            return Marshal.PtrToStringUTF8(result) ?? "";
        }
        finally
        {
            foreach (var name in names) Marshal.FreeCoTaskMem(name);
        }
    }

    /// <summary>Plain predictions, one per row, using every tree of the model.</summary>
    public float[] Predict(DMatrix matrix)
    {
        XGBoostCall.Check(XGBoostNative.XGBoosterPredict(_handle, matrix.Handle, 0, 0, 0, out var length, out var result), "XGBoosterPredict");
        var predictions = new float[checked((int)length)];
        Marshal.Copy(result, predictions, 0, predictions.Length);
        return predictions;
    }

    public int BoostedRounds
    {
        get
        {
            XGBoostCall.Check(XGBoostNative.XGBoosterBoostedRounds(_handle, out var rounds), "XGBoosterBoostedRounds");
            return rounds;
        }
    }

    /// <summary>A new booster holding only rounds [0, rounds): how the best early-stopped model is kept.</summary>
    public Booster Slice(int rounds)
    {
        XGBoostCall.Check(XGBoostNative.XGBoosterSlice(_handle, 0, rounds, 1, out var sliced), $"XGBoosterSlice(0, {rounds})");
        return new Booster(new BoosterHandle(sliced), []);
    }

    /// <summary>
    /// Writes the model. A file name without extension (SageMaker's <c>xgboost-model</c>) gets XGBoost's
    /// binary format, <c>.json</c> the JSON format.
    /// </summary>
    public void Save(string path) =>
        XGBoostCall.Check(XGBoostNative.XGBoosterSaveModel(_handle, path), $"XGBoosterSaveModel('{path}')");

    public static string Version => XGBoostCall.Guard(() =>
    {
        XGBoostNative.XGBoostVersion(out var major, out var minor, out var patch);
        return string.Create(CultureInfo.InvariantCulture, $"{major}.{minor}.{patch}");
    });

    public void Dispose()
    {
        _handle.Dispose();
        GC.KeepAlive(_cache);
    }
}
