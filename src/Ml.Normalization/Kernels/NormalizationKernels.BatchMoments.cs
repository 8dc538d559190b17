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
    /// <paramref name="mean"/> and <paramref name="variance"/> are used as the accumulators.
    /// </remarks>
    /// <exception cref="ArgumentException">Lengths do not agree: x must be rows x mean.Length, variance mean.Length.</exception>
    public static void BatchMoments<T>(ReadOnlySpan<T> x, int rows, Span<T> mean, Span<T> variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckMomentsArguments(x, rows, features, variance.Length);

        ReadOnlySpan<T> shift = x[..features];
        mean.Clear();
        variance.Clear();
        for (int i = 1; i < rows; i++)
        {
            AccumulateShifted(x.Slice(i * features, features), shift, mean, variance);
        }

        FinishMoments(shift, T.CreateTruncating(rows), mean, variance);
    }

    /// <summary>Scalar reference of <see cref="BatchMoments{T}"/>, for tests.</summary>
    public static void BatchMomentsScalar<T>(ReadOnlySpan<T> x, int rows, Span<T> mean, Span<T> variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckMomentsArguments(x, rows, features, variance.Length);
        for (int j = 0; j < features; j++)
        {
            T shift = x[j], s1 = T.Zero, s2 = T.Zero;
            for (int i = 1; i < rows; i++)
            {
                T t = x[(i * features) + j] - shift;
                s1 += t;
                s2 += t * t;
            }

            mean[j] = s1;
            variance[j] = s2;
        }

        FinishMoments(x[..features], T.CreateTruncating(rows), mean, variance);
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

    private static void AccumulateShifted<T>(ReadOnlySpan<T> row, ReadOnlySpan<T> shift, Span<T> sum, Span<T> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var rv = MemoryMarshal.Cast<T, Vector<T>>(row);
            var kv = MemoryMarshal.Cast<T, Vector<T>>(shift);
            var sv = MemoryMarshal.Cast<T, Vector<T>>(sum);
            var qv = MemoryMarshal.Cast<T, Vector<T>>(sumOfSquares);
            for (int v = 0; v < rv.Length; v++)
            {
                var t = rv[v] - kv[v];
                sv[v] += t;
                qv[v] += t * t;
            }

            j = rv.Length * Vector<T>.Count;
        }

        for (; j < row.Length; j++)
        {
            T t = row[j] - shift[j];
            sum[j] += t;
            sumOfSquares[j] += t * t;
        }
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
