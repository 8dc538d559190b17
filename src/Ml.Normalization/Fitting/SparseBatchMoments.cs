using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Ml.Normalization.Fitting;

/// <summary>
/// One column's per-slot mini-batch moments from sparse rows in O(non-zeros) per row. In a fit (constructed with its
/// <see cref="ColumnStatistics"/>) each slot's batch is folded into the running statistics lazily, when the slot is next
/// touched in a later batch, or at <see cref="Complete"/>; the batches it missed are folded in closed form. Memory O(slots),
/// independent of the row count: at most a 64-byte record per slot.
/// </summary>
/// <remarks>
/// <para>Per slot and batch the statistics are those of the dense path (<see cref="MiniBatchMoments{T}"/>): the mean and
/// biased variance of the slot's finite values, the implicit zeros of sparse rows included, NaN and infinities left out;
/// a slot counts in a batch when it has at least 2 finite values. An explicit entry (even an explicit 0) counts as a
/// value of its slot, an implicit slot counts as one finite 0.</para>
/// <para>Shift: as on the dense path, each slot's sums are of <c>x - shift</c>, the shift being the slot's first finite
/// value in the batch: its first explicit finite value if every earlier row of the batch had the slot explicit, else 0
/// (an implicit zero came first); after 8, 64, 512, ... finite explicit values it moves to their mean so far
/// (<see cref="Kernels.NormalizationKernels.Recentre"/>). The k implicit zeros of a batch join the explicit
/// values' moments in closed form when the batch is closed: the count, mean and sum of squared deviations of the two
/// groups combine by Chan's formula (<c>M2 = M2e + e^2 * ne * k / n</c>, e the explicit values' mean), in which nothing
/// cancels, so one non-zero among many zeros keeps its variance to a few roundings.</para>
/// <para>Untouched batches: a batch that holds no explicit entry of a slot has mean 0 and variance 0 there exactly (the
/// dense path computes the same up to ~1e-16 * shift^2 when the shift is not 0). With momentum m, g such batches fold in
/// as <c>running *= m^g</c> (one multiplication by <c>m^g</c> instead of g roundings: relative difference from the dense
/// fold at most about (g + 1) * 2^-53); without momentum, as <c>running *= t / (t + g)</c>, t the slot's counted batches.
/// </para>
/// <para>Speed: a slot's sums, counts and running statistics share one 64-byte record (<see cref="SparseSlotState"/>) in a
/// cache-line-aligned native block (<see cref="SlotBlock"/>), and a row's records are prefetched before its values are added, so a non-zero costs
/// about one cache miss and nothing happens per slot at a batch's end. The closed batches a row meets are folded right
/// after the row, in a loop of their own. Folding a slot's batch when it is next touched does the slot's operations in
/// the same order as folding every touched slot at the batch's end, so the bits are the same (pinned by a test).
/// The batches of a fit are all <c>BatchSize</c> rows long except the last, which lets a slot's folded rows follow from its
/// folded batches.</para>
/// <para>Fixed cost: a fit writes nothing per slot before its rows. A slot gets its record when first touched, from a
/// pool found through a per-slot index (4 bytes a slot, zeroed memory the system hands out as it is written), until an
/// eighth of the slots have been touched; then every slot gets its own record at its index, as a long fit needs. At
/// <see cref="Complete"/> the slots never touched take their batches of zeros straight into the state. A fit of a few
/// rows of a wide column therefore costs about what writing its state once does (issue 21, item 5), and a record's
/// operations, hence the bits, are the same in either layout (pinned by a test).</para>
/// </remarks>
internal sealed unsafe class SparseBatchMoments<T> : MomentAccumulator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int FoldQueueLength = 256;

    private SlotBlock _block;
    private SparseSlotState* _slots; // _block's records, until Dispose: slot j's at j, or in the pool at _poolIndex[j] - 1
    private int[]? _poolIndex; // while the records are pooled: per slot, 1 + its record's place in the pool (0: not touched yet)
    private int _pooled;
    private readonly int _poolLimit;
    private readonly int _slotCount;
    private readonly ColumnStatistics? _statistics;
    private readonly ClosedBatch[] _toFold = new ClosedBatch[FoldQueueLength];
    private int _toFoldCount;
    private int[]? _touched; // the training pass: the slots its open batch touched
    private int _touchedCount;
    private long _rowsInBatch;
    private int _batchesClosed;
    private long _rowsClosed;
    private long _fullBatchRows; // every closed batch's rows, but a shorter last one
    private bool _closedShortBatch;

    /// <summary>
    /// Moments of column <paramref name="columnName"/>'s <paramref name="slots"/> slots. With <paramref name="statistics"/> (a fit): folded into them lazily,
    /// starting from their state (a fresh one, or a previous fit's to continue). Without (the training
    /// pass): each batch's statistics are written out by <see cref="EndBatch(Span{double}, Span{double}, Span{double})"/>.
    /// </summary>
    public SparseBatchMoments(string columnName, int slots, ColumnStatistics? statistics = null)
        : this(columnName, slots, statistics, PoolLimit(slots))
    {
    }

    /// <summary>
    /// As above, with the records pooled until <paramref name="poolLimit"/> slots have been touched (0: a record per slot
    /// from the start), for tests of both layouts.
    /// </summary>
    internal SparseBatchMoments(string columnName, int slots, ColumnStatistics? statistics, int poolLimit)
        : base(columnName, slots, slots)
    {
        _slotCount = slots;
        _statistics = statistics;
        _poolLimit = statistics is null ? 0 : Math.Min(poolLimit, slots);
        if (_poolLimit > 0)
        {
            // A record for each slot touched so far: nothing per slot is written until a slot is touched (the index
            // is zeroed memory, which the system hands out as it is first written).
            _poolIndex = new int[slots];
            int capacity = Math.Min(_poolLimit, FirstPoolCapacity);
            _block = new SlotBlock(capacity);
            _slots = _block.Records;
            return;
        }

        // Not zeroed here: every record is written whole below.
        _block = new SlotBlock(slots);
        _slots = _block.Records;
        if (statistics is null)
        {
            new Span<SparseSlotState>(_slots, slots).Clear();
            return;
        }

        for (int j = 0; j < slots; j++)
        {
            _slots[j] = StartingRecord(j);
        }
    }

    private const int FirstPoolCapacity = 1024;

    // The slots a fit may touch before every slot gets its own record: an eighth of them (the pool's records
    // then hold 8 bytes per slot, its index 4); a column of fewer than 512 slots has a record per slot from the start.
    private static int PoolLimit(int slots) => slots < 512 ? 0 : slots / 8;

    // A slot's record before it is touched: nothing pending, nothing folded, its running statistics from the state.
    private SparseSlotState StartingRecord(int j)
    {
        var state = _statistics!.State;
        return new SparseSlotState { Mean = state.Mean[j], Second = state.Second[j], Count = state.Count[j] };
    }

    // Slot j's record, made when the slot is first touched.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private SparseSlotState* Touch(int j)
    {
        if (_poolIndex is not { } index)
        {
            return _slots + j;
        }

        int place = index[j];
        return place != 0 ? _slots + (place - 1) : AddToPool(j);
    }

    // The record of slot j, which has been touched.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private SparseSlotState* Existing(int j) => _poolIndex is { } index ? _slots + (index[j] - 1) : _slots + j;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private SparseSlotState* AddToPool(int j)
    {
        if (_pooled == _poolLimit)
        {
            Unpool();
            return _slots + j;
        }

        if (_pooled == _block.Count)
        {
            int capacity = (int)Math.Min(_poolLimit, 2L * _block.Count);
            _block.Grow(capacity);
            _slots = _block.Records;
        }

        var record = _slots + _pooled;
        *record = StartingRecord(j);
        _poolIndex![j] = ++_pooled;
        return record;
    }

    // Gives every slot its own record, at its index: the untouched ones from the state, the pooled ones moved there.
    private void Unpool()
    {
        // Checked again here: the pool and the state have taken memory since the estimator's check.
        FitMemory.Ensure(ColumnName, _slotCount, "slot", SparseSlotState.Bytes, "the open batch's sparse moments (a record per slot)");
        var block = new SlotBlock(_slotCount);
        var slots = block.Records;
        var index = _poolIndex!;
        for (int j = 0; j < _slotCount; j++)
        {
            int place = index[j];
            slots[j] = place != 0 ? _slots[place - 1] : StartingRecord(j);
        }

        _block.Dispose();
        _block = block;
        _slots = slots;
        (_poolIndex, _pooled) = (null, 0);
    }

    /// <summary>Frees the slot records (<see cref="Complete"/> has copied what the fit keeps into its state).</summary>
    public override void Dispose()
    {
        _slots = null;
        _block.Dispose();
    }

    /// <summary>Adds a sparse row: <paramref name="values"/> at <paramref name="indices"/> (strictly ascending, within the slots), every other slot 0.</summary>
    /// <exception cref="InvalidOperationException">The indices are not strictly ascending within the slots (a malformed
    /// VBuffer, <see cref="SparseIndices"/>): nothing is added.</exception>
    public override void Add(ReadOnlySpan<T> values, ReadOnlySpan<int> indices)
    {
        // The records are raw memory, and a slot counted twice in a row would skew its statistics: every index is checked
        // before any record is touched. The row's records are scattered over the whole block, so the same pass asks the
        // cache for all of them before the first is read.
        bool prefetch = Sse.IsSupported && _poolIndex is null;
        int previous = -1;
        foreach (int j in indices)
        {
            if (!SparseIndices.Follows(previous, j, _slotCount))
            {
                SparseIndices.Throw(previous, j, _slotCount, ColumnName);
            }

            if (prefetch)
            {
                Sse.Prefetch0(_slots + j);
            }

            previous = j;
        }

        for (int i = 0; i < values.Length; i++)
        {
            AddValue(indices[i], values[i]);
        }

        FoldQueued();
        _rowsInBatch++;
    }

    /// <summary>Adds a dense row (every slot explicit), in O(slots).</summary>
    public override void Add(ReadOnlySpan<T> row)
    {
        if (row.Length != _slotCount)
        {
            throw new ArgumentException($"Expected {_slotCount} values, got {row.Length}.", nameof(row));
        }

        for (int j = 0; j < row.Length; j++)
        {
            AddValue(j, row[j]);
        }

        FoldQueued();
        _rowsInBatch++;
    }

    /// <summary>Adds an explicit value of slot <paramref name="j"/>: counted as explicit, and in the sums when finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddValue(int j, T value)
    {
        ref var slot = ref *Touch(j);
        if (_statistics is null)
        {
            if (slot.Explicit == 0)
            {
                _touched ??= new int[_slotCount];
                _touched[_touchedCount++] = j;
            }
        }
        else
        {
            int batch = _batchesClosed + 1;
            if (slot.Explicit != 0 && slot.Pending != batch)
            {
                QueueFold(ref slot, j); // the slot's last batch, closed since
            }

            slot.Pending = batch;
        }

        int earlier = slot.Explicit++; // the slot's explicit values in the batch's earlier rows
        if (!T.IsFinite(value))
        {
            return;
        }

        double x = double.CreateTruncating(value);
        if (slot.Finite == 0)
        {
            // The dense path's shift, the batch's first finite value: this one, unless an earlier row left the slot an
            // implicit 0 (every earlier explicit value was NaN or infinite).
            slot.Shift = earlier == _rowsInBatch ? x : 0;
        }

        double t = x - slot.Shift;
        slot.Sum += t;
        slot.SumOfSquares += t * t;
        if ((++slot.Finite & 7) == 0 && IsRecentrePoint(slot.Finite))
        {
            Kernels.NormalizationKernels.Recentre(ref slot.Shift, ref slot.Sum, ref slot.SumOfSquares, slot.Finite);
        }
    }

    // 8, 64, 512, 4096, ...: the slot's finite explicit values at which its shift moves. Geometric throughout, unlike
    // BlockSchedule's every-512 after 512: the record has no room for a next-fold count, and in-place moves need none.
    private static bool IsRecentrePoint(int finite) =>
        (finite & (finite - 1)) == 0 && BitOperations.TrailingZeroCount(finite) % 3 == 0;

    /// <summary>Closes the batch. Nothing is folded now: each touched slot folds it when next touched, or at <see cref="Complete"/>.</summary>
    public override void EndBatch(ColumnStatistics statistics)
    {
        if (!ReferenceEquals(statistics, _statistics))
        {
            throw new InvalidOperationException("The sparse fit folds into the statistics it was created with.");
        }

        if (_closedShortBatch || (_batchesClosed > 0 && _rowsInBatch > _fullBatchRows))
        {
            // Only the last batch may be shorter: a slot's folded rows are its folded batches times the batch size.
            throw new InvalidOperationException("The sparse fit's batches must all have the same size but the last.");
        }

        if (_batchesClosed == 0)
        {
            _fullBatchRows = _rowsInBatch;
        }
        else
        {
            _closedShortBatch = _rowsInBatch < _fullBatchRows;
        }

        _batchesClosed = checked(_batchesClosed + 1);
        _rowsClosed += _rowsInBatch;
        _rowsInBatch = 0;
    }

    /// <summary>Closes the batch as the training pass reads it, each mean whole (below), its shift 0.</summary>
    public override void EndBatch(Span<double> shift, Span<double> meanOffset, Span<double> variance, Span<double> count)
    {
        EndBatch(meanOffset, variance, count);
        shift.Clear();
    }

    /// <summary>
    /// Closes the batch and writes every slot's statistics into the dense arrays (O(slots)), for callers that read whole
    /// batches (the training pass); the running statistics are not involved.
    /// </summary>
    public override void EndBatch(Span<double> mean, Span<double> variance, Span<double> count)
    {
        mean.Clear();
        variance.Clear();
        count.Fill(_rowsInBatch);
        for (int i = 0; i < _touchedCount; i++)
        {
            int j = _touched![i];
            ref var slot = ref _slots[j];
            var (shift, meanOffset, v, n) = SlotStatistics(ref slot, _rowsInBatch);
            (mean[j], variance[j], count[j]) = (shift + meanOffset, v, n);
            Clear(ref slot);
        }

        if (_rowsInBatch == 0)
        {
            mean.Fill(double.NaN);
            variance.Fill(double.NaN);
        }

        _touchedCount = 0;
        _rowsInBatch = 0;
    }

    /// <summary>
    /// After the last <see cref="EndBatch(ColumnStatistics)"/>: folds every slot's pending batch and the batches it missed
    /// (values of a batch that was never closed are dropped), then writes the running statistics into the state.
    /// </summary>
    public override void Complete(ColumnStatistics statistics)
    {
        var state = statistics.State;
        if (_poolIndex is { } index)
        {
            // The untouched slots were 0 in every batch: their state takes the batches at once, with no record.
            for (int j = 0; j < _slotCount; j++)
            {
                int place = index[j];
                if (place != 0)
                {
                    CompleteSlot(ref _slots[place - 1], j, state);
                }
                else if (_batchesClosed > 0)
                {
                    _statistics!.FoldZeroBatches(j, ref state.Count[j], ref state.Mean[j], ref state.Second[j], _batchesClosed, _rowsClosed);
                }
            }

            return;
        }

        for (int j = 0; j < _slotCount; j++)
        {
            CompleteSlot(ref _slots[j], j, state);
        }
    }

    // Folds the slot's pending batch (if closed) and the batches it missed since, then writes its running statistics into the state.
    private void CompleteSlot(ref SparseSlotState slot, int j, FitState state)
    {
        if (slot.Explicit != 0)
        {
            if (slot.Pending <= _batchesClosed)
            {
                FoldPending(ref slot, j);
            }
            else
            {
                Clear(ref slot);
            }
        }

        CatchUp(ref slot, j, _batchesClosed, _rowsClosed);
        state.Mean[j] = slot.Mean;
        state.Second[j] = slot.Second;
        state.Count[j] = slot.Count;
    }

    // Moves the slot's closed pending batch out of its record, to be folded after the row: the loop over a row's values
    // stays short (its cache misses overlap), and the folds run in a loop of their own over records already in cache.
    // A slot occurs once per row, so its batches are still folded in order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void QueueFold(ref SparseSlotState slot, int j)
    {
        if (_toFoldCount == FoldQueueLength)
        {
            FoldQueued();
        }

        _toFold[_toFoldCount++] = ClosedBatch.Of(ref slot, j);
        Clear(ref slot);
    }

    private void FoldQueued()
    {
        for (int i = 0; i < _toFoldCount; i++)
        {
            ref readonly var batch = ref _toFold[i];
            FoldBatch(ref *Existing(batch.Slot), in batch);
        }

        _toFoldCount = 0;
    }

    // Folds the slot's pending batch (still in its record, at Complete).
    private void FoldPending(ref SparseSlotState slot, int j)
    {
        FoldBatch(ref slot, ClosedBatch.Of(ref slot, j));
        Clear(ref slot);
    }

    // Folds a slot's closed batch p: first the batches it missed before p, then p's statistics.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FoldBatch(ref SparseSlotState slot, in ClosedBatch batch)
    {
        long p = batch.Batch;
        CatchUp(ref slot, batch.Slot, p - 1, (p - 1) * _fullBatchRows);
        long rows = p == _batchesClosed ? _rowsClosed - ((p - 1) * _fullBatchRows) : _fullBatchRows;
        var (shift, meanOffset, variance, n) = Statistics(in batch, rows);
        _statistics!.Fold(batch.Slot, ref slot.Count, ref slot.Mean, ref slot.Second, shift, meanOffset, variance, n);
        slot.Folded = (int)p;
    }

    // Folds the batches after the slot's last fold up to batch upTo, which ends at row upToRows: all its values there were
    // implicit zeros. Every batch before upTo is full, so the slot's folded rows are its folded batches times the batch size.
    private void CatchUp(ref SparseSlotState slot, int j, long upTo, long upToRows)
    {
        long gap = upTo - slot.Folded;
        if (gap > 0)
        {
            _statistics!.FoldZeroBatches(j, ref slot.Count, ref slot.Mean, ref slot.Second, gap, upToRows - (slot.Folded * _fullBatchRows));
            slot.Folded = (int)upTo;
        }
    }

    private static (double Shift, double MeanOffset, double Variance, double Count) SlotStatistics(ref SparseSlotState slot, long rowsInBatch) =>
        Statistics(ClosedBatch.Of(ref slot, 0), rowsInBatch);

    // The batch's statistics of the slot: its explicit finite values' moments (relative to their shift), joined by the
    // batch's implicit zeros in closed form (Chan's combination: nothing cancels, whatever the shift).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double Shift, double MeanOffset, double Variance, double Count) Statistics(in ClosedBatch batch, long rowsInBatch)
    {
        double shift = batch.Shift;
        double explicitCount = batch.Finite;
        double offset = batch.Sum / explicitCount;
        double squares = batch.SumOfSquares - (batch.Sum * offset);
        squares = squares < 0 ? 0 : squares;
        long implicitZeros = rowsInBatch - batch.Explicit;
        if (implicitZeros <= 0)
        {
            return (shift, offset, squares / explicitCount, explicitCount);
        }

        if (batch.Finite == 0)
        {
            return (0, 0, 0, implicitZeros);
        }

        double n = explicitCount + implicitZeros;
        double explicitMean = shift + offset;
        double variance = (squares + (explicitMean * explicitMean * (explicitCount * implicitZeros / n))) / n;
        // The mean, relative to the shift: (explicitMean * explicitCount) / n - shift.
        double meanOffset = ((offset * explicitCount) - (shift * implicitZeros)) / n;
        return (shift, meanOffset, variance, n);
    }

    private readonly record struct ClosedBatch(int Slot, int Batch, int Finite, int Explicit, double Shift, double Sum, double SumOfSquares)
    {
        /// <summary>Slot <paramref name="j"/>'s pending batch, from its record.</summary>
        public static ClosedBatch Of(ref SparseSlotState slot, int j) =>
            new(j, slot.Pending, slot.Finite, slot.Explicit, slot.Shift, slot.Sum, slot.SumOfSquares);
    }

    private static void Clear(ref SparseSlotState slot)
    {
        slot.Sum = 0;
        slot.SumOfSquares = 0;
        slot.Finite = 0;
        slot.Explicit = 0;
        slot.Shift = 0;
    }
}
