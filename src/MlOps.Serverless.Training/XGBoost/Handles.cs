using Microsoft.Win32.SafeHandles;

namespace MlOps.Serverless.Training.XGBoost;

/// <summary>Owns a native <c>DMatrixHandle</c>; freed exactly once, even on a failed constructor path.</summary>
internal sealed class DMatrixHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DMatrixHandle() : base(ownsHandle: true) { }
    public DMatrixHandle(IntPtr handle) : base(ownsHandle: true) => SetHandle(handle);
    protected override bool ReleaseHandle() => XGBoostNative.XGDMatrixFree(handle) == 0;
}

/// <summary>Owns a native <c>BoosterHandle</c>.</summary>
internal sealed class BoosterHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public BoosterHandle() : base(ownsHandle: true) { }
    public BoosterHandle(IntPtr handle) : base(ownsHandle: true) => SetHandle(handle);
    protected override bool ReleaseHandle() => XGBoostNative.XGBoosterFree(handle) == 0;
}
