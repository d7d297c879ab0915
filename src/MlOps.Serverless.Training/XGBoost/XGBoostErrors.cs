using System.Runtime.InteropServices;
using MlOps.Serverless.Core.Errors;

namespace MlOps.Serverless.Training.XGBoost;

/// <summary>An XGBoost C API call returned an error; the message carries XGBGetLastError's text.</summary>
public sealed class XGBoostCallFailed(string message) : WorkflowError(message);

/// <summary>libxgboost.so.0 could not be loaded: local training needs Debian's libxgboost0 (XGBoost 1.7.4).</summary>
public sealed class XGBoostLibraryMissing(Exception inner) : WorkflowError(
    "The XGBoost native library libxgboost.so.0 could not be loaded (" + inner.Message + "). " +
    "Local training uses XGBoost 1.7.4 from Debian: install it with `sudo apt-get install libxgboost0` " +
    "or run the repository's setup script.", inner);

internal static class XGBoostCall
{
    /// <summary>Turns a non-zero return code into <see cref="XGBoostCallFailed"/> naming the call.</summary>
    public static void Check(int code, string call)
    {
        if (code == 0) return;
        var text = Marshal.PtrToStringUTF8(XGBoostNative.XGBGetLastError()) ?? "(no message)";
        throw new XGBoostCallFailed($"{call} failed: {text.Trim()}");
    }

    /// <summary>Runs the first native call of an operation, mapping a missing library to <see cref="XGBoostLibraryMissing"/>.</summary>
    public static T Guard<T>(Func<T> call)
    {
        try
        {
            return call();
        }
        catch (DllNotFoundException e)
        {
            throw new XGBoostLibraryMissing(e);
        }
        catch (EntryPointNotFoundException e)
        {
            throw new XGBoostLibraryMissing(e);
        }
    }
}
