namespace Ml.Normalization.Fitting;

/// <summary>
/// A rule's per-unit arithmetic as a struct: a loop over units that takes it as a generic argument
/// (<see cref="IUnitFoldLoop"/>, run by <see cref="StatisticsRule.Run"/>) gets the rule's code inlined, with no virtual
/// call per unit. <see cref="StatisticsRule"/> says what each rule keeps in a unit's record.
/// </summary>
internal interface IUnitFold
{
    /// <summary>
    /// Folds one batch's statistics of a unit into its state: n finite values, their mean
    /// <c>batchShift + batchMeanOffset</c> (the shift being one of the values, the offset small) and biased variance.
    /// </summary>
    void Fold(ref UnitMoments unit, double batchShift, double batchMeanOffset, double batchVariance, double n);

    /// <summary>
    /// Folds <paramref name="batches"/> batches of <paramref name="rows"/> rows in all, in which the unit was 0
    /// throughout, into its state at once (the sparse fit, which skips the slots a batch did not touch).
    /// </summary>
    void FoldZeroBatches(ref UnitMoments unit, long batches, long rows);
}
