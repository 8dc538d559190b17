namespace Ml.Normalization.Transforms;

/// <summary>The per-slot folds of the sparse fit (<see cref="Sparse.SparseBatchMoments{T}"/>), which updates slots lazily.</summary>
internal sealed partial class RunningStatistics
{
    /// <summary>Folds one batch's statistics of slot <paramref name="j"/> in, exactly as <see cref="Add"/> does for it.</summary>
    public void FoldSlot(int j, double batchMean, double batchVariance, double n)
    {
        if (n < 2)
        {
            return;
        }

        double variance = _unbiasedVariance ? batchVariance * n / (n - 1) : batchVariance;
        long t = ++_batches[j];
        if (_momentum is double m)
        {
            _mean[j] = (m * _mean[j]) + ((1 - m) * batchMean);
            _variance[j] = (m * _variance[j]) + ((1 - m) * variance);
        }
        else
        {
            _mean[j] += (batchMean - _mean[j]) / t;
            _variance[j] += (variance - _variance[j]) / t;
        }

        CheckFinite(j, _mean[j], _variance[j]);
    }

    /// <summary>
    /// Folds <paramref name="batches"/> counted batches of mean 0 and variance 0 into slot <paramref name="j"/> at once: with
    /// momentum m, <c>running *= m^batches</c> (<paramref name="power"/> if it is not NaN, else computed); without,
    /// <c>running *= t / (t + batches)</c>, t the slot's counted batches so far.
    /// </summary>
    public void FoldZeroBatches(int j, long batches, double power)
    {
        long t = _batches[j];
        double factor = _momentum is double m
            ? (double.IsNaN(power) ? Math.Pow(m, batches) : power)
            : (double)t / (t + batches);
        _mean[j] *= factor;
        _variance[j] *= factor;
        _batches[j] = t + batches;
    }
}
