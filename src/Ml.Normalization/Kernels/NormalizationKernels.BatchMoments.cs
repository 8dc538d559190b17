using System.Numerics;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// Per-feature mean and biased variance of a row-major <paramref name="rows"/> x F block.
    /// </summary>
    /// <remarks>
    /// Effectively computes <c>mean[j] = sum_i x[i, j] / rows</c> and
    /// <c>variance[j] = sum_i (x[i, j] - mean[j])^2 / rows</c>, with F = <c>mean.Length</c>.
    /// The sums are taken of <c>x[i, j] - x[0, j]</c> (the shifted-data algorithm), so a large common offset
    /// (x = 1e4 + noise) does not cancel the variance away, in a single pass over the data.
    /// NaN or infinity in a feature makes that feature's mean and variance NaN.
    /// </remarks>
    /// <exception cref="ArgumentException">Lengths do not agree: x must be rows x mean.Length, variance mean.Length.</exception>
    public static void BatchMoments<T>(ReadOnlySpan<T> x, int rows, Span<T> mean, Span<T> variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckMomentsArguments(x, rows, features, variance.Length);
        ref T x0 = ref MemoryMarshal.GetReference(x);
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            // Walk down a strip of four vectors of columns (two cache lines of floats) at a time with the sums in
            // registers: no load or store of an accumulator per row, which is what bounds a row-by-row loop.
            int width = Vector<T>.Count;
            for (; j <= features - (4 * width); j += 4 * width)
            {
                var k0 = Vector.LoadUnsafe(ref x0, (nuint)j);
                var k1 = Vector.LoadUnsafe(ref x0, (nuint)(j + width));
                var k2 = Vector.LoadUnsafe(ref x0, (nuint)(j + (2 * width)));
                var k3 = Vector.LoadUnsafe(ref x0, (nuint)(j + (3 * width)));
                Vector<T> s0 = default, s1 = default, s2 = default, s3 = default, q0 = default, q1 = default, q2 = default, q3 = default;
                nuint offset = (nuint)(features + j);
                for (int i = 1; i < rows; i++, offset += (nuint)features)
                {
                    var t0 = Vector.LoadUnsafe(ref x0, offset) - k0;
                    var t1 = Vector.LoadUnsafe(ref x0, offset + (nuint)width) - k1;
                    var t2 = Vector.LoadUnsafe(ref x0, offset + (nuint)(2 * width)) - k2;
                    var t3 = Vector.LoadUnsafe(ref x0, offset + (nuint)(3 * width)) - k3;
                    s0 += t0;
                    s1 += t1;
                    s2 += t2;
                    s3 += t3;
                    q0 += t0 * t0;
                    q1 += t1 * t1;
                    q2 += t2 * t2;
                    q3 += t3 * t3;
                }

                ref T m = ref MemoryMarshal.GetReference(mean);
                ref T v = ref MemoryMarshal.GetReference(variance);
                s0.StoreUnsafe(ref m, (nuint)j);
                s1.StoreUnsafe(ref m, (nuint)(j + width));
                s2.StoreUnsafe(ref m, (nuint)(j + (2 * width)));
                s3.StoreUnsafe(ref m, (nuint)(j + (3 * width)));
                q0.StoreUnsafe(ref v, (nuint)j);
                q1.StoreUnsafe(ref v, (nuint)(j + width));
                q2.StoreUnsafe(ref v, (nuint)(j + (2 * width)));
                q3.StoreUnsafe(ref v, (nuint)(j + (3 * width)));
            }

            for (; j <= features - width; j += width)
            {
                var shift = Vector.LoadUnsafe(ref x0, (nuint)j);
                Vector<T> sum = Vector<T>.Zero, sumOfSquares = Vector<T>.Zero;
                nuint offset = (nuint)(features + j);
                for (int i = 1; i < rows; i++, offset += (nuint)features)
                {
                    var t = Vector.LoadUnsafe(ref x0, offset) - shift;
                    sum += t;
                    sumOfSquares += t * t;
                }

                sum.StoreUnsafe(ref MemoryMarshal.GetReference(mean), (nuint)j);
                sumOfSquares.StoreUnsafe(ref MemoryMarshal.GetReference(variance), (nuint)j);
            }
        }

        for (; j < features; j++)
        {
            ShiftedColumnSums(x, rows, features, j, out mean[j], out variance[j]);
        }

        FinishMoments(x[..features], T.CreateTruncating(rows), mean, variance);
    }

    /// <summary>Scalar reference of <see cref="BatchMoments{T}"/>, for tests.</summary>
    public static void BatchMomentsScalar<T>(ReadOnlySpan<T> x, int rows, Span<T> mean, Span<T> variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckMomentsArguments(x, rows, features, variance.Length);
        for (int j = 0; j < features; j++)
        {
            ShiftedColumnSums(x, rows, features, j, out mean[j], out variance[j]);
        }

        FinishMoments(x[..features], T.CreateTruncating(rows), mean, variance);
    }

    private static void ShiftedColumnSums<T>(ReadOnlySpan<T> x, int rows, int features, int j, out T sum, out T sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T shift = x[j];
        sum = T.Zero;
        sumOfSquares = T.Zero;
        for (int i = 1; i < rows; i++)
        {
            T t = x[(i * features) + j] - shift;
            sum += t;
            sumOfSquares += t * t;
        }
    }

    private static void CheckMomentsArguments<T>(ReadOnlySpan<T> x, int rows, int features, int varianceLength)
    {
        if (rows < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(rows), rows, "at least 1");
        }

        ThrowHelper.ThrowIfLengthDiffers(features, varianceLength, "variance");
        ThrowHelper.ThrowIfLengthDiffers(rows * features, x.Length, nameof(x));
    }

    // sum and sumOfSquares hold the shifted sums on entry, the mean and the biased variance on exit.
    private static void FinishMoments<T>(ReadOnlySpan<T> shift, T count, Span<T> sum, Span<T> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < sum.Length; j++)
        {
            T meanOffset = sum[j] / count;
            T variance = (sumOfSquares[j] / count) - (meanOffset * meanOffset);
            sum[j] = shift[j] + meanOffset;
            sumOfSquares[j] = variance < T.Zero ? T.Zero : variance; // rounding can push a constant feature just below 0
        }
    }
}
