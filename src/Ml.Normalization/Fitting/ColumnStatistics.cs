using System.Runtime.CompilerServices;

namespace Ml.Normalization.Fitting;

/// <summary>
/// One column's statistics during a fit: its <see cref="FitState"/>, changed in place batch by batch by the state's
/// <see cref="StatisticsRule"/>, and the names its errors give.
/// </summary>
/// <remarks>
/// A statistic beyond double's range (deviations of ~1.3e154 and more, whose squares overflow) fails the fit, naming the
/// column and the unit, as soon as the batch that overflowed is folded in.
/// </remarks>
internal sealed class ColumnStatistics(string columnName, FitState state, string unitName = "slot")
{
    private readonly StatisticsRule _rule = state.Rule;
    private readonly double[]? _origin = state.Origin;
    private double _noOrigin;

    /// <summary>The state (live: it changes as batches are added).</summary>
    public FitState State => state;

    /// <summary>The state's rule.</summary>
    public StatisticsRule Rule => _rule;

    /// <summary>Units (slots or channels) that never had a counted batch.</summary>
    public int UnitsWithoutData => state.Count.Count(t => t == 0);

    /// <summary>Folds one batch's per-unit statistics in: each unit's mean is <c>batchShift + batchMeanOffset</c>.</summary>
    public void Add(ReadOnlySpan<double> batchShift, ReadOnlySpan<double> batchMeanOffset, ReadOnlySpan<double> batchVariance, ReadOnlySpan<double> counts)
    {
        for (int j = 0; j < state.Units; j++)
        {
            Fold(j, ref state.Count[j], ref state.Mean[j], ref state.Second[j], batchShift[j], batchMeanOffset[j], batchVariance[j], counts[j]);
        }
    }

    /// <summary>
    /// Folds one batch's statistics of unit <paramref name="unit"/> (n finite values) into its state, held by the caller
    /// (this state's arrays, or the sparse fit's copy of them in the slot's own record); the origin, for the rules that
    /// keep one, is always the state's.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fold(int unit, ref double count, ref double mean, ref double second, double batchShift, double batchMeanOffset, double batchVariance, double n)
    {
        _rule.Fold(ref count, ref mean, ref second, ref Origin(unit), batchShift, batchMeanOffset, batchVariance, n);
        if (!double.IsFinite(mean) || !double.IsFinite(second))
        {
            CheckFinite(columnName, unitName, unit, mean, second); // throws
        }
    }

    /// <summary>Folds batches in which the unit was 0 throughout (<see cref="StatisticsRule.FoldZeroBatches"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FoldZeroBatches(int unit, ref double count, ref double mean, ref double second, long batches, long rows) =>
        _rule.FoldZeroBatches(ref count, ref mean, ref second, ref Origin(unit), batches, rows);

    // The unit's origin in the state, for the rules that keep one; a scratch value for the others.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref double Origin(int unit) => ref _origin is null ? ref _noOrigin : ref _origin[unit];

    /// <summary>The statistics, finished by the rule.</summary>
    public (double[] Mean, double[] Variance) Finish() => state.Finish(columnName, unitName);

    /// <summary>The variances alone, finished by the rule (what a scale-only model keeps).</summary>
    public double[] FinishVariance() => state.FinishVariance(columnName, unitName);

    /// <exception cref="InvalidOperationException">The mean or the variance is not finite.</exception>
    public static void CheckFinite(string columnName, string unitName, int unit, double mean, double variance)
    {
        string? statistic = !double.IsFinite(mean) ? "mean" : !double.IsFinite(variance) ? "variance" : null;
        if (statistic is not null)
        {
            throw new InvalidOperationException($"BatchNormalize cannot fit input column '{columnName}', {unitName} {unit}: its {statistic} is beyond the range of Double. Scale the column's values down before normalizing.");
        }
    }
}
