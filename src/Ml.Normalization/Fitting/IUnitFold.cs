namespace Ml.Normalization.Fitting;

/// <summary>
/// A rule's per-unit arithmetic (<see cref="StatisticsRule.Fold"/>, <see cref="StatisticsRule.FoldZeroBatches"/>) as a
/// struct: a loop over units that takes it as a generic argument (<see cref="IUnitFoldLoop"/>) gets the rule's code
/// inlined, with no virtual call per unit. The rule's own methods run the same struct, so both give the same bits.
/// </summary>
internal interface IUnitFold
{
    /// <summary>As <see cref="StatisticsRule.Fold"/>.</summary>
    void Fold(ref UnitMoments unit, double batchShift, double batchMeanOffset, double batchVariance, double n);

    /// <summary>As <see cref="StatisticsRule.FoldZeroBatches"/>.</summary>
    void FoldZeroBatches(ref UnitMoments unit, long batches, long rows);
}
