using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// <see cref="AccumulateMoments{T}"/> for several rows at once, if they are all finite: each of <paramref name="rows"/>
    /// holds one row of <c>shift.Length</c> values, every slot has a shift; for every slot j and each row r in order,
    /// <c>t = (double)rows[r][j] - shift[j]; sum[j] += t; sumOfSquares[j] += t * t</c>, the results written to
    /// <paramref name="newSum"/> and <paramref name="newSumOfSquares"/>. Returns whether every resulting sum of squares is
    /// finite: true when every value is finite (and no square overflowed a double); false otherwise, and then the new sums
    /// are unspecified (the caller keeps the old ones and takes the rows one at a time).
    /// </summary>
    /// <remarks>
    /// The same operations in the same order per slot as one <see cref="AccumulateMoments{T}"/> call per row, so the same
    /// bits; but each slot's sums stay in registers across the rows instead of being loaded and stored once per row,
    /// which is most of the per-row work of a narrow dense fit (<c>Fitting.MiniBatchMoments</c> holds rows for it).
    /// The rows are not checked for NaN and infinities first: a non-finite value makes its slot's sum of squares NaN or
    /// infinite, which one comparison per slot group finds at the end (the rows are read once). The rows are separate
    /// arrays, so a row can stay in the buffer a getter wrote it to. Sixteen slots at a time (on 512-bit vectors where
    /// there are, else 256-bit) keep eight sums in flight; slots past the last sixteen go eight at a time, then
    /// one at a time (every slot without 256-bit vector hardware: <see cref="TryAccumulateMomentsOfRowsScalar{T}"/>, the
    /// reference the tests compare the vector path against).
    /// </remarks>
    /// <exception cref="ArgumentException">A row's length, or a sum span's, differs from <paramref name="shift"/>'s.</exception>
    public static bool TryAccumulateMomentsOfRows<T>(ReadOnlySpan<T[]> rows, ReadOnlySpan<double> shift, ReadOnlySpan<double> sum, ReadOnlySpan<double> sumOfSquares,
        Span<double> newSum, Span<double> newSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRowsArguments(rows, shift.Length, sum.Length, sumOfSquares.Length, newSum.Length, newSumOfSquares.Length);
        int slots = shift.Length, j = 0;
        bool finite = true;
        if (Vector256.IsHardwareAccelerated && slots >= 8)
        {
            // Singles widened straight from memory and the shift subtracted on the multiply-add units: LaneMoments'
            // Load8 and Deviation, the same values and bits. A non-finite sum of squares makes q - q NaN, which stays.
            var bad = Vector256<double>.Zero;
            if (Avx512F.IsSupported)
            {
                for (; j <= slots - 16; j += 16)
                {
                    bad += AccumulateSixteenSlots512(rows, j, shift, sum, sumOfSquares, newSum, newSumOfSquares);
                }
            }

            for (; j <= slots - 16; j += 16)
            {
                bad += AccumulateSixteenSlots(rows, j, shift, sum, sumOfSquares, newSum, newSumOfSquares);
            }

            if (j <= slots - 8)
            {
                bad += AccumulateEightSlots(rows, j, shift, sum, sumOfSquares, newSum, newSumOfSquares);
                j += 8;
            }

            finite = Vector256.EqualsAll(bad, Vector256<double>.Zero);
        }

        return TryAccumulateMomentsOfRowsScalar(rows, j, shift, sum, sumOfSquares, newSum, newSumOfSquares) && finite;
    }

    /// <summary>The scalar form of <see cref="TryAccumulateMomentsOfRows{T}"/> for slots from <paramref name="firstSlot"/> on.</summary>
    internal static bool TryAccumulateMomentsOfRowsScalar<T>(ReadOnlySpan<T[]> rows, int firstSlot, ReadOnlySpan<double> shift, ReadOnlySpan<double> sum, ReadOnlySpan<double> sumOfSquares,
        Span<double> newSum, Span<double> newSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRowsArguments(rows, shift.Length, sum.Length, sumOfSquares.Length, newSum.Length, newSumOfSquares.Length);
        bool finite = true;
        for (int j = firstSlot; j < shift.Length; j++)
        {
            double s = shift[j], s1 = sum[j], s2 = sumOfSquares[j];
            foreach (var row in rows)
            {
                double t = double.CreateTruncating(row[j]) - s;
                s1 += t;
                s2 += t * t;
            }

            (newSum[j], newSumOfSquares[j]) = (s1, s2);
            finite &= double.IsFinite(s2);
        }

        return finite;
    }

    // Slots [j, j + 16) over every row: four independent sums and four sums of squares. Returns the sums of squares'
    // q - q, zero where they are finite.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> AccumulateSixteenSlots<T>(ReadOnlySpan<T[]> rows, int j, ReadOnlySpan<double> shift, ReadOnlySpan<double> sum, ReadOnlySpan<double> sumOfSquares,
        Span<double> newSum, Span<double> newSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint at = (nuint)j;
        ref double kr = ref At(shift), sr = ref At(sum), qr = ref At(sumOfSquares);
        var (k0, k1, k2, k3) = (Vector256.LoadUnsafe(ref kr, at), Vector256.LoadUnsafe(ref kr, at + 4), Vector256.LoadUnsafe(ref kr, at + 8), Vector256.LoadUnsafe(ref kr, at + 12));
        var (s0, s1, s2, s3) = (Vector256.LoadUnsafe(ref sr, at), Vector256.LoadUnsafe(ref sr, at + 4), Vector256.LoadUnsafe(ref sr, at + 8), Vector256.LoadUnsafe(ref sr, at + 12));
        var (q0, q1, q2, q3) = (Vector256.LoadUnsafe(ref qr, at), Vector256.LoadUnsafe(ref qr, at + 4), Vector256.LoadUnsafe(ref qr, at + 8), Vector256.LoadUnsafe(ref qr, at + 12));
        foreach (var row in rows)
        {
            ReadOnlySpan<T> values = row;
            var (x0, x1) = Load8(values, at);
            var (x2, x3) = Load8(values, at + 8);
            var (t0, t1, t2, t3) = (Deviation(x0, k0), Deviation(x1, k1), Deviation(x2, k2), Deviation(x3, k3));
            s0 += t0;
            s1 += t1;
            s2 += t2;
            s3 += t3;
            q0 += t0 * t0;
            q1 += t1 * t1;
            q2 += t2 * t2;
            q3 += t3 * t3;
        }

        ref double nsr = ref MemoryMarshal.GetReference(newSum), nqr = ref MemoryMarshal.GetReference(newSumOfSquares);
        s0.StoreUnsafe(ref nsr, at);
        s1.StoreUnsafe(ref nsr, at + 4);
        s2.StoreUnsafe(ref nsr, at + 8);
        s3.StoreUnsafe(ref nsr, at + 12);
        q0.StoreUnsafe(ref nqr, at);
        q1.StoreUnsafe(ref nqr, at + 4);
        q2.StoreUnsafe(ref nqr, at + 8);
        q3.StoreUnsafe(ref nqr, at + 12);
        return (q0 - q0) + (q1 - q1) + (q2 - q2) + (q3 - q3);
    }

    // AccumulateSixteenSlots on 512-bit vectors: the same operations per slot (so the same bits), in half the
    // instructions. On Zen 4, which splits each into two 256-bit halves, the 256-bit loop was bound by issuing its
    // instructions, not by the floating-point units: 1M rows x 64 Singles summed in 6.8-7.1 ms instead of 10-11.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> AccumulateSixteenSlots512<T>(ReadOnlySpan<T[]> rows, int j, ReadOnlySpan<double> shift, ReadOnlySpan<double> sum, ReadOnlySpan<double> sumOfSquares,
        Span<double> newSum, Span<double> newSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint at = (nuint)j;
        ref double kr = ref At(shift), sr = ref At(sum), qr = ref At(sumOfSquares);
        var (k0, k1) = (Vector512.LoadUnsafe(ref kr, at), Vector512.LoadUnsafe(ref kr, at + 8));
        var (s0, s1) = (Vector512.LoadUnsafe(ref sr, at), Vector512.LoadUnsafe(ref sr, at + 8));
        var (q0, q1) = (Vector512.LoadUnsafe(ref qr, at), Vector512.LoadUnsafe(ref qr, at + 8));
        var one = Vector512<double>.One;
        foreach (var row in rows)
        {
            var (x0, x1) = (Widen512<T>(row, at), Widen512<T>(row, at + 8));
            var t0 = Avx512F.FusedMultiplySubtract(x0, one, k0);
            var t1 = Avx512F.FusedMultiplySubtract(x1, one, k1);
            s0 += t0;
            s1 += t1;
            q0 += t0 * t0;
            q1 += t1 * t1;
        }

        ref double nsr = ref MemoryMarshal.GetReference(newSum), nqr = ref MemoryMarshal.GetReference(newSumOfSquares);
        s0.StoreUnsafe(ref nsr, at);
        s1.StoreUnsafe(ref nsr, at + 8);
        q0.StoreUnsafe(ref nqr, at);
        q1.StoreUnsafe(ref nqr, at + 8);
        var bad = (q0 - q0) + (q1 - q1);
        return bad.GetLower() + bad.GetUpper();
    }

    // Slots [j, j + 8) over every row; returns the sums of squares' q - q.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> AccumulateEightSlots<T>(ReadOnlySpan<T[]> rows, int j, ReadOnlySpan<double> shift, ReadOnlySpan<double> sum, ReadOnlySpan<double> sumOfSquares,
        Span<double> newSum, Span<double> newSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint at = (nuint)j;
        ref double kr = ref At(shift), sr = ref At(sum), qr = ref At(sumOfSquares);
        var (k0, k1) = (Vector256.LoadUnsafe(ref kr, at), Vector256.LoadUnsafe(ref kr, at + 4));
        var (s0, s1) = (Vector256.LoadUnsafe(ref sr, at), Vector256.LoadUnsafe(ref sr, at + 4));
        var (q0, q1) = (Vector256.LoadUnsafe(ref qr, at), Vector256.LoadUnsafe(ref qr, at + 4));
        foreach (var row in rows)
        {
            var (x0, x1) = Load8<T>(row, at);
            var (t0, t1) = (Deviation(x0, k0), Deviation(x1, k1));
            s0 += t0;
            s1 += t1;
            q0 += t0 * t0;
            q1 += t1 * t1;
        }

        ref double nsr = ref MemoryMarshal.GetReference(newSum), nqr = ref MemoryMarshal.GetReference(newSumOfSquares);
        s0.StoreUnsafe(ref nsr, at);
        s1.StoreUnsafe(ref nsr, at + 4);
        q0.StoreUnsafe(ref nqr, at);
        q1.StoreUnsafe(ref nqr, at + 4);
        return (q0 - q0) + (q1 - q1);
    }

    private static void CheckRowsArguments<T>(ReadOnlySpan<T[]> rows, int slots, int sumLength, int sumOfSquaresLength, int newSumLength, int newSumOfSquaresLength)
    {
        foreach (var row in rows)
        {
            ThrowHelper.ThrowIfLengthDiffers(slots, row.Length, nameof(rows));
        }

        ThrowHelper.ThrowIfLengthDiffers(slots, sumLength, "sum");
        ThrowHelper.ThrowIfLengthDiffers(slots, sumOfSquaresLength, "sumOfSquares");
        ThrowHelper.ThrowIfLengthDiffers(slots, newSumLength, "newSum");
        ThrowHelper.ThrowIfLengthDiffers(slots, newSumOfSquaresLength, "newSumOfSquares");
    }
}
