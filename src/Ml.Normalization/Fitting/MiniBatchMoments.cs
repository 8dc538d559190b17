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
/// Once every slot has its shift, rows of a narrow column are held, up to <see cref="HeldRows"/> at a time, and summed
/// together (<see cref="NormalizationKernels.TryAccumulateMomentsOfRows"/>): the same operations in the same order per
/// slot as one row at a time, with each slot's sums kept in registers across the held rows. A reader can write a row
/// straight into the buffer it will be held in (<see cref="FreeRowBuffer"/>, <see cref="AddHeldRow"/>), so the row is
/// neither copied nor checked for NaN on its own; held rows of which one is not finite are taken again one at a time,
/// as they would have been without holding.
/// </remarks>
internal sealed class MiniBatchMoments<T> : MomentAccumulator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _shift;
    private double[] _sum; // the open block's, then added to the totals
    private double[] _sumOfSquares;
    private double[] _nextSum; // where the held rows' sums go, swapped with _sum when they were all finite
    private double[] _nextSumOfSquares;
    private readonly double[] _totalSum;
    private readonly double[] _totalSumOfSquares;
    private readonly double[] _count;
    private readonly T[][]? _held; // rows waiting for TryAccumulateMomentsOfRows, each its own array; null for wide columns
    private int _heldRows;
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
        if (slots > 0 && (long)slots * HeldRows * Unsafe.SizeOf<T>() <= LargestHold)
        {
            _held = new T[HeldRows][];
            for (int r = 0; r < HeldRows; r++)
            {
                _held[r] = new T[slots];
            }
        }

        _nextSum = _held is null ? [] : new double[slots];
        _nextSumOfSquares = _held is null ? [] : new double[slots];
    }

    /// <summary>How many rows are summed together; the fold points (<see cref="BlockSchedule"/>) are multiples of it.</summary>
    internal const int HeldRows = 8;

    // Past L2-sized holds the sums themselves no longer stay in cache between rows, so wider columns are summed a row at
    // a time.
    private const int LargestHold = 256 * 1024;

    /// <summary>
    /// The buffer the next row may be written to and then added with <see cref="AddHeldRow"/> (<c>Slots</c> long), or
    /// null when the next row must go through <see cref="Add(ReadOnlySpan{T})"/> (a wide column, or a slot still without
    /// a finite value in the batch). Valid until the next call of any other member.
    /// </summary>
    public T[]? FreeRowBuffer => _everySlotHasShift && _held is not null ? _held[_heldRows] : null;

    /// <summary>Adds the row written to <see cref="FreeRowBuffer"/> (any values: NaN and infinities are left out as by <see cref="Add(ReadOnlySpan{T})"/>).</summary>
    /// <exception cref="InvalidOperationException">There is no free row buffer.</exception>
    public void AddHeldRow()
    {
        if (FreeRowBuffer is null)
        {
            throw new InvalidOperationException("No row buffer is free: add the row with Add.");
        }

        Hold();
    }

    /// <summary>Adds one row of the current batch; NaN and infinities are left out of their slot's sums.</summary>
    public override void Add(ReadOnlySpan<T> row)
    {
        if (FreeRowBuffer is { } free)
        {
            row.CopyTo(free);
            Hold();
            return;
        }

        // Most rows are all finite once every slot has its shift: take the fast path and count the row once, instead of
        // masking every value.
        if (_everySlotHasShift && NormalizationKernels.AllFinite(row))
        {
            NormalizationKernels.AccumulateMoments<T>(row, _shift, _sum, _sumOfSquares);
            _finiteRowsInBatch++;
        }
        else
        {
            NormalizationKernels.AccumulateFiniteMoments(row, _shift, _sum, _sumOfSquares, _count);
            _everySlotHasShift = NormalizationKernels.AllFinite<double>(_shift);
        }

        EndRow();
    }

    // The row in _held[_heldRows] joins the held rows; a full hold is summed.
    private void Hold()
    {
        if (++_heldRows == HeldRows)
        {
            SumHeldRows();
        }

        EndRow();
    }

    private void EndRow()
    {
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
        SumHeldRows();
        NormalizationKernels.FoldMoments(_shift, _sum, _sumOfSquares, _totalSum, _totalSumOfSquares, _count, _finiteRowsInBatch);
    }

    // Every held row was added while every slot had its shift, so each is one AccumulateMoments (finite) or one
    // AccumulateFiniteMoments (not), in row order; all finite, the kernel does the former for all of them at once.
    private void SumHeldRows()
    {
        if (_heldRows == 0)
        {
            return;
        }

        var rows = _held.AsSpan(0, _heldRows);
        if (NormalizationKernels.TryAccumulateMomentsOfRows<T>(rows, _shift, _sum, _sumOfSquares, _nextSum, _nextSumOfSquares))
        {
            (_sum, _nextSum) = (_nextSum, _sum);
            (_sumOfSquares, _nextSumOfSquares) = (_nextSumOfSquares, _sumOfSquares);
            _finiteRowsInBatch += _heldRows;
        }
        else
        {
            foreach (var row in rows)
            {
                if (NormalizationKernels.AllFinite<T>(row))
                {
                    NormalizationKernels.AccumulateMoments<T>(row, _shift, _sum, _sumOfSquares);
                    _finiteRowsInBatch++;
                }
                else
                {
                    NormalizationKernels.AccumulateFiniteMoments<T>(row, _shift, _sum, _sumOfSquares, _count);
                }
            }
        }

        _heldRows = 0;
    }
}
