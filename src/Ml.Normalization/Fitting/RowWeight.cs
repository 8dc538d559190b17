namespace Ml.Normalization.Fitting;

/// <summary>
/// The example weight of the row being added, shared by every column's <see cref="WeightedBatchMoments{T}"/> of a fit:
/// the fit reads and checks it once per row (finite, not negative) before the columns add the row.
/// </summary>
internal sealed class RowWeight
{
    /// <summary>The current row's weight: finite, 0 or more.</summary>
    public double Value { get; set; } = 1;
}
