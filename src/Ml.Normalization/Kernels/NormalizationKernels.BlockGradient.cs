using System.Numerics;
using System.Numerics.Tensors;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// One block's part of <see cref="BatchNormBackward{T}"/>'s sums: <c>dBeta[j] = sum_i dy[i, j]</c> and
    /// <c>dGamma[j] = sum_i dy[i, j] * xHat[i, j]</c> over rows <paramref name="firstRow"/> .. <paramref name="endRow"/> - 1
    /// of the whole row-major dy and xHat (F = <c>dGamma.Length</c> wide). With one block of all the rows, the sums are
    /// BatchNormBackward's bit for bit. The caller checks the lengths.
    /// </summary>
    public static void GradientBlockSums<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat, int firstRow, int endRow, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GradientBlockSums<T, KeptXHat, NoPrefetch>(dy, xHat, firstRow, endRow, [], [], dGamma, dBeta);

    /// <summary>
    /// <see cref="GradientBlockSums{T}"/> for blocks streamed from memory: each group of four rows prefetches dy's and
    /// xHat's lines a page ahead (<see cref="PrefetchPageAhead"/>). The same operations, so the same sums.
    /// </summary>
    public static void GradientBlockSumsPrefetching<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat, int firstRow, int endRow, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GradientBlockSums<T, KeptXHat, PrefetchPageAhead>(dy, xHat, firstRow, endRow, [], [], dGamma, dBeta);

    /// <summary>
    /// <see cref="GradientBlockSums{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, int, int, Span{T}, Span{T})"/> with xHat
    /// recomputed from the forward pass's input x, as <see cref="BatchNormBackwardFromInput{T}"/> does.
    /// </summary>
    public static void GradientBlockSumsFromInput<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int firstRow, int endRow, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GradientBlockSums<T, RecomputedXHat, NoPrefetch>(dy, x, firstRow, endRow, mean, inverseStd, dGamma, dBeta);

    /// <summary><see cref="GradientBlockSumsFromInput{T}"/> prefetching dy's and x's lines a page ahead: the same sums.</summary>
    public static void GradientBlockSumsFromInputPrefetching<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int firstRow, int endRow, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GradientBlockSums<T, RecomputedXHat, PrefetchPageAhead>(dy, x, firstRow, endRow, mean, inverseStd, dGamma, dBeta);

    /// <summary>
    /// The coefficients of the dx pass from the blocks' sums (<see cref="GradientBlockSums{T}"/>), added in block order
    /// into <paramref name="dGamma"/> and <paramref name="dBeta"/> (block b's at <c>b * stride</c>):
    /// <c>a = gamma * inverseStd</c>, <c>b = -a * dBeta / rows</c>, <c>c = -a * dGamma / rows</c>, as BatchNormBackward
    /// computes them.
    /// </summary>
    public static void FinishGradientSums<T>(ReadOnlySpan<T> dGammaBlocks, ReadOnlySpan<T> dBetaBlocks, int blocks, int stride, int rows, ReadOnlySpan<T> gamma, ReadOnlySpan<T> inverseStd, Span<T> dGamma, Span<T> dBeta, Span<T> a, Span<T> b, Span<T> c)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        AddBlocks(dGammaBlocks, blocks, stride, dGamma);
        AddBlocks(dBetaBlocks, blocks, stride, dBeta);
        T n = T.CreateTruncating(rows);
        for (int j = 0; j < gamma.Length; j++)
        {
            a[j] = gamma[j] * inverseStd[j];
            b[j] = -a[j] * dBeta[j] / n;
            c[j] = -a[j] * dGamma[j] / n;
        }
    }

    /// <summary>
    /// The dx pass of <see cref="BatchNormBackward{T}"/> over <paramref name="rows"/> rows (any slice of whole rows):
    /// <c>dx = a * dy + c * xHat + b</c>. Element-wise, so slicing changes no bit. dx may be dy.
    /// </summary>
    public static void GradientRows<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat, int rows, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GradientRows<T, KeptXHat>(dy, xHat, rows, [], [], a, b, c, dx);

    /// <summary>The dx pass with xHat recomputed from x, as <see cref="BatchNormBackwardFromInput{T}"/> does.</summary>
    public static void GradientRowsFromInput<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GradientRows<T, RecomputedXHat>(dy, x, rows, mean, inverseStd, a, b, c, dx);

    /// <summary>
    /// The dx pass of <see cref="GradientRows{T}"/> walked in memory order (<see cref="MapInOrder{T, TOperator}"/>), for
    /// blocks streamed from memory: the same operations, so the same bits, as the row walk. dx may be dy.
    /// </summary>
    public static void GradientRowsInOrder<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat, int rows, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GradientRowsInOrder<T, KeptXHat>(dy, xHat, rows, [], [], a, b, c, dx);

    /// <summary>The dx pass with xHat recomputed from x (<see cref="GradientRowsFromInput{T}"/>), walked in memory order: the same bits.</summary>
    public static void GradientRowsFromInputInOrder<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        GradientRowsInOrder<T, RecomputedXHat>(dy, x, rows, mean, inverseStd, a, b, c, dx);

    private static void GradientBlockSums<T, TXHat, TPrefetch>(ReadOnlySpan<T> dy, ReadOnlySpan<T> source, int firstRow, int endRow, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
        where TPrefetch : struct, IPrefetch
    {
        dGamma.Clear();
        dBeta.Clear();
        ReduceRows<T, GradientSumsOperator<T, TXHat, TPrefetch>>(
            new GradientSumsOperator<T, TXHat, TPrefetch>(ref At(dy), new(ref At(source), ref At(mean), ref At(inverseStd)), ref At(dGamma), ref At(dBeta)),
            firstRow,
            endRow,
            dGamma.Length);
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
