using Ml.Normalization.Fitting;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>A fit state's per-unit values as arrays, one value of the records each, for assertions over all units.</summary>
internal static class FitStateValues
{
    public static double[] Counts(this FitState state) => [.. state.Moments.ToArray().Select(m => m.Count)];

    public static double[] Means(this FitState state) => [.. state.Moments.ToArray().Select(m => m.Mean)];

    public static double[] Seconds(this FitState state) => [.. state.Moments.ToArray().Select(m => m.Second)];
}
