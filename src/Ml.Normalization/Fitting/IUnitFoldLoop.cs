namespace Ml.Normalization.Fitting;

/// <summary>
/// A loop over units that a rule runs with its <see cref="IUnitFold"/> (<see cref="StatisticsRule.Run"/>): one
/// virtual call for the loop instead of one per unit (a batch's fold, the sparse fit's batch-end fold and catch-up).
/// </summary>
internal interface IUnitFoldLoop
{
    /// <summary>The loop, with the rule's folding <paramref name="fold"/>.</summary>
    void Run<TFold>(in TFold fold)
        where TFold : struct, IUnitFold;
}
