using System.Globalization;

namespace MlOps.Serverless.Training.Tuning;

/// <summary>SageMaker's ScalingType. Auto is treated as Linear (documented in docs/training.md).</summary>
public enum ScalingType
{
    Auto,
    Linear,
    Logarithmic,
    ReverseLogarithmic,
}

/// <summary>One tunable hyperparameter: an integer or continuous range, as in SageMaker's ParameterRanges.</summary>
public sealed record ParameterRange(string Name, bool IsInteger, double Min, double Max, ScalingType Scaling)
{
    /// <summary>Maps a point u ∈ [0, 1) of the unit interval to a value of this range, rendered as SageMaker would send it.</summary>
    public string ValueAt(double u)
    {
        u = Math.Clamp(u, 0, 1);
        double value;
        if (IsInteger)
        {
            // Every integer in [Min, Max] gets an equal share of the unit interval (log-spaced when asked).
            value = Scaling == ScalingType.Logarithmic
                ? Math.Floor(Math.Exp(Math.Log(Min) + u * (Math.Log(Max + 1) - Math.Log(Min))))
                : Math.Floor(Min + u * (Max - Min + 1));
            value = Math.Clamp(value, Min, Max);
            return ((long)value).ToString(CultureInfo.InvariantCulture);
        }
        value = Scaling switch
        {
            ScalingType.Logarithmic => Math.Exp(Math.Log(Min) + u * (Math.Log(Max) - Math.Log(Min))),
            // Dense near 1: sample 1 - value logarithmically (SageMaker allows it for 0 ≤ Min < Max < 1).
            ScalingType.ReverseLogarithmic => 1 - Math.Exp(Math.Log(1 - Min) + u * (Math.Log(1 - Max) - Math.Log(1 - Min))),
            _ => Min + u * (Max - Min),
        };
        return Math.Clamp(value, Min, Max).ToString("G6", CultureInfo.InvariantCulture);
    }

    /// <summary>Checks the range the way CreateHyperParameterTuningJob validates it; returns the problem or null.</summary>
    public string? Problem()
    {
        if (!double.IsFinite(Min) || !double.IsFinite(Max)) return "MinValue and MaxValue must be finite numbers";
        if (Min > Max) return $"MinValue {Min} is greater than MaxValue {Max}";
        if (IsInteger && (Min != Math.Floor(Min) || Max != Math.Floor(Max))) return "integer ranges need integer bounds";
        if (Scaling == ScalingType.Logarithmic && Min <= 0) return "Logarithmic scaling needs MinValue > 0";
        if (Scaling == ScalingType.ReverseLogarithmic && (IsInteger || Min < 0 || Max >= 1))
            return "ReverseLogarithmic scaling needs a continuous range with 0 <= MinValue and MaxValue < 1";
        return null;
    }
}
