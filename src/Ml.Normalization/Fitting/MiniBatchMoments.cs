using System.Numerics;
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
/// large common offset does not cancel the variance away, even when a slot's very first value is far from the rest (an
/// imputed 0 before values near 1e9). The batches are thereby independent of each other: a continued fit needs no
/// shift from the one before.
/// </remarks>
internal sealed class MiniBatchMoments<T> : MomentAccumulator<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly double[] _shift;
    private readonly double[] _sum;
    private readonly double[] _sumOfSquares;
    private readonly double[] _count;
    private double[]? _zeros;
    private bool _everySlotHasShift;
    private long _finiteRowsInBatch;

    public MiniBatchMoments(string columnName, int slots)
        : base(columnName, slots, slots)
    {
        _shift = new double[slots];
        _shift.AsSpan().Fill(double.NaN);
        _sum = new double[slots];
        _sumOfSquares = new double[slots];
        _count = new double[slots];
    }

    /// <summary>Adds one row of the current batch; NaN and infinities are left out of their slot's sums.</summary>
    public override void Add(ReadOnlySpan<T> row)
    {
        // Most rows are all finite once every slot has its shift: take the fast path and count the row once, instead of
        // masking every value.
        if (_everySlotHasShift && NormalizationKernels.AllFinite(row))
        {
            NormalizationKernels.AccumulateMoments<T>(row, _shift, _sum, _sumOfSquares);
            _finiteRowsInBatch++;
            return;
        }

        NormalizationKernels.AccumulateFiniteMoments(row, _shift, _sum, _sumOfSquares, _count);
        _everySlotHasShift = NormalizationKernels.AllFinite<double>(_shift);
    }

    /// <summary>
    /// Closes the current batch: writes its per-slot mean, biased variance and count of finite values (a slot without
    /// any gets NaN statistics and count 0), and restarts the sums.
    /// </summary>
    public override void EndBatch(Span<double> shift, Span<double> meanOffset, Span<double> variance, Span<double> count)
    {
        // The kernel adds the shift it is given to each mean: given zeros, it writes the offsets alone.
        _shift.CopyTo(shift);
        _zeros ??= new double[_shift.Length];
        NormalizationKernels.FiniteMomentsToBatchStatistics(_zeros, _sum, _sumOfSquares, _count, _finiteRowsInBatch, meanOffset, variance);
        _count.CopyTo(count);
        _finiteRowsInBatch = 0;

        _sum.AsSpan().Clear();
        _sumOfSquares.AsSpan().Clear();
        _count.AsSpan().Clear();
        _shift.AsSpan().Fill(double.NaN); // the next batch takes its own first values
        _everySlotHasShift = false;
    }
}
