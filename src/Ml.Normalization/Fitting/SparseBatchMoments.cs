using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Ml.Normalization.Fitting;

/// <summary>
/// One column's per-slot mini-batch moments from sparse rows in O(non-zeros) per row. In a fit (constructed with its
/// <see cref="ColumnStatistics"/>) each batch is folded into the state at its end, slot by slot for the slots it touched;
/// a slot's batches without an explicit value are folded in closed form when it is next touched, or at
/// <see cref="Complete"/>. Memory: the state's record per slot, a 4-byte tag per slot, and 40 bytes per slot the open
/// batch touches; independent of the row count.
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
/// <para>Layout and speed: the open batch's sums of a slot live in a pool of the slots that batch has touched
/// (<see cref="OpenSlotSums"/>, found through the slot's tag, which otherwise holds how many batches the slot has
/// folded), so a non-zero costs a tag read and an add into a small, cached pool. The state is one 32-byte record per
/// slot (<see cref="UnitMoments"/>, each within one cache line: <see cref="FitState"/> aligns them); at a batch's end
/// the pool's slots fold into their records in one loop that asks the cache for the records a few slots ahead, so each
/// touched slot costs about one cache miss per batch, however many values it had. The rule's arithmetic is inlined in
/// that loop (<see cref="StatisticsRule.Run"/>): no virtual call per slot. Per slot, the operations are the same, in
/// the same order, as folding every slot at every batch's end (the batches it missed first, in closed form): the bits
/// do not depend on when a slot is reached. The batches of a fit are all <c>BatchSize</c> rows long except the last,
/// which lets a slot's folded rows follow from its folded batches.</para>
/// <para>Fixed cost: a fit writes nothing per slot before its rows but the tags, zeroed memory the system hands out as
/// it is first written; at <see cref="Complete"/> every slot takes the batches it missed since it was last touched
/// straight into its record. A fit of a few rows of a wide column therefore costs about what writing its state once
/// does (issue 21, item 5).</para>
/// </remarks>
internal sealed class SparseBatchMoments<T> : MomentAccumulator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int FirstPoolCapacity = 1024;

    // At a batch's end, the records this many pool entries ahead are asked for before the current one is folded (8 left
    // the fold waiting on memory: 16 and 32 both took about a fifth less).
    private const int PrefetchDistance = 16;

    private readonly ColumnStatistics? _statistics;
    private int[] _tags; // per slot: >= 0, not in the open batch, its folded batches (the training pass: 0); < 0, ~its place in the pool
    private OpenSlotSums[] _pool = new OpenSlotSums[FirstPoolCapacity];
    private int _pooled;
    private long _rowsInBatch;
    private int _batchesClosed;
    private long _rowsClosed;
    private long _fullBatchRows; // every closed batch's rows, but a shorter last one
    private bool _closedShortBatch;

    /// <summary>
    /// Moments of column <paramref name="columnName"/>'s <paramref name="slots"/> slots. With <paramref name="statistics"/> (a fit): folded into them at
    /// each batch's end, starting from their state (a fresh one, or a previous fit's to continue). Without (the training
    /// pass): each batch's statistics are written out by <see cref="EndBatch(Span{double}, Span{double}, Span{double})"/>.
    /// </summary>
    public SparseBatchMoments(string columnName, int slots, ColumnStatistics? statistics = null)
        : base(columnName, slots, slots)
    {
        _statistics = statistics;
        _tags = new int[slots];
    }

    /// <summary>Lets go of the tags and the pool (the state keeps what the fit made).</summary>
    public override void Dispose()
    {
        _tags = [];
        _pool = [];
        _pooled = 0;
    }

    /// <summary>Adds a sparse row: <paramref name="values"/> at <paramref name="indices"/> (strictly ascending, within the slots), every other slot 0.</summary>
    /// <exception cref="InvalidOperationException">The indices are not strictly ascending within the slots (a malformed
    /// VBuffer, <see cref="SparseIndices"/>): nothing is added.</exception>
    public override unsafe void Add(ReadOnlySpan<T> values, ReadOnlySpan<int> indices)
    {
        // A slot counted twice in a row would skew its statistics, and an index out of range must not reach the tags
        // unchecked: every index is checked before any sum changes. The row's tags are scattered over the whole table,
        // so the same pass asks the cache for all of them before the first is read.
        bool prefetch = Sse.IsSupported;
        int previous = -1;
        fixed (int* tags = _tags)
        {
            foreach (int j in indices)
            {
                if (!SparseIndices.Follows(previous, j, Slots))
                {
                    SparseIndices.Throw(previous, j, Slots, ColumnName);
                }

                if (prefetch)
                {
                    Sse.Prefetch0(tags + j);
                }

                previous = j;
            }
        }

        for (int i = 0; i < values.Length; i++)
        {
            AddValue(indices[i], values[i]);
        }

        _rowsInBatch++;
    }

    /// <summary>Adds a dense row (every slot explicit), in O(slots).</summary>
    public override void Add(ReadOnlySpan<T> row)
    {
        if (row.Length != Slots)
        {
            throw new ArgumentException($"Expected {Slots} values, got {row.Length}.", nameof(row));
        }

        for (int j = 0; j < row.Length; j++)
        {
            AddValue(j, row[j]);
        }

        _rowsInBatch++;
    }

    /// <summary>Adds an explicit value of slot <paramref name="j"/> (checked to be a slot): counted as explicit, and in the sums when finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddValue(int j, T value)
    {
        int tag = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_tags), j);
        ref var open = ref tag < 0 ? ref _pool[~tag] : ref Open(j, tag);
        int earlier = open.Explicit++; // the slot's explicit values in the batch's earlier rows
        if (!T.IsFinite(value))
        {
            return;
        }

        double x = double.CreateTruncating(value);
        if (open.Finite == 0)
        {
            // The dense path's shift, the batch's first finite value: this one, unless an earlier row left the slot an
            // implicit 0 (every earlier explicit value was NaN or infinite).
            open.Shift = earlier == _rowsInBatch ? x : 0;
        }

        double t = x - open.Shift;
        open.Sum += t;
        open.SumOfSquares += t * t;
        if ((++open.Finite & 7) == 0 && IsRecentrePoint(open.Finite))
        {
            Kernels.NormalizationKernels.Recentre(ref open.Shift, ref open.Sum, ref open.SumOfSquares, open.Finite);
        }
    }

    // Slot j's first value in the open batch: a pool entry of its own, which remembers the slot's folded batches. Most
    // non-zeros of a wide column are their slot's first in the batch, so this is inlined; growing the pool is not.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref OpenSlotSums Open(int j, int folded)
    {
        if (_pooled == _pool.Length)
        {
            GrowPool();
        }

        int place = _pooled++;
        _tags[j] = ~place;
        ref var open = ref _pool[place];
        open = new OpenSlotSums { Slot = j, Folded = folded };
        return ref open;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void GrowPool()
    {
        int capacity = (int)Math.Min(Slots, 2L * _pool.Length);
        FitMemory.Ensure(ColumnName, capacity, "touched slot", Unsafe.SizeOf<OpenSlotSums>(), "the sums of the slots the open batch touched");
        Array.Resize(ref _pool, capacity);
    }

    // 8, 64, 512, 4096, ...: the slot's finite explicit values at which its shift moves. Geometric throughout, unlike
    // BlockSchedule's every-512 after 512: in-place moves need no next-fold count.
    private static bool IsRecentrePoint(int finite) =>
        (finite & (finite - 1)) == 0 && BitOperations.TrailingZeroCount(finite) % 3 == 0;

    /// <summary>Closes the batch: every slot it touched folds the batches it missed, then this one, into its record.</summary>
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

        int batch = checked(_batchesClosed + 1);
        FoldPool(batch);
        _batchesClosed = batch;
        _rowsClosed += _rowsInBatch;
        _rowsInBatch = 0;
    }

    // Folds each pooled slot's batches since its last fold (implicit zeros throughout), then batch p, the one closing:
    // a loop the rule runs with its arithmetic inlined.
    private void FoldPool(int p)
    {
        var loop = new PoolFold(this, p);
        _statistics!.Run(ref loop);
        _pooled = 0;
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
        foreach (ref readonly var open in _pool.AsSpan(0, _pooled))
        {
            var (shift, meanOffset, v, n) = Statistics(in open, _rowsInBatch);
            int j = open.Slot;
            (mean[j], variance[j], count[j]) = (shift + meanOffset, v, n);
            _tags[j] = 0;
        }

        if (_rowsInBatch == 0)
        {
            mean.Fill(double.NaN);
            variance.Fill(double.NaN);
        }

        _pooled = 0;
        _rowsInBatch = 0;
    }

    /// <summary>
    /// After the last <see cref="EndBatch(ColumnStatistics)"/>: every slot folds the batches it missed since it was last
    /// touched (the values of a batch that was never closed are dropped), so the state holds the whole fit.
    /// </summary>
    public override void Complete(ColumnStatistics statistics)
    {
        foreach (ref readonly var open in _pool.AsSpan(0, _pooled))
        {
            _tags[open.Slot] = open.Folded; // a batch never closed: dropped
        }

        _pooled = 0;
        var loop = new CatchUpAll(this, statistics.State);
        statistics.Run(ref loop);
    }

    // The batch's statistics of the slot: its explicit finite values' moments (relative to their shift), joined by the
    // batch's implicit zeros in closed form (Chan's combination: nothing cancels, whatever the shift).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double Shift, double MeanOffset, double Variance, double Count) Statistics(in OpenSlotSums batch, long rowsInBatch)
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

    /// <summary>
    /// The batch-end fold (<see cref="FoldPool"/>): each pooled slot takes the batches it missed since its last fold, in
    /// closed form, then batch <paramref name="batch"/>; the records are asked for a few slots ahead.
    /// </summary>
    private readonly struct PoolFold(SparseBatchMoments<T> moments, int batch) : IUnitFoldLoop
    {
        public unsafe void Run<TFold>(in TFold fold)
            where TFold : struct, IUnitFold
        {
            var statistics = moments._statistics!;
            var records = statistics.State.Moments;
            var tags = moments._tags;
            var pool = moments._pool.AsSpan(0, moments._pooled);
            long rowsInBatch = moments._rowsInBatch;
            long fullBatchRows = moments._fullBatchRows;
            long before = batch - 1;
            long rowsBefore = before * fullBatchRows;
            bool prefetch = Sse.IsSupported;
            fixed (UnitMoments* first = records)
            {
                for (int i = 0; i < pool.Length; i++)
                {
                    if (prefetch && i + PrefetchDistance < pool.Length)
                    {
                        Sse.Prefetch0(first + pool[i + PrefetchDistance].Slot); // a whole record: FitState aligns them
                    }

                    ref readonly var open = ref pool[i];
                    int slot = open.Slot;
                    ref var unit = ref records[slot];
                    CatchUp(in fold, ref unit, open.Folded, before, rowsBefore, fullBatchRows);
                    var (shift, meanOffset, variance, n) = Statistics(in open, rowsInBatch);
                    statistics.Fold(in fold, slot, ref unit, shift, meanOffset, variance, n);
                    tags[slot] = batch;
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Complete"/>'s pass: every slot takes the batches it missed since it was last touched (its tag: its
    /// folded batches), in closed form, into <paramref name="state"/>'s records.
    /// </summary>
    private readonly struct CatchUpAll(SparseBatchMoments<T> moments, FitState state) : IUnitFoldLoop
    {
        public void Run<TFold>(in TFold fold)
            where TFold : struct, IUnitFold
        {
            var records = state.Moments;
            var tags = moments._tags;
            long batches = moments._batchesClosed;
            long rows = moments._rowsClosed;
            long fullBatchRows = moments._fullBatchRows;
            for (int j = 0; j < tags.Length; j++)
            {
                CatchUp(in fold, ref records[j], tags[j], batches, rows, fullBatchRows);
            }
        }
    }

    // Folds the batches after the slot's last fold (its folded batches) up to batch upTo, which ends at row upToRows: all
    // its values there were implicit zeros. Every batch before upTo is full, so the slot's folded rows are its folded
    // batches times the batch size.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CatchUp<TFold>(in TFold fold, ref UnitMoments unit, int folded, long upTo, long upToRows, long fullBatchRows)
        where TFold : struct, IUnitFold
    {
        long gap = upTo - folded;
        if (gap > 0)
        {
            fold.FoldZeroBatches(ref unit, gap, upToRows - (folded * fullBatchRows));
        }
    }
}
