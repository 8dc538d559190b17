namespace Ml.Normalization.Fitting;

/// <summary>
/// A slot's sums over the open batch, in the sparse fit's pool of the slots that batch has touched (40 bytes): what the
/// batch's statistics of the slot are made from when the batch closes.
/// </summary>
internal struct OpenSlotSums
{
    /// <summary>The shift of the sums: the slot's first finite value in the batch (0 before one, or when an implicit 0 came first).</summary>
    public double Shift;

    /// <summary>The sum of <c>x - Shift</c> over the batch's finite explicit values.</summary>
    public double Sum;

    /// <summary>The sum of their squares.</summary>
    public double SumOfSquares;

    /// <summary>The slot.</summary>
    public int Slot;

    /// <summary>How many of the batch's explicit values were finite.</summary>
    public int Finite;

    /// <summary>How many explicit values the batch had.</summary>
    public int Explicit;

    /// <summary>How many of the fit's batches were folded into the slot's state before this one (the training pass: 0).</summary>
    public int Folded;
}
