using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// Adds a block of per-slot shifted sums to the batch's totals, clears the block, and moves the totals to a new
    /// shift, each slot's mean so far, so the values still to come are summed relative to a point near their mean.
    /// </summary>
    /// <remarks>
    /// Effectively, for every slot j with <c>n = count[j] + rowsInEverySlot</c> values so far: <c>S1 = sum[j] +
    /// blockSum[j]</c> and <c>S2 = sumOfSquares[j] + blockSumOfSquares[j]</c>, then (a slot with no value, shift NaN, keeps
    /// them) <c>d = S1 / n</c>, <c>s' = shift[j] + d</c>, <c>e = s' - shift[j]</c> (d as the shift moved, after rounding),
    /// <c>S1 -= n * e</c> and <c>S2 -= e * (2 * S1 - n * e)</c> (with the S1 before), which is <c>sum_i (x_i - s')^2</c>
    /// expanded; the block restarts at 0.
    /// <para>Why: <see cref="AccumulateFiniteMoments{T}"/> sums relative to one shift per slot, the batch's first finite
    /// value. When that value is far from the rest (one non-zero, then zeros) the variance <c>S2 / n - (S1 / n)^2</c>
    /// cancels by a factor that grows with n; and a sum that is large from the first value on takes every later small
    /// term with a rounding of its own size, n of them. Folded and moved at rows 8, 64, 512 and every 512 rows after
    /// (<c>Fitting.MiniBatchMoments</c>), the cancellation factor stays below about 8 and no sum takes more than 512
    /// terms before it is added to the total: a few roundings whatever the order of the values.</para>
    /// The same roundings for every slot, whatever the vector width: four slots at a time with 256-bit vectors (the same
    /// operations, none fused, and the NaN test as a mask), the rest one at a time (<see cref="FoldMomentsScalar"/>, the
    /// reference the tests compare it with). Once per block of rows, but with a division per slot it was about a fifth
    /// of the narrow dense fit's work at the default batch of 256 rows (three blocks a batch), scalar.
    /// </remarks>
    /// <exception cref="ArgumentException">A span's length differs from <c>shift.Length</c>.</exception>
    public static void FoldMoments(Span<double> shift, Span<double> blockSum, Span<double> blockSumOfSquares, Span<double> sum, Span<double> sumOfSquares, ReadOnlySpan<double> count, long rowsInEverySlot)
    {
        CheckFiniteMomentsArguments(shift.Length, shift.Length, sum.Length, sumOfSquares.Length, count.Length);
        ThrowHelper.ThrowIfLengthDiffers(shift.Length, blockSum.Length, nameof(blockSum));
        ThrowHelper.ThrowIfLengthDiffers(shift.Length, blockSumOfSquares.Length, nameof(blockSumOfSquares));
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref double kr = ref At(shift), br = ref At(blockSum), bqr = ref At(blockSumOfSquares), sr = ref At(sum), qr = ref At(sumOfSquares), cr = ref At(count);
            var rows = Vector256.Create((double)rowsInEverySlot);
            for (; j <= shift.Length - 4; j += 4)
            {
                nuint at = (nuint)j;
                var k = Vector256.LoadUnsafe(ref kr, at);
                var s1 = Vector256.LoadUnsafe(ref sr, at) + Vector256.LoadUnsafe(ref br, at);
                var s2 = Vector256.LoadUnsafe(ref qr, at) + Vector256.LoadUnsafe(ref bqr, at);
                var n = Vector256.LoadUnsafe(ref cr, at) + rows;

                // Recentre, lane by lane; a lane whose moved shift is NaN keeps its shift and sums.
                var moved = k + (s1 / n);
                var keep = Vector256.Equals(moved, moved);
                var e = moved - k;
                var ne = n * e;
                Vector256.ConditionalSelect(keep, s2 - (e * ((s1 + s1) - ne)), s2).StoreUnsafe(ref qr, at);
                Vector256.ConditionalSelect(keep, s1 - ne, s1).StoreUnsafe(ref sr, at);
                Vector256.ConditionalSelect(keep, moved, k).StoreUnsafe(ref kr, at);
            }
        }

        FoldMomentsScalar(shift, blockSum, blockSumOfSquares, sum, sumOfSquares, count, rowsInEverySlot, j);
        blockSum.Clear();
        blockSumOfSquares.Clear();
    }

    /// <summary>The scalar form of <see cref="FoldMoments"/> for slots from <paramref name="firstSlot"/> on, without clearing the block.</summary>
    internal static void FoldMomentsScalar(Span<double> shift, ReadOnlySpan<double> blockSum, ReadOnlySpan<double> blockSumOfSquares, Span<double> sum, Span<double> sumOfSquares, ReadOnlySpan<double> count, long rowsInEverySlot, int firstSlot)
    {
        for (int j = firstSlot; j < shift.Length; j++)
        {
            double s1 = sum[j] + blockSum[j], s2 = sumOfSquares[j] + blockSumOfSquares[j];
            Recentre(ref shift[j], ref s1, ref s2, count[j] + rowsInEverySlot);
            (sum[j], sumOfSquares[j]) = (s1, s2);
        }
    }

    /// <summary>
    /// Moves one unit's sums of <paramref name="n"/> values, <c>sum (x - shift)</c> and <c>sum (x - shift)^2</c>, to the
    /// shift <c>shift + sum / n</c> (see <see cref="FoldMoments"/>); a unit with no value (a NaN shift) is left alone.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Recentre(ref double shift, ref double sum, ref double sumOfSquares, double n)
    {
        double moved = shift + (sum / n);
        if (double.IsNaN(moved))
        {
            return;
        }

        double e = moved - shift;
        double ne = n * e;
        sumOfSquares -= e * ((sum + sum) - ne);
        sum -= ne;
        shift = moved;
    }
}
