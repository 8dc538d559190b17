using System.Runtime.InteropServices;

namespace Ml.Normalization.Fitting;

/// <summary>
/// Everything the sparse fit keeps for one slot, in one 64-byte cache line: its open batch's sums and counts, and its
/// running statistics (the fit state's three values, copied in for the pass). A touched slot then costs one cache miss.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = Bytes)]
internal struct SparseSlotState
{
    /// <summary>The record's size: one cache line on x64 and Arm64.</summary>
    public const int Bytes = 64;

    /// <summary>The shift of the pending batch's sums: the slot's first finite value in the batch (0 before one).</summary>
    public double Shift;

    /// <summary>The sum of <c>x - Shift</c> over the pending batch's finite explicit values.</summary>
    public double Sum;

    /// <summary>The sum of their squares.</summary>
    public double SumOfSquares;

    /// <summary>The running mean (whole-data: the mean so far), as in <see cref="Fitting.FitState.Mean"/>.</summary>
    public double Mean;

    /// <summary>The running variance (whole-data: M2), as in <see cref="Fitting.FitState.Second"/>.</summary>
    public double Second;

    /// <summary>The counted batches (whole-data: values), as in <see cref="Fitting.FitState.Count"/>.</summary>
    public double Count;

    /// <summary>How many of the pending batch's explicit values were finite.</summary>
    public int Finite;

    /// <summary>How many explicit values the pending batch had (0: nothing pending).</summary>
    public int Explicit;

    /// <summary>How many of this fit's batches are folded into the running statistics.</summary>
    public int Folded;

    /// <summary>The batch (numbered from 1) whose values the sums hold, while <see cref="Explicit"/> is not 0.</summary>
    public int Pending;
}
