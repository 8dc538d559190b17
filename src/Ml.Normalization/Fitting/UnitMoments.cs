using System.Runtime.InteropServices;

namespace Ml.Normalization.Fitting;

/// <summary>
/// One unit's (slot's or channel's) fit state, in one 32-byte record: a fit that touches a unit reads and writes one
/// record, not one element of each of four arrays (the sparse fit, whose touched slots are scattered over a table of
/// millions, pays a cache miss per record it reaches).
/// </summary>
/// <remarks>What each value means is the rule's (<see cref="StatisticsRule"/>).</remarks>
[StructLayout(LayoutKind.Sequential)]
internal struct UnitMoments
{
    /// <summary>The rule's count: counted batches, or values (their weight sum, with example weights).</summary>
    public double Count;

    /// <summary>The rule's mean: the raw running mean, the average of the batch means, or the mean of all values relative to <see cref="Origin"/>.</summary>
    public double Mean;

    /// <summary>The rule's second moment: the raw running variance, the average variance, or M2.</summary>
    public double Second;

    /// <summary>The value the mean is relative to, for the rule that keeps one (<see cref="StatisticsRule.KeepsOrigin"/>); 0 for the others.</summary>
    public double Origin;
}
