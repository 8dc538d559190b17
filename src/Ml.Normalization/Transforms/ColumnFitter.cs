using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Transforms.Channels;

namespace Ml.Normalization.Transforms;

/// <summary>
/// Accumulates one column's mini-batch statistics from a cursor, row by row, in memory O(units): per slot, or per channel
/// (<see cref="StatisticsLayout"/>).
/// </summary>
internal abstract class ColumnFitter
{
    protected ColumnFitter(int units)
    {
        BatchMean = new double[units];
        BatchVariance = new double[units];
        BatchCount = new double[units];
    }

    /// <summary>Per unit, the mean of the finite values of the batch last closed by <see cref="EndBatch"/>.</summary>
    public double[] BatchMean { get; }

    /// <summary>Per unit, their biased variance.</summary>
    public double[] BatchVariance { get; }

    /// <summary>Per unit, how many finite values there were.</summary>
    public double[] BatchCount { get; }

    public static ColumnFitter Create(DataViewRow cursor, DataViewSchema.Column column, NumericColumnShape shape, StatisticsLayout layout) =>
        shape.IsDouble
            ? new ColumnFitter<double>(cursor, column, shape, layout)
            : new ColumnFitter<float>(cursor, column, shape, layout);

    /// <summary>Adds the cursor's current row.</summary>
    public abstract void AddRow();

    /// <summary>Closes the current mini-batch: its statistics go into the Batch* arrays, the sums restart.</summary>
    public abstract void EndBatch();
}

internal sealed class ColumnFitter<T> : ColumnFitter
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ValueGetter<VBuffer<T>>? _vectorGetter;
    private readonly ValueGetter<T>? _scalarGetter;
    private readonly string _columnName;
    private readonly T[] _row;
    private readonly IBatchMoments<T> _moments;
    private VBuffer<T> _buffer;

    public ColumnFitter(DataViewRow cursor, DataViewSchema.Column column, NumericColumnShape shape, StatisticsLayout layout)
        : base(layout.Units)
    {
        _columnName = column.Name;
        if (shape.IsVector)
        {
            _vectorGetter = cursor.GetGetter<VBuffer<T>>(column);
        }
        else
        {
            _scalarGetter = cursor.GetGetter<T>(column);
        }

        int slots = shape.Size;
        _row = new T[slots];
        _moments = layout.HasChannels ? new ChannelBatchMoments<T>(layout) : new MiniBatchMoments<T>(slots);
    }

    public override void AddRow()
    {
        ReadOnlySpan<T> row;
        if (_vectorGetter is not null)
        {
            _vectorGetter(ref _buffer);
            if (_buffer.Length != _row.Length)
            {
                throw new InvalidOperationException($"Column '{_columnName}' gave a vector of {_buffer.Length} slots, its type says {_row.Length}.");
            }

            if (_buffer.IsDense)
            {
                row = _buffer.GetValues();
            }
            else
            {
                // Sparse rows: the implicit slots are zeros, and zeros count in the statistics.
                _buffer.CopyTo(_row);
                row = _row;
            }
        }
        else
        {
            _scalarGetter!(ref _row[0]);
            row = _row;
        }

        _moments.Add(row);
    }

    public override void EndBatch() => _moments.EndBatch(BatchMean, BatchVariance, BatchCount);
}
