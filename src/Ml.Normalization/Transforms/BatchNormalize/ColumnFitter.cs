using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// Reads one column from a cursor, row by row, into its <see cref="MomentAccumulator{T}"/>: memory O(units), whatever the
/// row count. The moments are chosen at the first row: per channel (<see cref="StatisticsLayout"/>), or per slot,
/// sparse (O(non-zeros) per row) when the first row of a per-slot vector column is sparse, else dense. A vector column
/// of ML.NET's view of a user's objects is read from their arrays, not copied out by its getter (<see cref="InMemoryRows"/>).
/// </summary>
internal abstract class ColumnFitter : IDisposable
{
    /// <summary>
    /// A fitter for <paramref name="column"/> that folds into <paramref name="statistics"/> (null: the training pass,
    /// which reads each batch's statistics and keeps none); with <c>weight</c>, the example weight of each row, the fit is
    /// weighted (<see cref="WeightedBatchMoments{T}"/>, for every layout).
    /// </summary>
    public static ColumnFitter Create(DataViewRow cursor, DataViewSchema.Column column, NumericColumnShape shape, StatisticsLayout layout, ColumnStatistics? statistics = null, RowWeight? weight = null) =>
        shape.IsDouble
            ? new ColumnFitter<double>(cursor, column, shape, layout, statistics, weight)
            : new ColumnFitter<float>(cursor, column, shape, layout, statistics, weight);

    /// <summary>Per unit, the mean of the finite values of the batch last closed by <see cref="EndBatch()"/>.</summary>
    public abstract double[] BatchMean { get; }

    /// <summary>Per unit, their biased variance.</summary>
    public abstract double[] BatchVariance { get; }

    /// <summary>Per unit, how many finite values there were.</summary>
    public abstract double[] BatchCount { get; }

    /// <summary>Whether the column gave a sparse vector in some row.</summary>
    public bool SawSparseRows { get; protected set; }

    /// <summary>Adds the cursor's current row.</summary>
    public abstract void AddRow();

    /// <summary>Closes the current mini-batch: its statistics go into the Batch* arrays, the sums restart (the training pass).</summary>
    public abstract void EndBatch();

    /// <summary>Closes the current mini-batch and folds it into the fit's statistics.</summary>
    public abstract void EndBatch(ColumnStatistics statistics);

    /// <summary>After the last batch: brings <paramref name="statistics"/> fully up to date.</summary>
    public abstract void Complete(ColumnStatistics statistics);

    public abstract void Dispose();
}

