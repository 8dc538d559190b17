using System.Runtime.CompilerServices;

namespace Ml.Normalization.Transforms;

/// <summary>The zero-batch fold of the sparse fit (<see cref="Sparse.SparseBatchMoments{T}"/>), which updates slots lazily.</summary>
internal sealed partial class RunningStatistics
{
    /// <summary>
    /// Folds <paramref name="batches"/> batches of <paramref name="rows"/> rows in all, in which a unit
    /// was 0 throughout, into its state (held by the caller, as for <see cref="Fold"/>) at once.
    /// Running statistics with momentum m: <c>running *= m^batches</c> (<paramref name="power"/> if it is not NaN, else
    /// computed); without: <c>running *= t / (t + batches)</c>, t the unit's counted batches so far. Whole-data statistics:
    /// Chan's update with <paramref name="rows"/> zeros (mean 0, M2 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FoldZeroBatches(ref double count, ref double mean, ref double second, long batches, long rows, double power)
    {
        if (_wholeData)
        {
            if (rows > 0)
            {
                CombineMoments(ref count, ref mean, ref second, rows, 0, 0);
            }

            return;
        }

        double t = count;
        double factor = _hasMomentum
            ? (double.IsNaN(power) ? Math.Pow(_momentum, batches) : power)
            : t / (t + batches);
        mean *= factor;
        second *= factor;
        count = t + batches;
    }
}
