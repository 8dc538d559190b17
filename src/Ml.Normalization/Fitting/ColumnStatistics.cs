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

    /// <summary>The state (live: it changes as batches are added).</summary>
    public FitState State => state;

    /// <summary>The state's rule.</summary>
    public StatisticsRule Rule => _rule;

    /// <summary>Units (slots or channels) that never had a counted batch.</summary>
    public int UnitsWithoutData
    {
        get
        {
            int without = 0;
            foreach (var m in state.Moments)
            {
                without += m.Count == 0 ? 1 : 0;
            }

            return without;
        }
    }

    /// <summary>Folds one batch's per-unit statistics in: each unit's mean is <c>batchShift + batchMeanOffset</c>.</summary>
    public void Add(ReadOnlySpan<double> batchShift, ReadOnlySpan<double> batchMeanOffset, ReadOnlySpan<double> batchVariance, ReadOnlySpan<double> counts)
    {
        var loop = new BatchFold(this, batchShift, batchMeanOffset, batchVariance, counts);
        _rule.Run(ref loop);
    }

    /// <summary>
    /// Folds one batch's statistics of unit <paramref name="unit"/> (n finite values) into its record
    /// <paramref name="moments"/> (the state's) with the rule's arithmetic <paramref name="fold"/> (<see cref="Run"/>),
    /// and refuses a result that is not finite.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Fold<TFold>(in TFold fold, int unit, ref UnitMoments moments, double batchShift, double batchMeanOffset, double batchVariance, double n)
        where TFold : struct, IUnitFold
    {
        fold.Fold(ref moments, batchShift, batchMeanOffset, batchVariance, n);
        if (!double.IsFinite(moments.Mean) || !double.IsFinite(moments.Second))
        {
            CheckFinite(columnName, unitName, unit, moments.Mean, moments.Second); // throws
        }
    }

    /// <summary>Runs <paramref name="loop"/> with the rule's per-unit arithmetic as a struct (<see cref="StatisticsRule.Run"/>).</summary>
    public void Run<TLoop>(ref TLoop loop)
        where TLoop : struct, IUnitFoldLoop, allows ref struct => _rule.Run(ref loop);

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

    // Add's loop: every unit, in order.
    private readonly ref struct BatchFold(ColumnStatistics statistics, ReadOnlySpan<double> batchShift, ReadOnlySpan<double> batchMeanOffset, ReadOnlySpan<double> batchVariance, ReadOnlySpan<double> counts)
        : IUnitFoldLoop
    {
        private readonly ReadOnlySpan<double> _batchShift = batchShift, _batchMeanOffset = batchMeanOffset, _batchVariance = batchVariance, _counts = counts;

        public void Run<TFold>(in TFold fold)
            where TFold : struct, IUnitFold
        {
            var moments = statistics.State.Moments;
            for (int j = 0; j < moments.Length; j++)
            {
                statistics.Fold(in fold, j, ref moments[j], _batchShift[j], _batchMeanOffset[j], _batchVariance[j], _counts[j]);
            }
        }
    }
}
