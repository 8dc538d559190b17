using System.Numerics;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Transforms;

/// <summary>
/// Per slot, the mean, biased variance and count of the finite values of one mini-batch, from rows added one at a
/// time; memory O(slots), nothing allocated per row.
/// </summary>
/// <remarks>
/// Each slot's sums are taken of <c>x - shift</c>, the shift being the first finite value the slot ever saw (kept
/// across batches), so a large common offset does not cancel the variance away.
/// </remarks>
internal sealed class MiniBatchMoments<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _shift;
    private readonly T[] _sum;
    private readonly T[] _sumOfSquares;
    private readonly T[] _count;
    private bool _everySlotHasShift;
    private long _finiteRowsInBatch;

    public MiniBatchMoments(int slots)
    {
        _shift = new T[slots];
        _shift.AsSpan().Fill(T.NaN);
        _sum = new T[slots];
        _sumOfSquares = new T[slots];
        _count = new T[slots];
    }

    /// <summary>Adds one row of the current batch; NaN and infinities are left out of their slot's sums.</summary>
    public void Add(ReadOnlySpan<T> row)
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
        _everySlotHasShift = NormalizationKernels.AllFinite<T>(_shift);
    }

    /// <summary>
    /// Closes the current batch: writes its per-slot mean, biased variance and count of finite values (a slot without
    /// any gets NaN statistics and count 0), and restarts the sums.
    /// </summary>
    public void EndBatch(Span<double> mean, Span<double> variance, Span<double> count)
    {
        System.Numerics.Tensors.TensorPrimitives.Add(_count, T.CreateTruncating(_finiteRowsInBatch), _count);
        _finiteRowsInBatch = 0;
        NormalizationKernels.FiniteMomentsToBatchStatistics<T>(_shift, _sum, _sumOfSquares, _count, mean, variance);
        for (int j = 0; j < _count.Length; j++)
        {
            count[j] = double.CreateTruncating(_count[j]);
        }

        _sum.AsSpan().Clear();
        _sumOfSquares.AsSpan().Clear();
        _count.AsSpan().Clear();
    }
}
