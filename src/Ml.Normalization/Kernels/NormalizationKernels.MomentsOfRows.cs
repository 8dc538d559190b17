using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// <see cref="AccumulateMoments{T}"/> for several rows at once: <paramref name="rows"/> holds whole rows of
    /// <paramref name="slots"/> values each, all finite, every slot with a shift; for every slot j and each row r in
    /// order, <c>t = (double)rows[r * slots + j] - shift[j]; sum[j] += t; sumOfSquares[j] += t * t</c>.
    /// </summary>
    /// <remarks>
    /// The same operations in the same order per slot as one <see cref="AccumulateMoments{T}"/> call per row, so the same
    /// bits; but each slot's sums stay in registers across the rows instead of being loaded and stored once per row,
    /// which is most of the per-row work of a narrow dense fit (<c>Fitting.MiniBatchMoments</c> stages rows for it).
    /// Slots past the last eight (every slot without 256-bit vector hardware) are summed one at a time
    /// (<see cref="AccumulateMomentsOfRowsScalar{T}"/>, the reference the tests compare the vector path against).
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="rows"/> is not whole rows, or a span's length differs from <paramref name="slots"/>.</exception>
    public static void AccumulateMomentsOfRows<T>(ReadOnlySpan<T> rows, int slots, ReadOnlySpan<double> shift, Span<double> sum, Span<double> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRowsArguments(rows.Length, slots, shift.Length, sum.Length, sumOfSquares.Length);
        if (slots == 0)
        {
            return;
        }

        int rowCount = rows.Length / slots, j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // Eight slots at a time as two vectors of four doubles (Singles widened straight from memory, the shift
            // subtracted on the multiply-add units: LaneMoments' Load8 and Deviation, the same values and bits).
            for (; j <= slots - 8; j += 8)
            {
                AccumulateEightSlots(rows, rowCount, slots, j, shift, sum, sumOfSquares);
            }
        }

        AccumulateMomentsOfRowsScalar(rows, slots, j, shift, sum, sumOfSquares);
    }

    /// <summary>The scalar form of <see cref="AccumulateMomentsOfRows{T}"/> for slots from <paramref name="firstSlot"/> on.</summary>
    internal static void AccumulateMomentsOfRowsScalar<T>(ReadOnlySpan<T> rows, int slots, int firstSlot, ReadOnlySpan<double> shift, Span<double> sum, Span<double> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRowsArguments(rows.Length, slots, shift.Length, sum.Length, sumOfSquares.Length);
        for (int j = firstSlot; j < slots; j++)
        {
            double s = shift[j], s1 = sum[j], s2 = sumOfSquares[j];
            for (int at = j; at < rows.Length; at += slots)
            {
                double t = double.CreateTruncating(rows[at]) - s;
                s1 += t;
                s2 += t * t;
            }

            (sum[j], sumOfSquares[j]) = (s1, s2);
        }
    }

    // Slots [j, j + 8) over every row.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateEightSlots<T>(ReadOnlySpan<T> rows, int rowCount, int slots, int j, ReadOnlySpan<double> shift, Span<double> sum, Span<double> sumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint low = (nuint)j, high = (nuint)(j + 4);
        Vector256<double> shiftLow = Vector256.LoadUnsafe(ref At(shift), low), shiftHigh = Vector256.LoadUnsafe(ref At(shift), high);
        Vector256<double> sumLow = Vector256.LoadUnsafe(ref At(sum), low), sumHigh = Vector256.LoadUnsafe(ref At(sum), high);
        Vector256<double> squaresLow = Vector256.LoadUnsafe(ref At(sumOfSquares), low), squaresHigh = Vector256.LoadUnsafe(ref At(sumOfSquares), high);
        nuint at = (nuint)j;
        for (int r = 0; r < rowCount; r++, at += (nuint)slots)
        {
            var (valuesLow, valuesHigh) = Load8(rows, at);
            var tLow = Deviation(valuesLow, shiftLow);
            var tHigh = Deviation(valuesHigh, shiftHigh);
            sumLow += tLow;
            sumHigh += tHigh;
            squaresLow += tLow * tLow;
            squaresHigh += tHigh * tHigh;
        }

        sumLow.StoreUnsafe(ref At(sum), low);
        sumHigh.StoreUnsafe(ref At(sum), high);
        squaresLow.StoreUnsafe(ref At(sumOfSquares), low);
        squaresHigh.StoreUnsafe(ref At(sumOfSquares), high);
    }

    private static void CheckRowsArguments(int length, int slots, int shiftLength, int sumLength, int sumOfSquaresLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slots);
        if (slots == 0 ? length != 0 : length % slots != 0)
        {
            throw new ArgumentException($"The rows hold {length} values, not a whole number of rows of {slots} slots.", "rows");
        }

        ThrowHelper.ThrowIfLengthDiffers(slots, shiftLength, "shift");
        ThrowHelper.ThrowIfLengthDiffers(slots, sumLength, "sum");
        ThrowHelper.ThrowIfLengthDiffers(slots, sumOfSquaresLength, "sumOfSquares");
    }
}
