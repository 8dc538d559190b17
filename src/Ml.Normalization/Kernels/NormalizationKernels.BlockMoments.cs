using System.Numerics;
using System.Numerics.Tensors;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// One block's part of <see cref="BatchMoments{T}"/>: the shifted sums of rows <paramref name="firstRow"/> ..
    /// <paramref name="endRow"/> - 1 of a row-major block x (all of it, F = <c>sum.Length</c> wide), shifted by row 0 as
    /// BatchMoments shifts: <c>sum[j] = sum_i (x[i, j] - x[0, j])</c>, <c>sumOfSquares[j] = sum_i (x[i, j] - x[0, j])^2</c>,
    /// row 0 itself left out (its terms are 0).
    /// </summary>
    /// <remarks>With one block of all the rows, <see cref="FinishBlockMoments{T}"/> gives BatchMoments' result bit for bit.
    /// The caller checks the lengths.</remarks>
    public static void ShiftedBlockSums<T>(ReadOnlySpan<T> x, int firstRow, int endRow, Span<T> sum, Span<T> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        sum.Clear();
        sumOfSquares.Clear();
        ReduceRows<T, ShiftedMomentsOperator<T>>(
            new ShiftedMomentsOperator<T>(ref At(x), ref At(sum), ref At(sumOfSquares)),
            Math.Max(firstRow, 1),
            endRow,
            sum.Length);
    }

    /// <summary>
    /// The mean and biased variance of a row-major <paramref name="rows"/> x F block from its blocks' shifted sums
    /// (<see cref="ShiftedBlockSums{T}"/>), added in block order: block b's sums start at <c>b * stride</c> in
    /// <paramref name="sums"/> and <paramref name="sumsOfSquares"/>.
    /// </summary>
    public static void FinishBlockMoments<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> sums, ReadOnlySpan<T> sumsOfSquares, int blocks, int stride, Span<T> mean, Span<T> variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        AddBlocks(sums, blocks, stride, mean);
        AddBlocks(sumsOfSquares, blocks, stride, variance);
        FinishMoments(x[..features], T.CreateTruncating(rows), mean, variance);
    }

    // total = block 0 + block 1 + ... in that order, element by element (so vector width changes no bit).
    private static void AddBlocks<T>(ReadOnlySpan<T> blockValues, int blocks, int stride, Span<T> total)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        blockValues[..total.Length].CopyTo(total);
        for (int b = 1; b < blocks; b++)
        {
            TensorPrimitives.Add(total, blockValues.Slice(b * stride, total.Length), total);
        }
    }
}
