namespace Ml.Normalization.Transforms;

/// <summary>
/// The running mean and variance of one column's units (slots, or channels) over the mini-batches of a fit, in double precision.
/// </summary>
/// <remarks>
/// Per slot, a batch counts only if at least 2 of its values in that slot were finite; its statistics are the mean
/// and biased variance of those values (times n/(n-1) when <c>unbiasedVariance</c>). With a momentum m:
/// <c>running = m * running + (1 - m) * batch</c> from the initial values; with bias correction the result is
/// <c>(running - m^t * initial) / (1 - m^t)</c>, t the slot's counted batches, which is the batches' own weighted
/// average whatever the initial value. Without a momentum: the plain average of the counted batches.
/// A slot that never had a counted batch keeps the initial values. A statistic beyond double's range (deviations of
/// ~1.3e154 and more, whose squares overflow) fails the fit, naming the column and the slot, as soon as the batch that
/// overflowed is folded in.
/// </remarks>
internal sealed partial class RunningStatistics
{
    private readonly double[] _mean;
    private readonly double[] _variance;
    private readonly long[] _batches;
    private readonly double? _momentum;
    private readonly bool _biasCorrection;
    private readonly bool _unbiasedVariance;
    private readonly double _initialMean;
    private readonly double _initialVariance;
    private readonly string _columnName;
    private readonly string _unitName;

    public RunningStatistics(string columnName, int units, double? momentum, bool biasCorrection, bool unbiasedVariance, double initialMean, double initialVariance, string unitName = "slot")
    {
        _columnName = columnName;
        _unitName = unitName;
        _mean = new double[units];
        _variance = new double[units];
        _batches = new long[units];
        _mean.AsSpan().Fill(initialMean);
        _variance.AsSpan().Fill(initialVariance);
        _momentum = momentum;
        _biasCorrection = biasCorrection;
        _unbiasedVariance = unbiasedVariance;
        _initialMean = initialMean;
        _initialVariance = initialVariance;
    }

    /// <summary>Units (slots or channels) that never had a counted batch.</summary>
    public int UnitsWithoutData => _batches.Count(t => t == 0);

    /// <summary>Folds one batch's per-slot statistics in.</summary>
    public void Add(ReadOnlySpan<double> batchMean, ReadOnlySpan<double> batchVariance, ReadOnlySpan<double> counts)
    {
        for (int j = 0; j < _mean.Length; j++)
        {
            double n = counts[j];
            if (n < 2)
            {
                continue;
            }

            double variance = _unbiasedVariance ? batchVariance[j] * n / (n - 1) : batchVariance[j];
            long t = ++_batches[j];
            if (_momentum is double m)
            {
                _mean[j] = (m * _mean[j]) + ((1 - m) * batchMean[j]);
                _variance[j] = (m * _variance[j]) + ((1 - m) * variance);
            }
            else
            {
                _mean[j] += (batchMean[j] - _mean[j]) / t;
                _variance[j] += (variance - _variance[j]) / t;
            }

            CheckFinite(j, _mean[j], _variance[j]);
        }
    }

    /// <summary>The running statistics, bias-corrected if asked; a variance that rounding pushed below 0 is 0.</summary>
    public (double[] Mean, double[] Variance) Finish()
    {
        var mean = new double[_mean.Length];
        var variance = new double[_mean.Length];
        for (int j = 0; j < mean.Length; j++)
        {
            double m = _mean[j], v = _variance[j];
            if (_momentum is double momentum && _biasCorrection && _batches[j] > 0)
            {
                double decay = Math.Pow(momentum, _batches[j]);
                m = (m - (decay * _initialMean)) / (1 - decay);
                v = (v - (decay * _initialVariance)) / (1 - decay);
            }

            CheckFinite(j, m, v);
            mean[j] = m;
            variance[j] = Math.Max(v, 0);
        }

        return (mean, variance);
    }

    private void CheckFinite(int slot, double mean, double variance)
    {
        string? statistic = !double.IsFinite(mean) ? "mean" : !double.IsFinite(variance) ? "variance" : null;
        if (statistic is not null)
        {
            throw new InvalidOperationException($"BatchNormalize cannot fit input column '{_columnName}', {_unitName} {slot}: its {statistic} is beyond the range of Double. Scale the column's values down before normalizing.");
        }
    }
}
