using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// One block's part of <see cref="BatchMoments{T}"/>: the shifted sums of rows <paramref name="firstRow"/> ..
    /// <paramref name="endRow"/> - 1 of a row-major block x (F = <c>shift.Length</c> wide), in double, with
    /// <c>t = (double)x[i, j] - shift[j]</c>: <c>sum[j] = sum_i t</c>, <c>sumOfSquares[j] = sum_i t * t</c>.
    /// </summary>
    /// <remarks>
    /// <para><paramref name="shift"/> is the whole batch's row 0 widened (<see cref="Widen{T}"/>): with a value of the data
    /// as the shift, <c>sum_i t^2 &lt;= (n + 1) * sum_i (x - mean)^2</c>, so the variance's relative error is at most about
    /// n times that of the double sums, far below float's whatever the data.</para>
    /// <para>The grouping, which every vector width follows lane for lane (so no bit depends on the hardware): rows in
    /// fours from <paramref name="firstRow"/>, <c>sum[j] += (t0 + t1) + (t2 + t3)</c> and
    /// <c>sumOfSquares[j] = fma(t3, t3, fma(t2, t2, fma(t1, t1, fma(t0, t0, sumOfSquares[j]))))</c>, then the last rows
    /// (fewer than four) one at a time, <c>sum[j] += t</c>, <c>sumOfSquares[j] = fma(t, t, sumOfSquares[j])</c>. The walk
    /// is row-major, four rows at a time (four sequential streams the prefetchers follow); eight features at a time in
    /// 512-bit vectors where the hardware runs them, four in 256-bit ones, then one at a time
    /// (<see cref="ShiftedFourRowsScalar{T}"/>, the path the tests compare the others against). The caller checks the
    /// lengths.</para>
    /// </remarks>
    public static void ShiftedBlockSums<T>(ReadOnlySpan<T> x, int firstRow, int endRow, ReadOnlySpan<double> shift, Span<double> sum, Span<double> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        ShiftedBlockSums<T, NoPrefetch>(x, firstRow, endRow, shift, sum, sumOfSquares);

    /// <summary>
    /// <see cref="ShiftedBlockSums{T}"/> for a block streamed from memory: each group of four rows prefetches the lines
    /// a page ahead (<see cref="PrefetchPageAhead"/>). The same operations, so the same bits.
    /// </summary>
    public static void ShiftedBlockSumsPrefetching<T>(ReadOnlySpan<T> x, int firstRow, int endRow, ReadOnlySpan<double> shift, Span<double> sum, Span<double> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        ShiftedBlockSums<T, PrefetchPageAhead>(x, firstRow, endRow, shift, sum, sumOfSquares);

    private static void ShiftedBlockSums<T, TPrefetch>(ReadOnlySpan<T> x, int firstRow, int endRow, ReadOnlySpan<double> shift, Span<double> sum, Span<double> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TPrefetch : struct, IPrefetch
    {
        int features = shift.Length;
        sum.Clear();
        sumOfSquares.Clear();
        bool vectors = typeof(T) == typeof(float) || typeof(T) == typeof(double);
        bool use512 = vectors && Vector512.IsHardwareAccelerated && Avx512F.IsSupported;
        bool use256 = vectors && Avx.IsSupported && Fma.IsSupported;
        int row = firstRow;
        for (; row <= endRow - 4; row += 4)
        {
            PrefetchAhead<T, TPrefetch>(ref At(x), (nuint)row * (nuint)features, 4 * (nuint)features);
            int j = 0;
            if (use512)
            {
                for (; j <= features - 8; j += 8)
                {
                    ShiftedFourRows512(x, row, features, j, shift, sum, sumOfSquares);
                }
            }

            if (use256)
            {
                for (; j <= features - 4; j += 4)
                {
                    ShiftedFourRows256(x, row, features, j, shift, sum, sumOfSquares);
                }
            }

            for (; j < features; j++)
            {
                ShiftedFourRowsScalar(x, row, features, j, shift, sum, sumOfSquares);
            }
        }

        for (; row < endRow; row++)
        {
            for (int j = 0; j < features; j++)
            {
                double t = double.CreateTruncating(x[(row * features) + j]) - shift[j];
                sum[j] += t;
                sumOfSquares[j] = double.FusedMultiplyAdd(t, t, sumOfSquares[j]);
            }
        }
    }

    /// <summary>
    /// The mean and biased variance of a row-major <paramref name="rows"/> x F block from its blocks' shifted sums
    /// (<see cref="ShiftedBlockSums{T}"/>), added in block order in double: block b's sums start at <c>b * stride</c> in
    /// <paramref name="sums"/> and <paramref name="sumsOfSquares"/>. <c>mean = shift + S / n</c>,
    /// <c>variance = max(0, Q / n - (S / n)^2)</c>, each rounded to T once; NaN stays NaN.
    /// </summary>
    public static void FinishBlockMoments<T>(ReadOnlySpan<double> shift, int rows, ReadOnlySpan<double> sums, ReadOnlySpan<double> sumsOfSquares, int blocks, int stride, Span<T> mean, Span<T> variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double count = rows;
        for (int j = 0; j < mean.Length; j++)
        {
            double s = sums[j], q = sumsOfSquares[j];
            for (int b = 1; b < blocks; b++)
            {
                s += sums[(b * stride) + j];
                q += sumsOfSquares[(b * stride) + j];
            }

            double meanOffset = s / count;
            double v = (q / count) - (meanOffset * meanOffset);
            mean[j] = T.CreateTruncating(shift[j] + meanOffset);
            variance[j] = T.CreateTruncating(v < 0 ? 0 : v); // rounding can push a constant feature just below 0
        }
    }

    /// <summary>Feature <paramref name="j"/> of rows <paramref name="row"/> .. <paramref name="row"/> + 3, one step of
    /// <see cref="ShiftedBlockSums{T}"/> one value at a time: the operations the vector paths do lane for lane.</summary>
    internal static void ShiftedFourRowsScalar<T>(ReadOnlySpan<T> x, int row, int features, int j, ReadOnlySpan<double> shift, Span<double> sum, Span<double> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int at = (row * features) + j;
        double k = shift[j];
        double t0 = double.CreateTruncating(x[at]) - k, t1 = double.CreateTruncating(x[at + features]) - k;
        double t2 = double.CreateTruncating(x[at + (2 * features)]) - k, t3 = double.CreateTruncating(x[at + (3 * features)]) - k;
        sum[j] += (t0 + t1) + (t2 + t3);
        sumOfSquares[j] = double.FusedMultiplyAdd(t3, t3, double.FusedMultiplyAdd(t2, t2, double.FusedMultiplyAdd(t1, t1, double.FusedMultiplyAdd(t0, t0, sumOfSquares[j]))));
    }

    // Features j .. j + 7 of rows row .. row + 3.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ShiftedFourRows512<T>(ReadOnlySpan<T> x, int row, int features, int j, ReadOnlySpan<double> shift, Span<double> sum, Span<double> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint f = (nuint)features, at = ((nuint)row * f) + (nuint)j, column = (nuint)j;
        var k = Vector512.LoadUnsafe(ref At(shift), column);
        var t0 = Widen512(x, at) - k;
        var t1 = Widen512(x, at + f) - k;
        var t2 = Widen512(x, at + (2 * f)) - k;
        var t3 = Widen512(x, at + (3 * f)) - k;
        ref double sr = ref At(sum);
        ref double qr = ref At(sumOfSquares);
        (Vector512.LoadUnsafe(ref sr, column) + ((t0 + t1) + (t2 + t3))).StoreUnsafe(ref sr, column);
        var q = Vector512.FusedMultiplyAdd(t0, t0, Vector512.LoadUnsafe(ref qr, column));
        q = Vector512.FusedMultiplyAdd(t1, t1, q);
        q = Vector512.FusedMultiplyAdd(t2, t2, q);
        Vector512.FusedMultiplyAdd(t3, t3, q).StoreUnsafe(ref qr, column);
    }

    // Features j .. j + 3 of rows row .. row + 3: ShiftedFourRows512 at half width, written out again because
    // Vector256<T> and Vector512<T> share no interface a generic method could take in .NET 10 (ISimdVector is internal).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ShiftedFourRows256<T>(ReadOnlySpan<T> x, int row, int features, int j, ReadOnlySpan<double> shift, Span<double> sum, Span<double> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint f = (nuint)features, at = ((nuint)row * f) + (nuint)j, column = (nuint)j;
        var k = Vector256.LoadUnsafe(ref At(shift), column);
        var t0 = Widen256(x, at) - k;
        var t1 = Widen256(x, at + f) - k;
        var t2 = Widen256(x, at + (2 * f)) - k;
        var t3 = Widen256(x, at + (3 * f)) - k;
        ref double sr = ref At(sum);
        ref double qr = ref At(sumOfSquares);
        (Vector256.LoadUnsafe(ref sr, column) + ((t0 + t1) + (t2 + t3))).StoreUnsafe(ref sr, column);
        var q = Vector256.FusedMultiplyAdd(t0, t0, Vector256.LoadUnsafe(ref qr, column));
        q = Vector256.FusedMultiplyAdd(t1, t1, q);
        q = Vector256.FusedMultiplyAdd(t2, t2, q);
        Vector256.FusedMultiplyAdd(t3, t3, q).StoreUnsafe(ref qr, column);
    }
}
