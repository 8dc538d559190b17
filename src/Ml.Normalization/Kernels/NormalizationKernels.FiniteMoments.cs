using System.Numerics;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// Adds one row to per-slot shifted sums, skipping NaN and infinite values.
    /// </summary>
    /// <remarks>
    /// Effectively, for every slot j where <c>row[j]</c> is finite: if <c>shift[j]</c> is NaN it becomes
    /// <c>row[j]</c> (the first finite value the slot sees), then with <c>t = row[j] - shift[j]</c>:
    /// <c>sum[j] += t; sumOfSquares[j] += t * t; count[j] += 1</c>. Non-finite values change nothing.
    /// The caller starts <paramref name="shift"/> at NaN and keeps it across batches, so the sums stay small
    /// whatever the slot's offset; <see cref="FiniteMomentsToBatchStatistics"/> turns them into statistics.
    /// </remarks>
    /// <exception cref="ArgumentException">A span's length differs from <c>row.Length</c>.</exception>
    public static void AccumulateFiniteMoments<T>(ReadOnlySpan<T> row, Span<T> shift, Span<T> sum, Span<T> sumOfSquares, Span<T> count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckFiniteMomentsArguments(row.Length, shift.Length, sum.Length, sumOfSquares.Length, count.Length);
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var rv = MemoryMarshal.Cast<T, Vector<T>>(row);
            var kv = MemoryMarshal.Cast<T, Vector<T>>(shift);
            var sv = MemoryMarshal.Cast<T, Vector<T>>(sum);
            var qv = MemoryMarshal.Cast<T, Vector<T>>(sumOfSquares);
            var cv = MemoryMarshal.Cast<T, Vector<T>>(count);
            for (int v = 0; v < rv.Length; v++)
            {
                var x = rv[v];
                var finite = Vector.Equals(x - x, Vector<T>.Zero); // x - x is NaN exactly for NaN and +-infinity
                var k = kv[v];
                k = Vector.ConditionalSelect(Vector.AndNot(finite, Vector.Equals(k, k)), x, k);
                kv[v] = k;
                var t = Vector.ConditionalSelect(finite, x - k, Vector<T>.Zero);
                sv[v] += t;
                qv[v] += t * t;
                cv[v] += Vector.ConditionalSelect(finite, Vector<T>.One, Vector<T>.Zero);
            }

            j = rv.Length * Vector<T>.Count;
        }

        AccumulateFiniteMomentsScalarFrom(j, row, shift, sum, sumOfSquares, count);
    }

    /// <summary>
    /// The fast path of <see cref="AccumulateFiniteMoments{T}"/> for a row whose values are all finite and whose slots
    /// all have a shift: <c>t = row[j] - shift[j]; sum[j] += t; sumOfSquares[j] += t * t</c>, the caller counting the
    /// row once for every slot. Gives exactly what the general path gives for such a row.
    /// </summary>
    public static void AccumulateMoments<T>(ReadOnlySpan<T> row, ReadOnlySpan<T> shift, Span<T> sum, Span<T> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(row.Length, shift.Length, nameof(shift));
        ThrowHelper.ThrowIfLengthDiffers(row.Length, sum.Length, nameof(sum));
        ThrowHelper.ThrowIfLengthDiffers(row.Length, sumOfSquares.Length, nameof(sumOfSquares));
        ref T xr = ref MemoryMarshal.GetReference(row);
        ref T kr = ref MemoryMarshal.GetReference(shift);
        ref T sr = ref MemoryMarshal.GetReference(sum);
        ref T qr = ref MemoryMarshal.GetReference(sumOfSquares);
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            for (; j <= row.Length - Vector<T>.Count; j += Vector<T>.Count)
            {
                var t = Vector.LoadUnsafe(ref xr, (nuint)j) - Vector.LoadUnsafe(ref kr, (nuint)j);
                (Vector.LoadUnsafe(ref sr, (nuint)j) + t).StoreUnsafe(ref sr, (nuint)j);
                (Vector.LoadUnsafe(ref qr, (nuint)j) + (t * t)).StoreUnsafe(ref qr, (nuint)j);
            }
        }

        for (; j < row.Length; j++)
        {
            T t = row[j] - shift[j];
            sum[j] += t;
            sumOfSquares[j] += t * t;
        }
    }

    /// <summary>Whether every value of <paramref name="values"/> is finite (no NaN, no infinity).</summary>
    public static bool AllFinite<T>(ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T xr = ref MemoryMarshal.GetReference(values);
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            // x - x is 0 for finite x and NaN otherwise; NaN survives the sum, so one comparison at the end decides.
            var acc = Vector<T>.Zero;
            for (; j <= values.Length - Vector<T>.Count; j += Vector<T>.Count)
            {
                var x = Vector.LoadUnsafe(ref xr, (nuint)j);
                acc += x - x;
            }

            if (!Vector.EqualsAll(acc, Vector<T>.Zero))
            {
                return false;
            }
        }

        for (; j < values.Length; j++)
        {
            if (!T.IsFinite(values[j]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Scalar reference of <see cref="AccumulateFiniteMoments{T}"/>, for tests.</summary>
    public static void AccumulateFiniteMomentsScalar<T>(ReadOnlySpan<T> row, Span<T> shift, Span<T> sum, Span<T> sumOfSquares, Span<T> count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckFiniteMomentsArguments(row.Length, shift.Length, sum.Length, sumOfSquares.Length, count.Length);
        AccumulateFiniteMomentsScalarFrom(0, row, shift, sum, sumOfSquares, count);
    }

    /// <summary>
    /// Turns the sums of <see cref="AccumulateFiniteMoments{T}"/> into one batch's mean and biased variance per slot,
    /// in double precision. A slot with no finite value gets NaN for both.
    /// </summary>
    public static void FiniteMomentsToBatchStatistics<T>(ReadOnlySpan<T> shift, ReadOnlySpan<T> sum, ReadOnlySpan<T> sumOfSquares, ReadOnlySpan<T> count, Span<double> mean, Span<double> variance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = 0; j < shift.Length; j++)
        {
            double n = double.CreateTruncating(count[j]);
            double meanOffset = double.CreateTruncating(sum[j]) / n;
            double v = (double.CreateTruncating(sumOfSquares[j]) / n) - (meanOffset * meanOffset);
            mean[j] = double.CreateTruncating(shift[j]) + meanOffset;
            variance[j] = v < 0 ? 0 : v;
        }
    }

    private static void CheckFiniteMomentsArguments(int length, int shiftLength, int sumLength, int sumOfSquaresLength, int countLength)
    {
        ThrowHelper.ThrowIfLengthDiffers(length, shiftLength, "shift");
        ThrowHelper.ThrowIfLengthDiffers(length, sumLength, "sum");
        ThrowHelper.ThrowIfLengthDiffers(length, sumOfSquaresLength, "sumOfSquares");
        ThrowHelper.ThrowIfLengthDiffers(length, countLength, "count");
    }

    private static void AccumulateFiniteMomentsScalarFrom<T>(int start, ReadOnlySpan<T> row, Span<T> shift, Span<T> sum, Span<T> sumOfSquares, Span<T> count)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = start; j < row.Length; j++)
        {
            T x = row[j];
            if (!T.IsFinite(x))
            {
                continue;
            }

            if (T.IsNaN(shift[j]))
            {
                shift[j] = x;
            }

            T t = x - shift[j];
            sum[j] += t;
            sumOfSquares[j] += t * t;
            count[j] += T.One;
        }
    }
}
