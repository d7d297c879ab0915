using System.Runtime.InteropServices;

namespace MlOps.Serverless.Training.XGBoost;

/// <summary>
/// The slice of XGBoost 1.7.4's C API (c_api.h) that training, evaluation and prediction need.
/// Resolved lazily by the runtime on first call, so referencing this assembly loads nothing native.
/// Every function returns 0 on success and -1 on failure (message in <see cref="XGBGetLastError"/>).
/// </summary>
internal static partial class XGBoostNative
{
    public const string Library = "libxgboost.so.0";

    [LibraryImport(Library)]
    public static partial IntPtr XGBGetLastError();

    [LibraryImport(Library)]
    public static partial void XGBoostVersion(out int major, out int minor, out int patch);

    [LibraryImport(Library)]
    public static unsafe partial int XGDMatrixCreateFromMat_omp(float* data, ulong nrow, ulong ncol, float missing, out IntPtr handle, int nthread);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int XGDMatrixSetFloatInfo(DMatrixHandle handle, string field, float* array, ulong len);

    [LibraryImport(Library)]
    public static partial int XGDMatrixFree(IntPtr handle);

    [LibraryImport(Library)]
    public static unsafe partial int XGBoosterCreate(IntPtr* dmats, ulong len, out IntPtr handle);

    [LibraryImport(Library)]
    public static partial int XGBoosterFree(IntPtr handle);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterSetParam(BoosterHandle handle, string name, string value);

    [LibraryImport(Library)]
    public static partial int XGBoosterUpdateOneIter(BoosterHandle handle, int iteration, DMatrixHandle train);

    [LibraryImport(Library)]
    public static unsafe partial int XGBoosterEvalOneIter(BoosterHandle handle, int iteration, IntPtr* dmats, IntPtr* names, ulong len, out IntPtr result);

    [LibraryImport(Library)]
    public static partial int XGBoosterPredict(BoosterHandle handle, DMatrixHandle dmat, int optionMask, uint ntreeLimit, int training, out ulong length, out IntPtr result);

    [LibraryImport(Library)]
    public static partial int XGBoosterBoostedRounds(BoosterHandle handle, out int rounds);

    [LibraryImport(Library)]
    public static partial int XGBoosterSlice(BoosterHandle handle, int beginLayer, int endLayer, int step, out IntPtr sliced);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterSetAttr(BoosterHandle handle, string key, string value);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterSaveModel(BoosterHandle handle, string fileName);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int XGBoosterLoadModel(BoosterHandle handle, string fileName);
}
