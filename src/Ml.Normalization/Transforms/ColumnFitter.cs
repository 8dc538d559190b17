using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Transforms.Channels;
using Ml.Normalization.Transforms.Sparse;

namespace Ml.Normalization.Transforms;

/// <summary>
/// Accumulates one column's mini-batch statistics from a cursor, row by row, in memory O(units): per slot, or per channel
/// (<see cref="StatisticsLayout"/>).
/// </summary>
internal abstract class ColumnFitter : IDisposable
{
    private readonly int _units;
    private double[]? _batchMean;
    private double[]? _batchVariance;
    private double[]? _batchCount;

    protected ColumnFitter(int units)
    {
        _units = units;
    }

    // The per-unit batch arrays exist only for the paths that write whole batches (not the sparse fit's lazy folds).

    /// <summary>Per unit, the mean of the finite values of the batch last closed by <see cref="EndBatch()"/>.</summary>
    public double[] BatchMean => _batchMean ??= new double[_units];

    /// <summary>Per unit, their biased variance.</summary>
    public double[] BatchVariance => _batchVariance ??= new double[_units];

    /// <summary>Per unit, how many finite values there were.</summary>
    public double[] BatchCount => _batchCount ??= new double[_units];

    /// <summary>
    /// A fitter for <paramref name="column"/> that folds into <paramref name="statistics"/>, continuing their state's shifts
    /// (null: the training pass, which keeps no running statistics). A per-slot vector column whose first row is sparse is
    /// fitted in O(non-zeros) per row (<see cref="SparseBatchMoments{T}"/>, folding lazily into the running statistics);
    /// otherwise densely.
    /// </summary>
    public static ColumnFitter Create(DataViewRow cursor, DataViewSchema.Column column, NumericColumnShape shape, StatisticsLayout layout, RunningStatistics? statistics = null) =>
        shape.IsDouble
            ? new ColumnFitter<double>(cursor, column, shape, layout, statistics)
            : new ColumnFitter<float>(cursor, column, shape, layout, statistics);

    /// <summary>Adds the cursor's current row.</summary>
    public abstract void AddRow();

    /// <summary>Closes the current mini-batch: its statistics go into the Batch* arrays, the sums restart.</summary>
    public abstract void EndBatch();

    /// <summary>Whether the column gave a sparse vector in some row (the first sparse row switches a per-slot fit to O(non-zeros)).</summary>
    public bool SawSparseRows { get; protected set; }

    /// <summary>Closes the current mini-batch and folds it into <paramref name="statistics"/>.</summary>
    public virtual void EndBatch(RunningStatistics statistics)
    {
        EndBatch();
        statistics.Add(BatchMean, BatchVariance, BatchCount);
    }

    /// <summary>After the last batch: brings <paramref name="statistics"/> fully up to date (the sparse fit folds lazily).</summary>
    public virtual void Complete(RunningStatistics statistics)
    {
    }

    /// <summary>Frees the sparse fit's slot records, which live outside the managed heap.</summary>
    public virtual void Dispose()
    {
    }
}

internal sealed class ColumnFitter<T> : ColumnFitter
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ValueGetter<VBuffer<T>>? _vectorGetter;
    private readonly ValueGetter<T>? _scalarGetter;
    private readonly string _columnName;
    private readonly int _slots;
    private readonly StatisticsLayout _layout;
    private readonly bool _canGoSparse;
    private readonly RunningStatistics? _statistics;
    private T[]? _row;
    private IBatchMoments<T>? _moments;
    private SparseBatchMoments<T>? _sparse;
    private bool _seenRow;
    private VBuffer<T> _buffer;

    public ColumnFitter(DataViewRow cursor, DataViewSchema.Column column, NumericColumnShape shape, StatisticsLayout layout, RunningStatistics? statistics)
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

        _slots = shape.Size;
        _layout = layout;
        _canGoSparse = shape.IsVector && !layout.HasChannels;
        _statistics = statistics;
    }

    // The dense path's moments, made at the first row that needs them (a sparse fit never does).
    private IBatchMoments<T> Moments => _moments ??= _layout.HasChannels
        ? new ChannelBatchMoments<T>(_layout)
        : new MiniBatchMoments<T>(_slots);

    public override void AddRow()
    {
        ReadOnlySpan<T> row;
        if (_vectorGetter is not null)
        {
            _vectorGetter(ref _buffer);
            if (_buffer.Length != _slots)
            {
                throw new InvalidOperationException($"Column '{_columnName}' gave a vector of {_buffer.Length} slots, its type says {_slots}.");
            }

            bool first = !_seenRow;
            _seenRow = true;
            if (!_buffer.IsDense)
            {
                SawSparseRows = true;
                if (first && _canGoSparse)
                {
                    // A sparse first row: the whole fit of this column goes O(non-zeros) per row (see SparseBatchMoments).
                    _sparse = new SparseBatchMoments<T>(_columnName, _slots, _statistics);
                }
            }

            if (_sparse is not null)
            {
                if (_buffer.IsDense)
                {
                    _sparse.Add(_buffer.GetValues());
                }
                else
                {
                    _sparse.Add(_buffer.GetValues(), _buffer.GetIndices());
                }

                return;
            }

            if (_buffer.IsDense)
            {
                row = _buffer.GetValues();
            }
            else
            {
                // Sparse rows: the implicit slots are zeros, and zeros count in the statistics.
                _row ??= new T[_slots];
                _buffer.CopyTo(_row);
                row = _row;
            }
        }
        else
        {
            _row ??= new T[1];
            _scalarGetter!(ref _row[0]);
            row = _row;
        }

        Moments.Add(row);
    }

    public override void EndBatch()
    {
        if (_sparse is not null)
        {
            _sparse.EndBatch(BatchMean, BatchVariance, BatchCount);
        }
        else
        {
            Moments.EndBatch(BatchMean, BatchVariance, BatchCount);
        }
    }

    public override void EndBatch(RunningStatistics statistics)
    {
        if (_sparse is not null)
        {
            _sparse.EndBatch(statistics);
        }
        else
        {
            base.EndBatch(statistics);
        }
    }

    public override void Complete(RunningStatistics statistics) => _sparse?.Complete(statistics);

    public override void Dispose() => _sparse?.Dispose();

}
