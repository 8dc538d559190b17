namespace Ml.Normalization.Transforms;

/// <summary>The per-slot folds of the sparse fit (<see cref="Sparse.SparseBatchMoments{T}"/>), which updates slots lazily.</summary>
internal sealed partial class RunningStatistics
{
    /// <summary>Folds one batch's statistics of slot <paramref name="j"/> in, exactly as <see cref="Add"/> does for it.</summary>
    public void FoldSlot(int j, double batchMean, double batchVariance, double n) => FoldUnit(j, batchMean, batchVariance, n);

    /// <summary>
    /// Folds <paramref name="batches"/> batches of <paramref name="rows"/> rows in all, in which slot <paramref name="j"/>
    /// was 0 throughout, into the slot at once. Running statistics with momentum m: <c>running *= m^batches</c>
    /// (<paramref name="power"/> if it is not NaN, else computed); without: <c>running *= t / (t + batches)</c>, t the slot's
    /// counted batches so far. Whole-data statistics: Chan's update with <paramref name="rows"/> zeros (mean 0, M2 0).
    /// </summary>
    public void FoldZeroBatches(int j, long batches, long rows, double power)
    {
        var (mean, second, count) = (_state.Mean, _state.Second, _state.Count);
        if (_state.Kind == StatisticsKind.WholeData)
        {
            if (rows > 0)
            {
                CombineMoments(ref count[j], ref mean[j], ref second[j], rows, 0, 0);
            }

            return;
        }

        double t = count[j];
        double factor = _state.Momentum is double m
            ? (double.IsNaN(power) ? Math.Pow(m, batches) : power)
            : t / (t + batches);
        mean[j] *= factor;
        second[j] *= factor;
        count[j] = t + batches;
    }
}
