using System.Numerics;
using System.Runtime.CompilerServices;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Fitting;

/// <summary>
/// Per slot, the mean, biased variance and count of the finite values of one mini-batch, from rows added one at a
/// time; memory O(slots), nothing allocated per row.
/// </summary>
/// <remarks>
/// Sums and counts are double for Single rows too (widened a vector at a time): deviations of ~1e18 (nanosecond
/// timestamps) square to ~1e36 and a few hundred of them overflow a float sum, and a float count stops at 2^24.
/// Counts stay exact to 2^53 rows.
/// Each slot's sums are taken of <c>x - shift</c>, the shift being the slot's first finite value in the batch, so a
/// large common offset does not cancel the variance away. The batches are thereby independent of each other: a
/// continued fit needs no shift from the one before. The rows are summed in blocks: after 8, 64 and 512 rows and every
/// 512 after, the block's sums are added to the batch's totals and the shift moves to each slot's mean so far
/// (<see cref="NormalizationKernels.FoldMoments"/>), so a first value far from the rest (one non-zero, then zeros; an
/// imputed 0 before values near 1e9) neither cancels the variance away nor rounds every later term at its own size:
/// within 1e-13 of a two-pass computation whatever the order (tested to 65,536 rows).
/// Rows of a narrow column that take the fast path are staged, up to <see cref="StagedRows"/> at a time, and summed
/// together (<see cref="NormalizationKernels.AccumulateMomentsOfRows"/>): the same operations in the same order per
/// slot as one row at a time, with each slot's sums kept in registers across the staged rows.
/// </remarks>
internal sealed class MiniBatchMoments<T> : MomentAccumulator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _shift;
    private readonly double[] _sum; // the open block's, then added to the totals
    private readonly double[] _sumOfSquares;
    private readonly double[] _totalSum;
    private readonly double[] _totalSumOfSquares;
    private readonly double[] _count;
    private readonly T[]? _staged; // rows waiting for AccumulateMomentsOfRows; null for wide columns
    private int _stagedRows;
    private double[]? _zeros;
    private bool _everySlotHasShift;
    private long _finiteRowsInBatch;
    private long _rowsInBatch;
    private long _nextFold = BlockSchedule.First;

    public MiniBatchMoments(string columnName, int slots)
        : base(columnName, slots, slots)
    {
        _shift = new double[slots];
        _shift.AsSpan().Fill(double.NaN);
        _sum = new double[slots];
        _sumOfSquares = new double[slots];
        _count = new double[slots];
        _totalSum = new double[slots];
        _totalSumOfSquares = new double[slots];
        if (slots > 0 && (long)slots * StagedRows * Unsafe.SizeOf<T>() <= LargestStage)
        {
            _staged = new T[slots * StagedRows];
        }
    }

    /// <summary>How many rows are summed together; the fold points (<see cref="BlockSchedule"/>) are multiples of it.</summary>
    internal const int StagedRows = 8;

    // Staging copies each row once more; past L2-sized stages the sums themselves no longer stay in cache between rows,
    // so wider columns are summed a row at a time.
    private const int LargestStage = 256 * 1024;

    /// <summary>Adds one row of the current batch; NaN and infinities are left out of their slot's sums.</summary>
    public override void Add(ReadOnlySpan<T> row)
    {
        // Most rows are all finite once every slot has its shift: take the fast path and count the row once, instead of
        // masking every value.
        if (_everySlotHasShift && (_staged is null ? NormalizationKernels.AllFinite(row) : NormalizationKernels.CopyIfFinite(row, _staged.AsSpan(_stagedRows * row.Length, row.Length))))
        {
            if (_staged is null)
            {
                NormalizationKernels.AccumulateMoments<T>(row, _shift, _sum, _sumOfSquares);
            }
            else if (++_stagedRows == StagedRows) // the row is staged: the sums wait for a full stage
            {
                SumStagedRows();
            }

            _finiteRowsInBatch++;
        }
        else
        {
            SumStagedRows(); // the rows before this one first: each slot sums its values in row order
            NormalizationKernels.AccumulateFiniteMoments(row, _shift, _sum, _sumOfSquares, _count);
            _everySlotHasShift = NormalizationKernels.AllFinite<double>(_shift);
        }

        if (++_rowsInBatch == _nextFold)
        {
            Fold();
            _nextFold = BlockSchedule.Next(_nextFold);
        }
    }

    /// <summary>
    /// Closes the current batch: writes its per-slot mean, biased variance and count of finite values (a slot without
    /// any gets NaN statistics and count 0), and restarts the sums.
    /// </summary>
    public override void EndBatch(Span<double> shift, Span<double> meanOffset, Span<double> variance, Span<double> count)
    {
        // The kernel adds the shift it is given to each mean: given zeros, it writes the offsets alone.
        Fold();
        _shift.CopyTo(shift);
        _zeros ??= new double[_shift.Length];
        NormalizationKernels.FiniteMomentsToBatchStatistics(_zeros, _totalSum, _totalSumOfSquares, _count, _finiteRowsInBatch, meanOffset, variance);
        _count.CopyTo(count);
        _finiteRowsInBatch = 0;
        _rowsInBatch = 0;
        _nextFold = BlockSchedule.First;

        _totalSum.AsSpan().Clear();
        _totalSumOfSquares.AsSpan().Clear();
        _count.AsSpan().Clear();
        _shift.AsSpan().Fill(double.NaN); // the next batch takes its own first values
        _everySlotHasShift = false;
    }

    private void Fold()
    {
        SumStagedRows();
        NormalizationKernels.FoldMoments(_shift, _sum, _sumOfSquares, _totalSum, _totalSumOfSquares, _count, _finiteRowsInBatch);
    }

    private void SumStagedRows()
    {
        if (_stagedRows > 0)
        {
            NormalizationKernels.AccumulateMomentsOfRows<T>(_staged.AsSpan(0, _stagedRows * Slots), Slots, _shift, _sum, _sumOfSquares);
            _stagedRows = 0;
        }
    }
}
