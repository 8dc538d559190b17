using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
        if (start < values.Length)
        {
            UpdateSlots<T, MomentsOperator>(
                new MomentsOperator(ref At(laneShift), ref At(laneSum), ref At(laneSumOfSquares)),
                values[start..],
                lanes);
        }
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
        ref double sr = ref At(laneSum);
        ref double qr = ref At(laneSumOfSquares);
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            // Lanes 0-7 and 8-15 in one 512-bit register each: the same additions lane for lane, half the instructions.
            var sum0 = Vector512.LoadUnsafe(ref sr);
            var sum1 = Vector512.LoadUnsafe(ref sr, 8);
            var squares0 = Vector512.LoadUnsafe(ref qr);
            var squares1 = Vector512.LoadUnsafe(ref qr, 8);
            var k = Vector512.Create(shift);
            for (; i <= plane.Length - LaneGroup; i += LaneGroup)
            {
                var t0 = Widen512(plane, (nuint)i) - k;
                var t1 = Widen512(plane, (nuint)(i + 8)) - k;
                sum0 += t0;
                sum1 += t1;
                squares0 += t0 * t0;
                squares1 += t1 * t1;
            }

            sum0.StoreUnsafe(ref sr);
            sum1.StoreUnsafe(ref sr, 8);
            squares0.StoreUnsafe(ref qr);
            squares1.StoreUnsafe(ref qr, 8);
        }
        else if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            // Lanes 0-7 and 8-15 in registers for the whole plane.
            var low = EightLaneSums.Load(ref sr, ref qr);
            var high = EightLaneSums.Load(ref Unsafe.Add(ref sr, 8), ref Unsafe.Add(ref qr, 8));
            var k = Vector256.Create(shift);
            for (; i <= plane.Length - LaneGroup; i += LaneGroup)
            {
                var (x0, x1) = Load8(plane, (nuint)i);
                var (x2, x3) = Load8(plane, (nuint)(i + 8));
                low.Add(Deviation(x0, k), Deviation(x1, k));
                high.Add(Deviation(x2, k), Deviation(x3, k));
            }

            low.Store(ref sr, ref qr);
            high.Store(ref Unsafe.Add(ref sr, 8), ref Unsafe.Add(ref qr, 8));
        }

        // The last, partial group of lanes (all of the plane without 256-bit vectors), lane by lane in the same order.
        // Not on UpdateSlots: at most 15 values, where the call and a 16-lane copy of the shift for its operator
        // measured 20% slower on 10 x 10 planes.
        for (int l = 0; i < plane.Length; i++)
        {
            double t = double.CreateTruncating(plane[i]) - shift;
            laneSum[l] += t;
            laneSumOfSquares[l] += t * t;
            l = l == LaneGroup - 1 ? 0 : l + 1;
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
            ref double kr = ref Unsafe.Add(ref At(laneShift), g);
            ref double sr = ref Unsafe.Add(ref At(laneSum), g);
            ref double qr = ref Unsafe.Add(ref At(laneSumOfSquares), g);
            var (k0, k1) = (Vector256.LoadUnsafe(ref kr), Vector256.LoadUnsafe(ref kr, 4));
            var sums = EightLaneSums.Load(ref sr, ref qr);
            for (int c = 0; c < chunks; c++)
            {
                var (x0, x1) = Load8(values, (nuint)((c * lanes) + g));
                sums.Add(Deviation(x0, k0), Deviation(x1, k1));
            }

            sums.Store(ref sr, ref qr);
        }

        return chunks * lanes;
    }

    /// <summary>
    /// <see cref="AccumulateLaneGroups{T}"/> for 24 lanes (three interleaved channels, RGB) in one pass over the values:
    /// twelve accumulators, the shifts loaded in each step (registers run short). The same additions in the same order.
    /// </summary>
    private static int AccumulateLanes24<T>(ReadOnlySpan<T> values, ReadOnlySpan<double> laneShift, Span<double> laneSum, Span<double> laneSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Lanes = 24;
        int chunks = values.Length / Lanes;
        ref double kr = ref At(laneShift);
        ref double sr = ref At(laneSum);
        ref double qr = ref At(laneSumOfSquares);
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            // Eight lanes to a 512-bit register: the same additions lane for lane, half the instructions (on Zen 4 the
            // 256-bit loop was bound by issuing them).
            Vector512<double> k0 = Vector512.LoadUnsafe(ref kr), k1 = Vector512.LoadUnsafe(ref kr, 8), k2 = Vector512.LoadUnsafe(ref kr, 16);
            Vector512<double> s0 = Vector512.LoadUnsafe(ref sr), s1 = Vector512.LoadUnsafe(ref sr, 8), s2 = Vector512.LoadUnsafe(ref sr, 16);
            Vector512<double> q0 = Vector512.LoadUnsafe(ref qr), q1 = Vector512.LoadUnsafe(ref qr, 8), q2 = Vector512.LoadUnsafe(ref qr, 16);
            for (int c = 0; c < chunks; c++)
            {
                nuint i = (nuint)(c * Lanes);
                var t0 = Widen512(values, i) - k0;
                var t1 = Widen512(values, i + 8) - k1;
                var t2 = Widen512(values, i + 16) - k2;
                s0 += t0;
                s1 += t1;
                s2 += t2;
                q0 += t0 * t0;
                q1 += t1 * t1;
                q2 += t2 * t2;
            }

            s0.StoreUnsafe(ref sr);
            s1.StoreUnsafe(ref sr, 8);
            s2.StoreUnsafe(ref sr, 16);
            q0.StoreUnsafe(ref qr);
            q1.StoreUnsafe(ref qr, 8);
            q2.StoreUnsafe(ref qr, 16);
            return chunks * Lanes;
        }

        var lanes0 = EightLaneSums.Load(ref sr, ref qr);
        var lanes8 = EightLaneSums.Load(ref Unsafe.Add(ref sr, 8), ref Unsafe.Add(ref qr, 8));
        var lanes16 = EightLaneSums.Load(ref Unsafe.Add(ref sr, 16), ref Unsafe.Add(ref qr, 16));
        for (int c = 0; c < chunks; c++)
        {
            nuint i = (nuint)(c * Lanes);
            var (x0, x1) = Load8(values, i);
            var (x2, x3) = Load8(values, i + 8);
            var (x4, x5) = Load8(values, i + 16);
            var t0 = Deviation(x0, Vector256.LoadUnsafe(ref kr));
            var t1 = Deviation(x1, Vector256.LoadUnsafe(ref kr, 4));
            var t2 = Deviation(x2, Vector256.LoadUnsafe(ref kr, 8));
            var t3 = Deviation(x3, Vector256.LoadUnsafe(ref kr, 12));
            var t4 = Deviation(x4, Vector256.LoadUnsafe(ref kr, 16));
            var t5 = Deviation(x5, Vector256.LoadUnsafe(ref kr, 20));
            lanes0.Add(t0, t1);
            lanes8.Add(t2, t3);
            lanes16.Add(t4, t5);
        }

        lanes0.Store(ref sr, ref qr);
        lanes8.Store(ref Unsafe.Add(ref sr, 8), ref Unsafe.Add(ref qr, 8));
        lanes16.Store(ref Unsafe.Add(ref sr, 16), ref Unsafe.Add(ref qr, 16));
        return chunks * Lanes;
    }

    /// <summary>Eight values from <paramref name="index"/> on, widened to double: two vectors of four.</summary>
    /// <remarks>
    /// Singles are widened four at a time straight from memory (<c>vcvtps2pd ymm, m128</c>), not loaded eight at a time
    /// and split: in a micro-benchmark of the plane loop over a 3 x 224 x 224 row in L2 (Zen 4, AVX2 paths) the split
    /// form took 0.45 ns a value, this one 0.16 (0.11 with <see cref="Deviation"/>). Widening is exact: the same values.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<double> Low, Vector256<double> High) Load8<T>(ReadOnlySpan<T> values, nuint index)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            ref float fr = ref Unsafe.As<T, float>(ref At(values));
            return Avx.IsSupported
                ? (Widen256(values, index), Widen256(values, index + 4))
                : Vector256.Widen(Vector256.LoadUnsafe(ref fr, index));
        }

        ref double xr = ref Unsafe.As<T, double>(ref At(values));
        return (Vector256.LoadUnsafe(ref xr, index), Vector256.LoadUnsafe(ref xr, index + 4));
    }

    // Eight values from index on as doubles (Singles widened straight from memory, exactly; 512-bit hardware only).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Widen512<T>(ReadOnlySpan<T> values, nuint index)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float)
            ? Avx512F.ConvertToVector512Double(Vector256.LoadUnsafe(ref Unsafe.As<T, float>(ref At(values)), index))
            : Vector512.LoadUnsafe(ref Unsafe.As<T, double>(ref At(values)), index);

    // Four values from index on as doubles (Singles need AVX).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Widen256<T>(ReadOnlySpan<T> values, nuint index)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float)
            ? Avx.ConvertToVector256Double(Vector128.LoadUnsafe(ref Unsafe.As<T, float>(ref At(values)), index))
            : Vector256.LoadUnsafe(ref Unsafe.As<T, double>(ref At(values)), index);

    /// <summary>
    /// <c>x - shift</c>, computed where there are FMA units as <c>x * 1 - shift</c> in one rounding: the same bits as the
    /// subtraction (the product is exact), on the multiply-add units, which leaves the adders to the two accumulations
    /// (each value costs two additions and a multiplication besides; with the subtraction on the adders too they were
    /// the bottleneck).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<double> Deviation(Vector256<double> x, Vector256<double> shift) =>
        Fma.IsSupported ? Fma.MultiplySubtract(x, Vector256<double>.One, shift) : x - shift;

    /// <summary>
    /// The sums and sums of squares of eight lanes, lanes 0-3 and 4-7 in a pair of 256-bit vectors each: the register
    /// accumulators of the lane kernels, a local the JIT keeps in registers across their loops.
    /// </summary>
    /// <remarks>
    /// These loops are not on <see cref="UpdateSlots{T, TOperator}"/>: its operators load and store a slot's sums for
    /// every vector of values, where these keep them in registers across a whole plane or row (the point of the lane
    /// kernels). The additions per lane, and their order, are the same either way.
    /// </remarks>
    private struct EightLaneSums
    {
        private Vector256<double> _sum0;
        private Vector256<double> _sum1;
        private Vector256<double> _squares0;
        private Vector256<double> _squares1;

        /// <summary>The eight lanes from <paramref name="sum"/> and <paramref name="sumOfSquares"/> on.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static EightLaneSums Load(ref double sum, ref double sumOfSquares) => new()
        {
            _sum0 = Vector256.LoadUnsafe(ref sum),
            _sum1 = Vector256.LoadUnsafe(ref sum, 4),
            _squares0 = Vector256.LoadUnsafe(ref sumOfSquares),
            _squares1 = Vector256.LoadUnsafe(ref sumOfSquares, 4),
        };

        /// <summary>Adds the deviations <c>t = x - shift</c> of lanes 0-3 (<paramref name="t0"/>) and 4-7 (<paramref name="t1"/>):
        /// <c>sum += t; sumOfSquares += t * t</c> (a multiply, then an add).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(Vector256<double> t0, Vector256<double> t1)
        {
            _sum0 += t0;
            _sum1 += t1;
            _squares0 += t0 * t0;
            _squares1 += t1 * t1;
        }

        /// <summary>Writes the eight lanes back where <see cref="Load"/> read them.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Store(ref double sum, ref double sumOfSquares)
        {
            _sum0.StoreUnsafe(ref sum);
            _sum1.StoreUnsafe(ref sum, 4);
            _squares0.StoreUnsafe(ref sumOfSquares);
            _squares1.StoreUnsafe(ref sumOfSquares, 4);
        }
    }
}