internal sealed class ColumnFitter<T> : ColumnFitter
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly ValueGetter<VBuffer<T>>? _vectorGetter;
    private readonly ValueGetter<T>? _scalarGetter;
    private readonly InMemoryColumn<T>? _rows;
    private readonly string _columnName;
    private readonly int _slots;
    private readonly StatisticsLayout _layout;
    private readonly bool _isVector;
    private readonly ColumnStatistics? _statistics;
    private readonly RowWeight? _weight;
    private readonly T[] _scalar = new T[1];
    private MomentAccumulator<T>? _moments;
    private VBuffer<T> _buffer;
    private T[]? _rented;
    private double[]? _batchMean;
    private double[]? _batchVariance;
    private double[]? _batchCount;

    public ColumnFitter(DataViewRow cursor, DataViewSchema.Column column, NumericColumnShape shape, StatisticsLayout layout, ColumnStatistics? statistics, RowWeight? weight)
    {
        _weight = weight;
        _columnName = column.Name;
        _isVector = shape.IsVector;
        if (_isVector)
        {
            _rows = InMemoryRows.TryOpen<T>(cursor, column);
            _vectorGetter = cursor.GetGetter<VBuffer<T>>(column);
        }
        else
        {
            _scalarGetter = cursor.GetGetter<T>(column);
        }

        _slots = shape.Size;
        _layout = layout;
        _statistics = statistics;
        if (_isVector && layout.HasChannels && _rows is null)
        {
            // Image rows (600 KB at 3 x 224 x 224) are written into a pooled buffer: a new one every fit was a fresh
            // large-object array whose pages faulted in on the getter's first write, 7% of a fit's time.
            _rented = ArrayPool<T>.Shared.Rent(_slots);
            _buffer = new VBuffer<T>(_slots, _rented);
        }
    }

    public override double[] BatchMean => _batchMean ??= new double[_layout.Units];

    public override double[] BatchVariance => _batchVariance ??= new double[_layout.Units];

    public override double[] BatchCount => _batchCount ??= new double[_layout.Units];

    public override void AddRow()
    {
        if (_scalarGetter is not null)
        {
            _scalarGetter(ref _scalar[0]);
            Moments(firstRowSparse: false).Add(_scalar);
            return;
        }

        if (_rows is not null)
        {
            AddInMemoryRow(_rows.Current);
            return;
        }

        if ((_moments as MiniBatchMoments<T>)?.FreeRowBuffer is not { } free)
        {
            _vectorGetter!(ref _buffer);
        }
        else if (TryReadInto(free))
        {
            return;
        }

        if (_buffer.Length != _slots)
        {
            ThrowLength(_buffer.Length);
        }

        if (_buffer.IsDense)
        {
            Moments(firstRowSparse: false).Add(_buffer.GetValues());
        }
        else
        {
            SawSparseRows = true;
            Moments(firstRowSparse: true).Add(_buffer.GetValues(), _buffer.GetIndices());
        }
    }

    // The row as the user's object holds it, dense, as the getter would give it. The moments copy it into the buffer they
    // hold rows in, as the getter would have: reading eight rows in place from memory, slot by slot, was slower than
    // this one sequential copy (measured, 1M x 64 floats: 40-43 ms against 33-35 ms a fit).
    private void AddInMemoryRow(T[]? row)
    {
        if ((row?.Length ?? 0) != _slots)
        {
            ThrowLength(row?.Length ?? 0);
        }

        Moments(firstRowSparse: false).Add(row);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowLength(int length) =>
        throw new InvalidOperationException($"Column '{_columnName}' gave a vector of {length} slots, its type says {_slots}.");

    // Reads the row into the dense moments' free row buffer, handed to the getter as the values of the VBuffer it writes
    // (ML.NET's getters write into the buffers they are handed, so the row is not copied again), and adds it there.
    // A dense row the getter put elsewhere is copied in; a sparse row goes the general way (false, with _buffer holding it).
    private bool TryReadInto(T[] free)
    {
        var row = new VBuffer<T>(_slots, free);
        _vectorGetter!(ref row);
        if (row.Length != _slots || !row.IsDense)
        {
            row.CopyTo(ref _buffer);
            return false;
        }

        var values = row.GetValues();
        if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(values), ref free[0]))
        {
            values.CopyTo(free);
        }

        ((MiniBatchMoments<T>)_moments!).AddHeldRow();
        return true;
    }

    // The moments, chosen at the first row: a sparse first row of a per-slot vector column makes the whole fit of the
    // column O(non-zeros) per row (see SparseBatchMoments); channels and dense columns take the dense moments.
    private MomentAccumulator<T> Moments(bool firstRowSparse) => _moments ??= NewMoments(firstRowSparse);

    private MomentAccumulator<T> NewMoments(bool firstRowSparse)
    {
        if (_weight is not null)
        {
            FitMemory.Ensure(_columnName, _layout.Units, _layout.UnitName, WeightedBatchMoments<T>.BytesPerUnit, "the open batch's weighted moments");
            return new WeightedBatchMoments<T>(_columnName, _layout, _weight);
        }

        if (_layout.HasChannels)
        {
            return new ChannelBatchMoments<T>(_columnName, _layout);
        }

        bool sparse = firstRowSparse && _isVector;
        FitMemory.Ensure(_columnName, _slots, "slot", sparse ? FitMemory.SparseMomentsBytes : FitMemory.DenseMomentsBytes, $"the open batch's {(sparse ? "sparse" : "dense")} moments");
        return sparse ? new SparseBatchMoments<T>(_columnName, _slots, _statistics) : new MiniBatchMoments<T>(_columnName, _slots);
    }

    public override void EndBatch() => Moments(firstRowSparse: false).EndBatch(BatchMean, BatchVariance, BatchCount);

    public override void EndBatch(ColumnStatistics statistics) => Moments(firstRowSparse: false).EndBatch(statistics);

    public override void Complete(ColumnStatistics statistics) => _moments?.Complete(statistics);

    public override void Dispose()
    {
        _moments?.Dispose();
        if (_rented is { } rented)
        {
            _rented = null;
            _buffer = default; // the getter wrote into it; nothing else holds it
            ArrayPool<T>.Shared.Return(rented);
        }
    }
}
