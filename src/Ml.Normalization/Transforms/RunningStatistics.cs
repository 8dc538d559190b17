using System.Runtime.CompilerServices;

namespace Ml.Normalization.Transforms;

/// <summary>
/// The running mean and variance of one column's units (slots, or channels) over the mini-batches of a fit, in double
/// precision, kept in a <see cref="FitState"/> that a later fit can continue and that merges with other shards' states.
/// </summary>
/// <remarks>
/// <para>Running statistics (<see cref="StatisticsKind.Running"/>). Per unit, a batch counts only if at least 2 of its
/// values in that unit were finite; its statistics are the mean and biased variance of those values (times n/(n-1)
/// when unbiased). With a momentum m: <c>running = m * running + (1 - m) * batch</c> from the initial values; with bias
/// correction the result is <c>(running - m^t * initial) / (1 - m^t)</c>, t the unit's counted batches, which is the
/// batches' own weighted average whatever the initial value. Without a momentum: the plain average of the counted
/// batches. A unit that never had a counted batch keeps the initial values.</para>
/// <para>Whole-data statistics (<see cref="StatisticsKind.WholeData"/>): per unit the count, mean and M2 of all its finite
/// values, each batch folded in with Chan et al.'s pairwise formulas; the result is the mean and the biased (or
/// unbiased) variance of all of them, independent of the batch boundaries up to rounding.</para>
/// <para>A statistic beyond double's range (deviations of ~1.3e154 and more, whose squares overflow) fails the fit,
/// naming the column and the unit, as soon as the batch that overflowed is folded in.</para>
/// </remarks>
internal sealed partial class RunningStatistics
{
    private readonly FitState _state;
    private readonly string _columnName;
    private readonly string _unitName;

    // The state's options, read once per fold of a sparse fit's slot (millions of folds): fields, not the record's properties.
    private readonly bool _wholeData;
    private readonly bool _hasMomentum;
    private readonly double _momentum;
    private readonly bool _unbiased;

    public RunningStatistics(string columnName, FitState state, string unitName = "slot")
    {
        _columnName = columnName;
        _unitName = unitName;
        _state = state;
        _wholeData = state.Kind == StatisticsKind.WholeData;
        _hasMomentum = state.Momentum.HasValue;
        _momentum = state.Momentum ?? double.NaN;
        _unbiased = state.UnbiasedVariance;
    }

    /// <summary>The state (live: it changes as batches are added).</summary>
    public FitState State => _state;

    /// <summary>Whether a batch of one row counts (whole-data statistics count every finite value).</summary>
    public bool CountsSingleRowBatches => _state.Kind == StatisticsKind.WholeData;

    /// <summary>Units (slots or channels) that never had a counted batch.</summary>
    public int UnitsWithoutData => _state.Count.Count(t => t == 0);

    /// <summary>Folds one batch's per-unit statistics in.</summary>
    public void Add(ReadOnlySpan<double> batchMean, ReadOnlySpan<double> batchVariance, ReadOnlySpan<double> counts)
    {
        for (int j = 0; j < _state.Units; j++)
        {
            FoldUnit(j, batchMean[j], batchVariance[j], counts[j]);
        }
    }

    /// <summary>Folds one batch's statistics of unit <paramref name="j"/> (n finite values) in.</summary>
    private void FoldUnit(int j, double batchMean, double batchVariance, double n) =>
        Fold(j, ref _state.Count[j], ref _state.Mean[j], ref _state.Second[j], batchMean, batchVariance, n);

    /// <summary>
    /// Folds one batch's statistics of unit <paramref name="unit"/> (n finite values) into its state, held by the caller
    /// (<paramref name="count"/>, <paramref name="mean"/>, <paramref name="second"/>: this state's arrays, or the sparse
    /// fit's copy of them in the slot's own record).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fold(int unit, ref double count, ref double mean, ref double second, double batchMean, double batchVariance, double n)
    {
        if (_wholeData)
        {
            if (n < 1)
            {
                return;
            }

            // The batch's (n, mean, M2 = n * biased variance).
            CombineMoments(ref count, ref mean, ref second, n, batchMean, batchVariance * n);
        }
        else
        {
            if (n < 2)
            {
                return;
            }

            double variance = _unbiased ? batchVariance * n / (n - 1) : batchVariance;
            double t = ++count;
            if (_hasMomentum)
            {
                double m = _momentum;
                mean = (m * mean) + ((1 - m) * batchMean);
                second = (m * second) + ((1 - m) * variance);
            }
            else
            {
                mean += (batchMean - mean) / t;
                second += (variance - second) / t;
            }
        }

        if (!double.IsFinite(mean) || !double.IsFinite(second))
        {
            CheckFinite(unit, mean, second); // throws
        }
    }

    /// <summary>
    /// Chan et al.'s pairwise update: (<paramref name="count"/>, <paramref name="mean"/>, <paramref name="m2"/>) becomes the
    /// count, mean and sum of squared deviations of its values together with another disjoint set's (n, mean, M2).
    /// </summary>
    public static void CombineMoments(ref double count, ref double mean, ref double m2, double otherCount, double otherMean, double otherM2)
    {
        double total = count + otherCount;
        double delta = otherMean - mean;
        mean += delta * (otherCount / total);
        m2 += otherM2 + (delta * delta * (count * otherCount / total));
        count = total;
    }

    /// <summary>The running statistics, bias-corrected if asked; a variance that rounding pushed below 0 is 0.</summary>
    public (double[] Mean, double[] Variance) Finish() => Finish(_state, _columnName, _unitName);

    public static (double[] Mean, double[] Variance) Finish(FitState state, string columnName, string unitName = "slot")
    {
        int units = state.Units;
        var mean = new double[units];
        var variance = new double[units];
        double lastCount = double.NaN, lastDecay = double.NaN; // units mostly share their counted batches: one Pow each
        for (int j = 0; j < units; j++)
        {
            double m = state.Mean[j], v = state.Second[j], t = state.Count[j];
            if (state.Kind == StatisticsKind.WholeData)
            {
                double divisor = state.UnbiasedVariance ? t - 1 : t;
                (m, v) = t == 0 ? (state.InitialMean[j], state.InitialVariance[j])
                    : (m, divisor > 0 ? v / divisor : 0);
            }
            else if (state.Momentum is double momentum && state.BiasCorrection && t > 0)
            {
                if (t != lastCount)
                {
                    (lastCount, lastDecay) = (t, Math.Pow(momentum, t));
                }

                double decay = lastDecay;
                m = (m - (decay * state.InitialMean[j])) / (1 - decay);
                v = (v - (decay * state.InitialVariance[j])) / (1 - decay);
            }

            CheckFinite(columnName, unitName, j, m, v);
            mean[j] = m;
            variance[j] = Math.Max(v, 0);
        }

        return (mean, variance);
    }

    private void CheckFinite(int unit, double mean, double variance) => CheckFinite(_columnName, _unitName, unit, mean, variance);

    private static void CheckFinite(string columnName, string unitName, int unit, double mean, double variance)
    {
        string? statistic = !double.IsFinite(mean) ? "mean" : !double.IsFinite(variance) ? "variance" : null;
        if (statistic is not null)
        {
            throw new InvalidOperationException($"BatchNormalize cannot fit input column '{columnName}', {unitName} {unit}: its {statistic} is beyond the range of Double. Scale the column's values down before normalizing.");
        }
    }
}
