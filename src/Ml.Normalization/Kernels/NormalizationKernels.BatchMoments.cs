using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        mean.Clear();
        variance.Clear();
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T sr = ref MemoryMarshal.GetReference(mean);
        ref T qr = ref MemoryMarshal.GetReference(variance);
        int vectorEnd = Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? features - (features % Vector<T>.Count) : 0;
        nuint f = (nuint)features;
        int i = 1;

        // Rows in order, four at a time: the sums are loaded and stored once per four rows rather than per row, and x
        // streams through in memory order (measured faster than walking strips of columns down the rows). 512-bit
        // vectors where the hardware runs them at full speed: measured 0.74x a copy against 0.90x with 256 bits.
        // Either way each element sees the same operations in the same order, so the result does not depend on the
        // vector width.
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && features >= Vector512<T>.Count)
        {
            int wideEnd = features - (features % Vector512<T>.Count);
            for (; i <= rows - 4; i += 4)
            {
                nuint row = (nuint)(i * features);
                for (int j = 0; j < wideEnd; j += Vector512<T>.Count)
                {
                    var shift = Vector512.LoadUnsafe(ref xr, (nuint)j);
                    nuint k = row + (nuint)j;
                    var t0 = Vector512.LoadUnsafe(ref xr, k) - shift;
                    var t1 = Vector512.LoadUnsafe(ref xr, k + f) - shift;
                    var t2 = Vector512.LoadUnsafe(ref xr, k + (2 * f)) - shift;
                    var t3 = Vector512.LoadUnsafe(ref xr, k + (3 * f)) - shift;
                    (Vector512.LoadUnsafe(ref sr, (nuint)j) + ((t0 + t1) + (t2 + t3))).StoreUnsafe(ref sr, (nuint)j);
                    var q = FusedMultiplyAdd(t0, t0, Vector512.LoadUnsafe(ref qr, (nuint)j));
                    q = FusedMultiplyAdd(t1, t1, q);
                    q = FusedMultiplyAdd(t2, t2, q);
                    FusedMultiplyAdd(t3, t3, q).StoreUnsafe(ref qr, (nuint)j);
                }

                AccumulateShiftedFourRows(x, i, wideEnd, features, mean, variance);
            }
        }

        for (; i <= rows - 4; i += 4)
        {
            nuint row = (nuint)(i * features);
            for (int j = 0; j < vectorEnd; j += Vector<T>.Count)
            {
                var shift = Vector.LoadUnsafe(ref xr, (nuint)j);
                nuint k = row + (nuint)j;
                var t0 = Vector.LoadUnsafe(ref xr, k) - shift;
                var t1 = Vector.LoadUnsafe(ref xr, k + f) - shift;
                var t2 = Vector.LoadUnsafe(ref xr, k + (2 * f)) - shift;
                var t3 = Vector.LoadUnsafe(ref xr, k + (3 * f)) - shift;
                (Vector.LoadUnsafe(ref sr, (nuint)j) + ((t0 + t1) + (t2 + t3))).StoreUnsafe(ref sr, (nuint)j);
                var q = FusedMultiplyAdd(t0, t0, Vector.LoadUnsafe(ref qr, (nuint)j));
                q = FusedMultiplyAdd(t1, t1, q);
                q = FusedMultiplyAdd(t2, t2, q);
                FusedMultiplyAdd(t3, t3, q).StoreUnsafe(ref qr, (nuint)j);
            }

            AccumulateShiftedFourRows(x, i, vectorEnd, features, mean, variance);
        }

        for (; i < rows; i++)
        {
            AccumulateShiftedRow(x, i, 0, features, mean, variance);
        }

        FinishMoments(x[..features], T.CreateTruncating(rows), mean, variance);
    }

    /// <summary>Scalar reference of <see cref="BatchMoments{T}"/> (the same operations in the same order), for tests.</summary>
    public static void BatchMomentsScalar<T>(ReadOnlySpan<T> x, int rows, Span<T> mean, Span<T> variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckMomentsArguments(x, rows, features, variance.Length);
        mean.Clear();
        variance.Clear();
        int i = 1;
        for (; i <= rows - 4; i += 4)
        {
            AccumulateShiftedFourRows(x, i, 0, features, mean, variance);
        }

        for (; i < rows; i++)
        {
            AccumulateShiftedRow(x, i, 0, features, mean, variance);
        }

        FinishMoments(x[..features], T.CreateTruncating(rows), mean, variance);
    }

    // Rows i .. i + 3, columns from .. features - 1, summed as the vector path does (the squares by fused multiply-adds,
    // one rounding each: measured 10-15% faster than multiply then add, and no less accurate).
    private static void AccumulateShiftedFourRows<T>(ReadOnlySpan<T> x, int i, int from, int features, Span<T> sum, Span<T> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = from; j < features; j++)
        {
            T shift = x[j];
            T t0 = x[(i * features) + j] - shift, t1 = x[((i + 1) * features) + j] - shift;
            T t2 = x[((i + 2) * features) + j] - shift, t3 = x[((i + 3) * features) + j] - shift;
            sum[j] += (t0 + t1) + (t2 + t3);
            sumOfSquares[j] = T.FusedMultiplyAdd(t3, t3, T.FusedMultiplyAdd(t2, t2, T.FusedMultiplyAdd(t1, t1, T.FusedMultiplyAdd(t0, t0, sumOfSquares[j]))));
        }
    }

    private static void AccumulateShiftedRow<T>(ReadOnlySpan<T> x, int i, int from, int features, Span<T> sum, Span<T> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = from; j < features; j++)
        {
            T t = x[(i * features) + j] - x[j];
            sum[j] += t;
            sumOfSquares[j] = T.FusedMultiplyAdd(t, t, sumOfSquares[j]);
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

    // (left * right) + addend rounded once, for the element types the kernels use.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> FusedMultiplyAdd<T>(Vector512<T> left, Vector512<T> right, Vector512<T> addend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            return Vector512.FusedMultiplyAdd(left.AsSingle(), right.AsSingle(), addend.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector512.FusedMultiplyAdd(left.AsDouble(), right.AsDouble(), addend.AsDouble()).As<double, T>();
        }

        throw new NotSupportedException($"No vector fused multiply-add for {typeof(T).Name}.");
    }

    // (left * right) + addend rounded once, for the element types the kernels use.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> FusedMultiplyAdd<T>(Vector<T> left, Vector<T> right, Vector<T> addend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            return Vector.FusedMultiplyAdd(left.As<T, float>(), right.As<T, float>(), addend.As<T, float>()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector.FusedMultiplyAdd(left.As<T, double>(), right.As<T, double>(), addend.As<T, double>()).As<double, T>();
        }

        throw new NotSupportedException($"No vector fused multiply-add for {typeof(T).Name}.");
    }
}
