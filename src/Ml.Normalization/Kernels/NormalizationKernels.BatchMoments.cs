using System.Buffers;
using System.Numerics;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// Per-feature mean and biased variance of a row-major <paramref name="rows"/> x F block.
    /// </summary>
    /// <remarks>
    /// Effectively computes <c>mean[j] = sum_i x[i, j] / rows</c> and
    /// <c>variance[j] = sum_i (x[i, j] - mean[j])^2 / rows</c>, with F = <c>mean.Length</c>, in one pass over the data:
    /// <see cref="ShiftedBlockSums{T}"/> over all the rows, then <see cref="FinishBlockMoments{T}"/> (one block, so the
    /// layer's blocked path gives the same bits on a batch of one block). The sums are double sums of
    /// <c>(double)x[i, j] - (double)x[0, j]</c>: shifting by a value of the data bounds the cancellation of
    /// <c>E[t^2] - E[t]^2</c> by the row count whatever the data (an outlier first row included), and double sums keep
    /// that far below the result's precision. NaN in a feature makes its mean and variance NaN; an infinity makes its mean
    /// that infinity and its variance NaN.
    /// </remarks>
    /// <exception cref="ArgumentException">Lengths do not agree: x must be rows x mean.Length, variance mean.Length.</exception>
    public static void BatchMoments<T>(ReadOnlySpan<T> x, int rows, Span<T> mean, Span<T> variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckMomentsArguments(x, rows, features, variance.Length);
        double[] scratch = ArrayPool<double>.Shared.Rent(3 * features);
        try
        {
            var shift = scratch.AsSpan(0, features);
            var sum = scratch.AsSpan(features, features);
            var sumOfSquares = scratch.AsSpan(2 * features, features);
            Widen(x[..features], shift);
            ShiftedBlockSums(x, 0, rows, shift, sum, sumOfSquares);
            FinishBlockMoments(shift, rows, sum, sumOfSquares, blocks: 1, stride: features, mean, variance);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(scratch);
        }
    }

    /// <summary>destination[j] = (double)values[j]: the shift of <see cref="ShiftedBlockSums{T}"/> from a block's row 0.</summary>
    public static void Widen<T>(ReadOnlySpan<T> values, Span<double> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(values.Length, destination.Length, nameof(destination));
        for (int j = 0; j < values.Length; j++)
        {
            destination[j] = double.CreateTruncating(values[j]);
        }
    }

    private static void CheckMomentsArguments<T>(ReadOnlySpan<T> x, int rows, int features, int varianceLength)
    {
        if (rows < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(rows), rows, "at least 1");
        }

        ThrowHelper.ThrowIfLengthDiffers(features, varianceLength, "variance");
        ThrowHelper.ThrowIfLengthDiffers(ThrowHelper.BlockLength(rows, features), x.Length, nameof(x));
    }
}
