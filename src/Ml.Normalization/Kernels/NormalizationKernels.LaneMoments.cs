using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>Lanes per channel plane of <see cref="AccumulatePlaneMoments{T}"/>.</summary>
    public const int LaneGroup = 16;

    /// <summary>Lanes per group of <see cref="AccumulateLaneMoments{T}"/>: lane counts are multiples of it.</summary>
    public const int InterleavedLaneGroup = 8;

    /// <summary>
    /// Adds <paramref name="values"/> to shifted sums kept per lane, value i going to lane i mod P
    /// (P = <c>laneShift.Length</c>): <c>t = (double)values[i] - laneShift[l]; laneSum[l] += t; laneSumOfSquares[l] += t * t</c>.
    /// </summary>
    /// <remarks>
    /// The per-channel statistics of a channels-first plane (the P lanes of its channel) or of a channels-last row (lane
    /// l belonging to channel l mod C, P a multiple of C). Every lane adds its values in index order, a vector lane per
    /// sum lane, so the sums do not depend on the hardware's vector width; the caller folds the lanes of a channel in a
    /// fixed order. The sums are double whatever the value type (Single values are widened a vector at a time); the
    /// values must be finite and the shifts set (the caller takes the general path otherwise).
    /// </remarks>
    /// <exception cref="ArgumentException">The lane spans differ in length, or it is not a positive multiple of <see cref="InterleavedLaneGroup"/>.</exception>
    public static void AccumulateLaneMoments<T>(ReadOnlySpan<T> values, ReadOnlySpan<double> laneShift, Span<double> laneSum, Span<double> laneSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lanes = laneShift.Length;
        if (lanes < InterleavedLaneGroup || lanes % InterleavedLaneGroup != 0)
        {
            ThrowHelper.ThrowOutOfRange(nameof(laneShift), lanes, $"a positive multiple of {InterleavedLaneGroup} lanes long");
        }

        ThrowHelper.ThrowIfLengthDiffers(lanes, laneSum.Length, nameof(laneSum));
        ThrowHelper.ThrowIfLengthDiffers(lanes, laneSumOfSquares.Length, nameof(laneSumOfSquares));
        int start = 0;
        if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            start = lanes == 3 * InterleavedLaneGroup
                ? AccumulateLanes24(values, laneShift, laneSum, laneSumOfSquares)
                : AccumulateLaneGroups(values, laneShift, laneSum, laneSumOfSquares);
        }

        // What the register loops leave (a last, partial chunk), or all of it without 256-bit vectors: the lanes as
        // slots, so each lane adds its values in index order, with the operations of the register loops.
        UpdateSlots<T, MomentsOperator>(
            new MomentsOperator(ref At(laneShift), ref MemoryMarshal.GetReference(laneSum), ref MemoryMarshal.GetReference(laneSumOfSquares)),
            values[start..],
            lanes);
    }

    /// <summary>
    /// <see cref="AccumulateLaneMoments{T}"/> for one channel plane: one shift for all <see cref="LaneGroup"/> lanes, the
    /// lanes' sums kept in registers for the whole plane. The same additions in the same order, so the same bits.
    /// </summary>
    /// <exception cref="ArgumentException">A lane span is not <see cref="LaneGroup"/> long.</exception>
    public static void AccumulatePlaneMoments<T>(ReadOnlySpan<T> plane, double shift, Span<double> laneSum, Span<double> laneSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(LaneGroup, laneSum.Length, nameof(laneSum));
        ThrowHelper.ThrowIfLengthDiffers(LaneGroup, laneSumOfSquares.Length, nameof(laneSumOfSquares));
        ref double sr = ref MemoryMarshal.GetReference(laneSum);
        ref double qr = ref MemoryMarshal.GetReference(laneSumOfSquares);
        int i = 0;
        if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            // Lanes 0-3, 4-7, 8-11, 12-15 in four registers each for the sums and the sums of squares.
            var (s0, s1, s2, s3) = (Vector256.LoadUnsafe(ref sr), Vector256.LoadUnsafe(ref sr, 4), Vector256.LoadUnsafe(ref sr, 8), Vector256.LoadUnsafe(ref sr, 12));
            var (q0, q1, q2, q3) = (Vector256.LoadUnsafe(ref qr), Vector256.LoadUnsafe(ref qr, 4), Vector256.LoadUnsafe(ref qr, 8), Vector256.LoadUnsafe(ref qr, 12));
            var k = Vector256.Create(shift);
            for (; i <= plane.Length - LaneGroup; i += LaneGroup)
            {
                var (x0, x1) = Load8(plane, (nuint)i);
                var (x2, x3) = Load8(plane, (nuint)(i + 8));

                var t0 = x0 - k;
                var t1 = x1 - k;
                var t2 = x2 - k;
                var t3 = x3 - k;
                s0 += t0;
                s1 += t1;
                s2 += t2;
                s3 += t3;
                q0 += t0 * t0;
                q1 += t1 * t1;
                q2 += t2 * t2;
                q3 += t3 * t3;
            }

            s0.StoreUnsafe(ref sr);
            s1.StoreUnsafe(ref sr, 4);
            s2.StoreUnsafe(ref sr, 8);
            s3.StoreUnsafe(ref sr, 12);
            q0.StoreUnsafe(ref qr);
            q1.StoreUnsafe(ref qr, 4);
            q2.StoreUnsafe(ref qr, 8);
            q3.StoreUnsafe(ref qr, 12);
        }

        if (i < plane.Length)
        {
            // The last, partial group of lanes, or the whole plane without 256-bit vectors: the lanes as slots, each
            // with the plane's shift, as AccumulateLaneMoments leaves its tail.
            Span<double> laneShift = stackalloc double[LaneGroup];
            laneShift.Fill(shift);
            UpdateSlots<T, MomentsOperator>(new MomentsOperator(ref At(laneShift), ref sr, ref qr), plane[i..], LaneGroup);
        }
    }

    /// <summary>
    /// The whole chunks of <see cref="AccumulateLaneMoments{T}"/> with 256-bit vectors: one group of 8 lanes at a time,
    /// its sums, sums of squares and shifts in registers while it walks every chunk. Each lane still adds its values in
    /// index order. Returns where the chunks end.
    /// </summary>
    private static int AccumulateLaneGroups<T>(ReadOnlySpan<T> values, ReadOnlySpan<double> laneShift, Span<double> laneSum, Span<double> laneSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lanes = laneShift.Length;
        int chunks = values.Length / lanes;
        for (int g = 0; g < lanes; g += InterleavedLaneGroup)
        {
            ref double kr = ref Unsafe.Add(ref MemoryMarshal.GetReference(laneShift), g);
            ref double sr = ref Unsafe.Add(ref MemoryMarshal.GetReference(laneSum), g);
            ref double qr = ref Unsafe.Add(ref MemoryMarshal.GetReference(laneSumOfSquares), g);
            var (k0, k1) = (Vector256.LoadUnsafe(ref kr), Vector256.LoadUnsafe(ref kr, 4));
            var (s0, s1) = (Vector256.LoadUnsafe(ref sr), Vector256.LoadUnsafe(ref sr, 4));
            var (q0, q1) = (Vector256.LoadUnsafe(ref qr), Vector256.LoadUnsafe(ref qr, 4));
            for (int c = 0; c < chunks; c++)
            {
                var (x0, x1) = Load8(values, (nuint)((c * lanes) + g));
                var t0 = x0 - k0;
                var t1 = x1 - k1;
                s0 += t0;
                s1 += t1;
                q0 += t0 * t0;
                q1 += t1 * t1;
            }

            s0.StoreUnsafe(ref sr);
            s1.StoreUnsafe(ref sr, 4);
            q0.StoreUnsafe(ref qr);
            q1.StoreUnsafe(ref qr, 4);
        }

        return chunks * lanes;
    }

    /// <summary>
    /// <see cref="AccumulateLaneGroups{T}"/> for 24 lanes (three interleaved channels, RGB) in one pass over the values:
    /// twelve accumulators. The same additions in the same order.
    /// </summary>
    private static int AccumulateLanes24<T>(ReadOnlySpan<T> values, ReadOnlySpan<double> laneShift, Span<double> laneSum, Span<double> laneSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Lanes = 24;
        int chunks = values.Length / Lanes;
        ref double kr = ref MemoryMarshal.GetReference(laneShift);
        ref double sr = ref MemoryMarshal.GetReference(laneSum);
        ref double qr = ref MemoryMarshal.GetReference(laneSumOfSquares);
        var (s0, s1, s2, s3, s4, s5) = (Vector256.LoadUnsafe(ref sr), Vector256.LoadUnsafe(ref sr, 4), Vector256.LoadUnsafe(ref sr, 8),
            Vector256.LoadUnsafe(ref sr, 12), Vector256.LoadUnsafe(ref sr, 16), Vector256.LoadUnsafe(ref sr, 20));
        var (q0, q1, q2, q3, q4, q5) = (Vector256.LoadUnsafe(ref qr), Vector256.LoadUnsafe(ref qr, 4), Vector256.LoadUnsafe(ref qr, 8),
            Vector256.LoadUnsafe(ref qr, 12), Vector256.LoadUnsafe(ref qr, 16), Vector256.LoadUnsafe(ref qr, 20));
        for (int c = 0; c < chunks; c++)
        {
            nuint i = (nuint)(c * Lanes);
            var (x0, x1) = Load8(values, i);
            var (x2, x3) = Load8(values, i + 8);
            var (x4, x5) = Load8(values, i + 16);
            var t0 = x0 - Vector256.LoadUnsafe(ref kr);
            var t1 = x1 - Vector256.LoadUnsafe(ref kr, 4);
            var t2 = x2 - Vector256.LoadUnsafe(ref kr, 8);
            var t3 = x3 - Vector256.LoadUnsafe(ref kr, 12);
            var t4 = x4 - Vector256.LoadUnsafe(ref kr, 16);
            var t5 = x5 - Vector256.LoadUnsafe(ref kr, 20);
            s0 += t0;
            s1 += t1;
            s2 += t2;
            s3 += t3;
            s4 += t4;
            s5 += t5;
            q0 += t0 * t0;
            q1 += t1 * t1;
            q2 += t2 * t2;
            q3 += t3 * t3;
            q4 += t4 * t4;
            q5 += t5 * t5;
        }

        s0.StoreUnsafe(ref sr);
        s1.StoreUnsafe(ref sr, 4);
        s2.StoreUnsafe(ref sr, 8);
        s3.StoreUnsafe(ref sr, 12);
        s4.StoreUnsafe(ref sr, 16);
        s5.StoreUnsafe(ref sr, 20);
        q0.StoreUnsafe(ref qr);
        q1.StoreUnsafe(ref qr, 4);
        q2.StoreUnsafe(ref qr, 8);
        q3.StoreUnsafe(ref qr, 12);
        q4.StoreUnsafe(ref qr, 16);
        q5.StoreUnsafe(ref qr, 20);
        return chunks * Lanes;
    }

    /// <summary>Eight values from <paramref name="index"/> on, widened to double: two vectors of four.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<double> Low, Vector256<double> High) Load8<T>(ReadOnlySpan<T> values, nuint index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            return Vector256.Widen(Vector256.LoadUnsafe(ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(values)), index));
        }

        ref double xr = ref Unsafe.As<T, double>(ref MemoryMarshal.GetReference(values));
        return (Vector256.LoadUnsafe(ref xr, index), Vector256.LoadUnsafe(ref xr, index + 4));
    }
}
