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
internal abstract class ColumnFitter
{
    protected ColumnFitter(int units)
    {
        BatchMean = new double[units];
        BatchVariance = new double[units];
        BatchCount = new double[units];
    }

    /// <summary>Per unit, the mean of the finite values of the batch last closed by <see cref="EndBatch()"/>.</summary>
    public double[] BatchMean { get; }

    /// <summary>Per unit, their biased variance.</summary>
    public double[] BatchVariance { get; }

    /// <summary>Per unit, how many finite values there were.</summary>
    public double[] BatchCount { get; }

    /// <summary>Each unit's shift, to keep in the fit's state.</summary>
    public abstract ReadOnlySpan<double> Shift { get; }

    /// <summary>
    /// A fitter for <paramref name="column"/>, continuing <paramref name="state"/>'s shifts (null: the training pass, which
    /// keeps no running statistics). A per-slot vector column whose first row is sparse is fitted in O(non-zeros) per
    /// row (<see cref="SparseBatchMoments{T}"/>, folding lazily into the state's running statistics); otherwise densely.
    /// </summary>
    public static ColumnFitter Create(DataViewRow cursor, DataViewSchema.Column column, NumericColumnShape shape, StatisticsLayout layout, FitState? state = null) =>
        shape.IsDouble
            ? new ColumnFitter<double>(cursor, column, shape, layout, state)
            : new ColumnFitter<float>(cursor, column, shape, layout, state);

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
}

internal sealed class ColumnFitter<T> : ColumnFitter
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ValueGetter<VBuffer<T>>? _vectorGetter;
    private readonly ValueGetter<T>? _scalarGetter;
    private readonly string _columnName;
    private readonly T[] _row;
    private readonly IBatchMoments<T> _moments;
    private readonly bool _canGoSparse;
    private readonly FitState? _state;
    private SparseBatchMoments<T>? _sparse;
    private bool _seenRow;
    private VBuffer<T> _buffer;

    public ColumnFitter(DataViewRow cursor, DataViewSchema.Column column, NumericColumnShape shape, StatisticsLayout layout, FitState? state)
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
        var shift = state?.Shift;
        _moments = layout.HasChannels ? new ChannelBatchMoments<T>(layout, shift) : new MiniBatchMoments<T>(slots, shift);
        _canGoSparse = shape.IsVector && !layout.HasChannels;
        _state = state;
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

            bool first = !_seenRow;
            _seenRow = true;
            if (!_buffer.IsDense)
            {
                SawSparseRows = true;
                if (first && _canGoSparse)
                {
                    // A sparse first row: the whole fit of this column goes O(non-zeros) per row (see SparseBatchMoments).
                    _sparse = new SparseBatchMoments<T>(_row.Length, _state?.Kind == StatisticsKind.Running ? _state.Momentum : null, _state?.Shift);
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

    public override void EndBatch()
    {
        if (_sparse is not null)
        {
            _sparse.EndBatch(BatchMean, BatchVariance, BatchCount);
        }
        else
        {
            _moments.EndBatch(BatchMean, BatchVariance, BatchCount);
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

    public override ReadOnlySpan<double> Shift => _sparse is not null ? _sparse.Shift : _moments.Shift;
}
