using System.Numerics;

namespace Ml.Normalization.Fitting;

/// <summary>
/// One column's mini-batch moments per unit (slot or channel), from rows added one at a time, dense or sparse: the one
/// accumulation every fit and the training pass use, whatever the layout (per slot, per channel, sparse per slot).
/// </summary>
/// <remarks>
/// A batch's statistics per unit are the mean and biased variance of its finite values and their count; NaN and
/// infinities are left out. A fit folds each batch into its <see cref="ColumnStatistics"/> (<see cref="EndBatch(ColumnStatistics)"/>)
/// and brings them up to date at the end (<see cref="Complete"/>); the training pass reads each batch's statistics
/// (<see cref="EndBatch(Span{double}, Span{double}, Span{double})"/>).
/// </remarks>
internal abstract class MomentAccumulator<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[]? _denseRow;
    private double[]? _batchShift;
    private double[]? _batchMeanOffset;
    private double[]? _batchVariance;
    private double[]? _batchCount;

    protected MomentAccumulator(string columnName, int slots, int units)
    {
        ColumnName = columnName;
        Slots = slots;
        Units = units;
    }

    /// <summary>The input column whose rows are added, named when a row is refused.</summary>
    public string ColumnName { get; }

    /// <summary>Values per row.</summary>
    public int Slots { get; }

    /// <summary>Statistics kept per batch: slots or channels.</summary>
    public int Units { get; }

    /// <summary>Adds a dense row of <see cref="Slots"/> values.</summary>
    public abstract void Add(ReadOnlySpan<T> row);

    /// <summary>
    /// Adds a sparse row: <paramref name="values"/> at <paramref name="indices"/> (strictly ascending, within the slots),
    /// every other slot 0, which counts as a value. This default writes the row out dense; the sparse moments add it in
    /// O(non-zeros).
    /// </summary>
    /// <exception cref="InvalidOperationException">The indices are not strictly ascending within the slots (a malformed
    /// VBuffer, <see cref="SparseIndices"/>): nothing is added.</exception>
    public virtual void Add(ReadOnlySpan<T> values, ReadOnlySpan<int> indices)
    {
        SparseIndices.Check(indices, Slots, ColumnName);
        var row = _denseRow ??= new T[Slots];
        Array.Clear(row);
        for (int i = 0; i < indices.Length; i++)
        {
            row[indices[i]] = values[i];
        }

        Add(row);
    }

    /// <summary>
    /// Closes the current batch: writes each unit's mean as two parts, the shift its sums were taken from (the batch's
    /// first finite value there) and the mean of the values less that shift, so that <c>shift + meanOffset</c> is the
    /// mean and a rule can take the mean relative to another value without losing the digits a large offset would
    /// round away; then the biased variance and the count of finite values (a unit without any gets NaN statistics and
    /// count 0), and restarts the sums.
    /// </summary>
    public abstract void EndBatch(Span<double> shift, Span<double> meanOffset, Span<double> variance, Span<double> count);

    /// <summary>Closes the current batch, writing each unit's mean (<c>shift + meanOffset</c>), biased variance and count.</summary>
    public virtual void EndBatch(Span<double> mean, Span<double> variance, Span<double> count)
    {
        var shift = _batchShift ??= new double[Units];
        EndBatch(shift, mean, variance, count);
        for (int j = 0; j < mean.Length; j++)
        {
            mean[j] = shift[j] + mean[j];
        }
    }

    /// <summary>Closes the current batch and folds it into <paramref name="statistics"/>.</summary>
    public virtual void EndBatch(ColumnStatistics statistics)
    {
        _batchShift ??= new double[Units];
        _batchMeanOffset ??= new double[Units];
        _batchVariance ??= new double[Units];
        _batchCount ??= new double[Units];
        EndBatch(_batchShift, _batchMeanOffset, _batchVariance, _batchCount);
        statistics.Add(_batchShift, _batchMeanOffset, _batchVariance, _batchCount);
    }

    /// <summary>After the last batch: brings <paramref name="statistics"/> fully up to date (the sparse moments fold lazily).</summary>
    public virtual void Complete(ColumnStatistics statistics)
    {
    }

    /// <summary>Frees what the moments hold outside the managed heap (the sparse moments' slot records).</summary>
    public virtual void Dispose()
    {
    }
}
