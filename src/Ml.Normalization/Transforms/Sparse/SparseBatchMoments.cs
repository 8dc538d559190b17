using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Transforms.Sparse;

/// <summary>
/// One column's per-slot mini-batch moments from sparse rows in O(non-zeros) per row, and the lazy fold of each batch
/// into the running statistics: a slot a batch never touches is brought up to date only when it is next touched, or at
/// <see cref="Complete"/>, in closed form. Memory O(slots), independent of the row count.
/// </summary>
/// <remarks>
/// <para>Per slot and batch the statistics are those of the dense path (<see cref="MiniBatchMoments{T}"/>): the mean and
/// biased variance of the slot's finite values, the implicit zeros of sparse rows included, NaN and infinities left out;
/// a slot counts in a batch when it has at least 2 finite values. An explicit entry (even an explicit 0) counts as a
/// value of its slot, an implicit slot counts as one finite 0.</para>
/// <para>Shift: as on the dense path, each slot's sums are of <c>x - shift</c>. The shift is the slot's value in the
/// fit's first row if that is finite, else 0 (the dense path would take the slot's first finite value in a later row
/// when the first row's is NaN or infinite; the choice changes only rounding). The implicit zeros of a batch add
/// <c>k * (0 - shift)</c> and <c>k * shift^2</c> to the sums at the batch's end, k their count, instead of k terms in row
/// order. When the shift is 0 (the first row leaves the slot implicit, the usual case for sparse data) the implicit zeros
/// add exact zeros, and the batch's sums are bit for bit the dense path's.</para>
/// <para>Untouched batches: a batch that holds no explicit entry of a slot has mean 0 and variance 0 there exactly (the
/// dense path computes the same up to ~1e-16 * shift^2 when the shift is not 0). With momentum m, g such batches fold in
/// as <c>running *= m^g</c> (one multiplication by <c>m^g</c> instead of g roundings: relative difference from the dense
/// fold at most about (g + 1) * 2^-53); without momentum, as <c>running *= t / (t + g)</c>, t the slot's counted batches.
/// </para>
/// </remarks>
internal sealed class SparseBatchMoments<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int PowerCacheSize = 1024;

    // One record per slot, so a touched slot costs one cache miss, not one per array (1M-slot arrays do not fit in cache).
    private readonly SlotState[] _slots;
    private readonly int[] _touched;
    private readonly double[] _powers;
    private int _touchedCount;
    private long _rowsInBatch;
    private bool _seenFirstRow;
    private long _batchesFolded;
    private long _rowsFolded;
    private double[]? _shiftCopy;

    /// <summary>Moments of <paramref name="slots"/> slots, folding with <paramref name="momentum"/> (null: no momentum or whole-data).</summary>
    /// <param name="slots">The column's slot count.</param>
    /// <param name="momentum">The running statistics' momentum, for the closed-form folds.</param>
    /// <param name="shift">A continued fit's shifts (NaN: none, taken as 0); null or all NaN (a fresh fit): the first row's values.</param>
    public SparseBatchMoments(int slots, double? momentum, double[]? shift = null)
    {
        _slots = new SlotState[slots];
        _touched = new int[slots];
        if (shift is not null && Array.Exists(shift, v => !double.IsNaN(v)))
        {
            for (int j = 0; j < slots; j++)
            {
                _slots[j].Shift = double.IsNaN(shift[j]) ? 0 : shift[j];
            }

            _seenFirstRow = true; // the shifts are the previous fit's, not this fit's first row's
        }

        _powers = new double[PowerCacheSize];
        if (momentum is double m)
        {
            _powers[0] = 1;
            for (int g = 1; g < PowerCacheSize; g++)
            {
                _powers[g] = Math.Pow(m, g);
            }
        }
    }

    public int Slots => _slots.Length;

    /// <summary>Each slot's shift (0 where the first row left it implicit), for the fit's state.</summary>
    public ReadOnlySpan<double> Shift
    {
        get
        {
            _shiftCopy ??= new double[_slots.Length];
            for (int j = 0; j < _slots.Length; j++)
            {
                _shiftCopy[j] = _slots[j].Shift;
            }

            return _shiftCopy;
        }
    }

    /// <summary>Adds a sparse row: <paramref name="values"/> at <paramref name="indices"/> (ascending), every other slot 0.</summary>
    public void Add(ReadOnlySpan<T> values, ReadOnlySpan<int> indices)
    {
        bool first = !_seenFirstRow;
        _seenFirstRow = true;
        for (int i = 0; i < values.Length; i++)
        {
            AddValue(indices[i], values[i], first);
        }

        _rowsInBatch++;
    }

    /// <summary>Adds a dense row (every slot explicit), in O(slots).</summary>
    public void Add(ReadOnlySpan<T> row)
    {
        if (row.Length != _slots.Length)
        {
            throw new ArgumentException($"Expected {_slots.Length} values, got {row.Length}.", nameof(row));
        }

        bool first = !_seenFirstRow;
        _seenFirstRow = true;
        for (int j = 0; j < row.Length; j++)
        {
            AddValue(j, row[j], first);
        }

        _rowsInBatch++;
    }

    /// <summary>Adds an explicit value of slot <paramref name="j"/>: counted as explicit, and in the sums when finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddValue(int j, T value, bool firstRow)
    {
        ref var slot = ref _slots[j];
        if (slot.Explicit++ == 0)
        {
            _touched[_touchedCount++] = j;
        }

        if (!T.IsFinite(value))
        {
            return;
        }

        double x = double.CreateTruncating(value);
        if (firstRow)
        {
            slot.Shift = x;
        }

        double t = x - slot.Shift;
        slot.Sum += t;
        slot.SumOfSquares += t * t;
        slot.Finite++;
    }

    /// <summary>
    /// Closes the batch and folds it into <paramref name="statistics"/> in O(slots touched): the touched slots catch up on
    /// the untouched batches they missed, then take this batch's statistics.
    /// </summary>
    public void EndBatch(RunningStatistics statistics)
    {
        long batch = ++_batchesFolded; // this batch's number, from 1
        long rowsBefore = _rowsFolded;
        _rowsFolded += _rowsInBatch;
        for (int i = 0; i < _touchedCount; i++)
        {
            int j = _touched[i];
            CatchUp(statistics, j, batch - 1, rowsBefore);
            var (mean, variance, n) = SlotStatistics(j);
            statistics.FoldSlot(j, mean, variance, n);
            _slots[j].Folded = batch;
            _slots[j].FoldedRows = _rowsFolded;
            Clear(j);
        }

        _touchedCount = 0;
        _rowsInBatch = 0;
    }

    /// <summary>
    /// Closes the batch and writes every slot's statistics into the dense arrays (O(slots)), for callers that read whole
    /// batches (the training pass); the running statistics are not involved.
    /// </summary>
    public void EndBatch(Span<double> mean, Span<double> variance, Span<double> count)
    {
        mean.Clear();
        variance.Clear();
        count.Fill(_rowsInBatch);
        for (int i = 0; i < _touchedCount; i++)
        {
            int j = _touched[i];
            (mean[j], variance[j], count[j]) = SlotStatistics(j);
            Clear(j);
        }

        if (_rowsInBatch == 0)
        {
            mean.Fill(double.NaN);
            variance.Fill(double.NaN);
        }

        _touchedCount = 0;
        _rowsInBatch = 0;
    }

    /// <summary>Brings every slot up to the last folded batch; call once, after the last <see cref="EndBatch(RunningStatistics)"/>.</summary>
    public void Complete(RunningStatistics statistics)
    {
        for (int j = 0; j < _slots.Length; j++)
        {
            CatchUp(statistics, j, _batchesFolded, _rowsFolded);
        }
    }

    // Folds the batches (and their rows) after the slot's last fold up to batch upTo, which ends at row upToRows: all its
    // values there were implicit zeros.
    private void CatchUp(RunningStatistics statistics, int j, long upTo, long upToRows)
    {
        long gap = upTo - _slots[j].Folded;
        if (gap > 0)
        {
            statistics.FoldZeroBatches(j, gap, upToRows - _slots[j].FoldedRows, gap < PowerCacheSize ? _powers[gap] : double.NaN);
            _slots[j].Folded = upTo;
            _slots[j].FoldedRows = upToRows;
        }
    }

    private (double Mean, double Variance, double Count) SlotStatistics(int j)
    {
        ref var slot = ref _slots[j];
        double shift = slot.Shift;
        long implicitZeros = _rowsInBatch - slot.Explicit;
        double sum = slot.Sum, sumOfSquares = slot.SumOfSquares;
        if (implicitZeros > 0 && shift != 0)
        {
            sum -= implicitZeros * shift;
            sumOfSquares += implicitZeros * (shift * shift);
        }

        double n = slot.Finite + implicitZeros;
        double meanOffset = sum / n;
        double v = (sumOfSquares / n) - (meanOffset * meanOffset);
        return (shift + meanOffset, v < 0 ? 0 : v, n);
    }

    private void Clear(int j)
    {
        ref var slot = ref _slots[j];
        slot.Sum = 0;
        slot.SumOfSquares = 0;
        slot.Finite = 0;
        slot.Explicit = 0;
    }

    private struct SlotState
    {
        public double Shift;
        public double Sum;
        public double SumOfSquares;
        public double Finite;
        public long Folded;
        public long FoldedRows;
        public int Explicit;
    }
}
