using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>Lanes per channel plane of <see cref="AccumulatePlaneMoments{T}"/>.</summary>
    /// <remarks>
    /// 32: each lane's sum is a chain of additions, one per value of the lane, and with 16 lanes (two 512-bit vectors
    /// of sums) the plane loop waited on those chains; 32 lanes keep four vectors of sums and four of squares in flight
    /// (Zen 4, an image row in L2: 11.4 -> 8.1 us a 3 x 224 x 224 row, with the squares' fused multiply-adds).
    /// </remarks>
    public const int LaneGroup = 32;

    /// <summary>
    /// The other lane count <see cref="AccumulatePlaneMoments{T}"/> takes, for callers summing many short planes (the
    /// spatial layer's 7 x 7 to 14 x 14): every call loads and stores its lanes' sums, and 32 lanes cost a 7 x 7 plane a
    /// third more time than 16.
    /// </summary>
    public const int ShortPlaneLaneGroup = 16;

    /// <summary>Lanes per group of <see cref="AccumulateLaneMoments{T}"/>: lane counts are multiples of it.</summary>
    public const int InterleavedLaneGroup = 8;

    /// <summary>
    /// Adds <paramref name="values"/> to shifted sums kept per lane, value i going to lane i mod P
    /// (P = <c>laneShift.Length</c>): <c>t = (double)values[i] - laneShift[l]; laneSum[l] += t;
    /// laneSumOfSquares[l] = fma(t, t, laneSumOfSquares[l])</c> (the square added in one rounding).
    /// </summary>
    /// <remarks>
    /// The per-channel statistics of a channels-first plane (the P lanes of its channel) or of a channels-last row (lane
    /// l belonging to channel l mod C, P a multiple of C). Every lane adds its values in index order, a vector lane per
    /// sum lane, so the sums do not depend on the hardware's vector width; the caller folds the lanes of a channel in a
    /// fixed order. The sums are double whatever the value type (Single values are widened a vector at a time); the
    /// values must be finite and the shifts set (the caller takes the general path otherwise). Where there is no
    /// multiply-add unit the fused multiply-add is computed in software, with the same single rounding.
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
            start = lanes == 6 * InterleavedLaneGroup
                ? AccumulateLanes48(values, laneShift, laneSum, laneSumOfSquares)
                : AccumulateLaneGroups(values, laneShift, laneSum, laneSumOfSquares);
        }

        // What the register loops leave (a last, partial chunk), or all of it without 256-bit vectors: the lanes as
        // slots, so each lane adds its values in index order, with the operations of the register loops.
        if (start < values.Length)
        {
            UpdateSlots<T, LaneMomentsOperator>(
                new LaneMomentsOperator(ref At(laneShift), ref At(laneSum), ref At(laneSumOfSquares)),
                values[start..],
                lanes);
        }
    }

    /// <summary>
    /// <see cref="AccumulateLaneMoments{T}"/> for one channel plane: one shift for all the lanes
    /// (<see cref="LaneGroup"/>, or <see cref="ShortPlaneLaneGroup"/> for short planes: the length of the lane spans), the
    /// lanes' sums kept in registers for the whole plane. The same additions in the same order, so the same bits.
    /// </summary>
    /// <exception cref="ArgumentException">A lane span is neither <see cref="LaneGroup"/> nor <see cref="ShortPlaneLaneGroup"/> long, or they differ.</exception>
    public static void AccumulatePlaneMoments<T>(ReadOnlySpan<T> plane, double shift, Span<double> laneSum, Span<double> laneSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int laneCount = laneSum.Length;
        if (laneCount != ShortPlaneLaneGroup)
        {
            ThrowHelper.ThrowIfLengthDiffers(LaneGroup, laneCount, nameof(laneSum));
        }

        ThrowHelper.ThrowIfLengthDiffers(laneCount, laneSumOfSquares.Length, nameof(laneSumOfSquares));
        ref double sr = ref At(laneSum);
        ref double qr = ref At(laneSumOfSquares);
        int i = 0;
        if (laneCount == ShortPlaneLaneGroup)
        {
            i = AccumulateShortPlane(plane, shift, ref sr, ref qr);
        }
        else if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            // Eight lanes to a 512-bit register, four registers of sums and four of squares: four independent chains of
            // additions each, where two left the loop waiting on the adders' latency.
            var sum0 = Vector512.LoadUnsafe(ref sr);
            var sum1 = Vector512.LoadUnsafe(ref sr, 8);
            var sum2 = Vector512.LoadUnsafe(ref sr, 16);
            var sum3 = Vector512.LoadUnsafe(ref sr, 24);
            var squares0 = Vector512.LoadUnsafe(ref qr);
            var squares1 = Vector512.LoadUnsafe(ref qr, 8);
            var squares2 = Vector512.LoadUnsafe(ref qr, 16);
            var squares3 = Vector512.LoadUnsafe(ref qr, 24);
            var k = Vector512.Create(shift);
            for (; i <= plane.Length - LaneGroup; i += LaneGroup)
            {
                var t0 = Deviation(Widen512(plane, (nuint)i), k);
                var t1 = Deviation(Widen512(plane, (nuint)(i + 8)), k);
                var t2 = Deviation(Widen512(plane, (nuint)(i + 16)), k);
                var t3 = Deviation(Widen512(plane, (nuint)(i + 24)), k);
                sum0 += t0;
                sum1 += t1;
                sum2 += t2;
                sum3 += t3;
                squares0 = Vector512.FusedMultiplyAdd(t0, t0, squares0);
                squares1 = Vector512.FusedMultiplyAdd(t1, t1, squares1);
                squares2 = Vector512.FusedMultiplyAdd(t2, t2, squares2);
                squares3 = Vector512.FusedMultiplyAdd(t3, t3, squares3);
            }

            sum0.StoreUnsafe(ref sr);
            sum1.StoreUnsafe(ref sr, 8);
            sum2.StoreUnsafe(ref sr, 16);
            sum3.StoreUnsafe(ref sr, 24);
            squares0.StoreUnsafe(ref qr);
            squares1.StoreUnsafe(ref qr, 8);
            squares2.StoreUnsafe(ref qr, 16);
            squares3.StoreUnsafe(ref qr, 24);
        }
        else if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            // Lanes 0-15 and 16-31 in registers, a half of the plane's groups of 32 values at a time (the 32 lanes'
            // sums and squares would fill all sixteen 256-bit registers).
            var k = Vector256.Create(shift);
            for (int half = 0; half < LaneGroup; half += 16)
            {
                ref double hs = ref Unsafe.Add(ref sr, half);
                ref double hq = ref Unsafe.Add(ref qr, half);
                var low = EightLaneSums.Load(ref hs, ref hq);
                var high = EightLaneSums.Load(ref Unsafe.Add(ref hs, 8), ref Unsafe.Add(ref hq, 8));
                for (i = 0; i <= plane.Length - LaneGroup; i += LaneGroup)
                {
                    var (x0, x1) = Load8(plane, (nuint)(i + half));
                    var (x2, x3) = Load8(plane, (nuint)(i + half + 8));
                    low.Add(Deviation(x0, k), Deviation(x1, k));
                    high.Add(Deviation(x2, k), Deviation(x3, k));
                }

                low.Store(ref hs, ref hq);
                high.Store(ref Unsafe.Add(ref hs, 8), ref Unsafe.Add(ref hq, 8));
            }
        }

        // The last, partial group of lanes (all of the plane without 256-bit vectors): each lane takes at most one value
        // more, whole eights of lanes a vector at a time (a 7 x 7 or 28 x 28 plane leaves 17 or 16 values), the rest
        // lane by lane. Not on UpdateSlots: the call and a copy of the shift per lane for its operator measured 20%
        // slower on 10 x 10 planes.
        int l = 0;
        if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            var k = Vector256.Create(shift);
            for (; i <= plane.Length - InterleavedLaneGroup; i += InterleavedLaneGroup, l += InterleavedLaneGroup)
            {
                var lanes = EightLaneSums.Load(ref Unsafe.Add(ref sr, l), ref Unsafe.Add(ref qr, l));
                var (x0, x1) = Load8(plane, (nuint)i);
                lanes.Add(Deviation(x0, k), Deviation(x1, k));
                lanes.Store(ref Unsafe.Add(ref sr, l), ref Unsafe.Add(ref qr, l));
            }
        }

        for (; i < plane.Length; i++)
        {
            double t = double.CreateTruncating(plane[i]) - shift;
            laneSum[l] += t;
            laneSumOfSquares[l] = double.FusedMultiplyAdd(t, t, laneSumOfSquares[l]);
            l = l == laneCount - 1 ? 0 : l + 1;
        }
    }

    // The whole groups of 16 values of a plane summed into ShortPlaneLaneGroup lanes (two 512-bit vectors of sums and two
    // of squares, or four 256-bit ones); returns where they end. Fewer lanes than LaneGroup, fewer loads and stores.
    private static int AccumulateShortPlane<T>(ReadOnlySpan<T> plane, double shift, ref double sr, ref double qr)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Lanes = ShortPlaneLaneGroup;
        int i = 0;
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            var sum0 = Vector512.LoadUnsafe(ref sr);
            var sum1 = Vector512.LoadUnsafe(ref sr, 8);
            var squares0 = Vector512.LoadUnsafe(ref qr);
            var squares1 = Vector512.LoadUnsafe(ref qr, 8);
            var k = Vector512.Create(shift);
            for (; i <= plane.Length - Lanes; i += Lanes)
            {
                var t0 = Deviation(Widen512(plane, (nuint)i), k);
                var t1 = Deviation(Widen512(plane, (nuint)(i + 8)), k);
                sum0 += t0;
                sum1 += t1;
                squares0 = Vector512.FusedMultiplyAdd(t0, t0, squares0);
                squares1 = Vector512.FusedMultiplyAdd(t1, t1, squares1);
            }

            sum0.StoreUnsafe(ref sr);
            sum1.StoreUnsafe(ref sr, 8);
            squares0.StoreUnsafe(ref qr);
            squares1.StoreUnsafe(ref qr, 8);
        }
        else if (Vector256.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            var low = EightLaneSums.Load(ref sr, ref qr);
            var high = EightLaneSums.Load(ref Unsafe.Add(ref sr, 8), ref Unsafe.Add(ref qr, 8));
            var k = Vector256.Create(shift);
            for (; i <= plane.Length - Lanes; i += Lanes)
            {
                var (x0, x1) = Load8(plane, (nuint)i);
                var (x2, x3) = Load8(plane, (nuint)(i + 8));
                low.Add(Deviation(x0, k), Deviation(x1, k));
                high.Add(Deviation(x2, k), Deviation(x3, k));
            }

            low.Store(ref sr, ref qr);
            high.Store(ref Unsafe.Add(ref sr, 8), ref Unsafe.Add(ref qr, 8));
        }

        return i;
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
    /// <see cref="AccumulateLaneGroups{T}"/> for 48 lanes (three interleaved channels, RGB, over 16 pixels) in one pass
    /// over the values: with 512-bit vectors six registers of sums and six of squares, the shifts in six more; with
    /// 256-bit vectors lanes 0-23 and then 24-47, the shifts loaded in each step (registers run short). The same
    /// additions in the same order.
    /// </summary>
    /// <remarks>
    /// 48 rather than 24 lanes: each lane's sum is a chain of additions, and with three vectors of sums the loop waited
    /// on the adders' latency.
    /// </remarks>
    private static int AccumulateLanes48<T>(ReadOnlySpan<T> values, ReadOnlySpan<double> laneShift, Span<double> laneSum, Span<double> laneSumOfSquares)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int Lanes = 48;
        int chunks = values.Length / Lanes;
        ref double kr = ref At(laneShift);
        ref double sr = ref At(laneSum);
        ref double qr = ref At(laneSumOfSquares);
        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            Vector512<double> k0 = Vector512.LoadUnsafe(ref kr), k1 = Vector512.LoadUnsafe(ref kr, 8), k2 = Vector512.LoadUnsafe(ref kr, 16);
            Vector512<double> k3 = Vector512.LoadUnsafe(ref kr, 24), k4 = Vector512.LoadUnsafe(ref kr, 32), k5 = Vector512.LoadUnsafe(ref kr, 40);
            Vector512<double> s0 = Vector512.LoadUnsafe(ref sr), s1 = Vector512.LoadUnsafe(ref sr, 8), s2 = Vector512.LoadUnsafe(ref sr, 16);
            Vector512<double> s3 = Vector512.LoadUnsafe(ref sr, 24), s4 = Vector512.LoadUnsafe(ref sr, 32), s5 = Vector512.LoadUnsafe(ref sr, 40);
            Vector512<double> q0 = Vector512.LoadUnsafe(ref qr), q1 = Vector512.LoadUnsafe(ref qr, 8), q2 = Vector512.LoadUnsafe(ref qr, 16);
            Vector512<double> q3 = Vector512.LoadUnsafe(ref qr, 24), q4 = Vector512.LoadUnsafe(ref qr, 32), q5 = Vector512.LoadUnsafe(ref qr, 40);
            for (int c = 0; c < chunks; c++)
            {
                nuint i = (nuint)(c * Lanes);
                var t0 = Deviation(Widen512(values, i), k0);
                var t1 = Deviation(Widen512(values, i + 8), k1);
                var t2 = Deviation(Widen512(values, i + 16), k2);
                var t3 = Deviation(Widen512(values, i + 24), k3);
                var t4 = Deviation(Widen512(values, i + 32), k4);
                var t5 = Deviation(Widen512(values, i + 40), k5);
                s0 += t0;
                s1 += t1;
                s2 += t2;
                s3 += t3;
                s4 += t4;
                s5 += t5;
                q0 = Vector512.FusedMultiplyAdd(t0, t0, q0);
                q1 = Vector512.FusedMultiplyAdd(t1, t1, q1);
                q2 = Vector512.FusedMultiplyAdd(t2, t2, q2);
                q3 = Vector512.FusedMultiplyAdd(t3, t3, q3);
                q4 = Vector512.FusedMultiplyAdd(t4, t4, q4);
                q5 = Vector512.FusedMultiplyAdd(t5, t5, q5);
            }

            s0.StoreUnsafe(ref sr);
            s1.StoreUnsafe(ref sr, 8);
            s2.StoreUnsafe(ref sr, 16);
            s3.StoreUnsafe(ref sr, 24);
            s4.StoreUnsafe(ref sr, 32);
            s5.StoreUnsafe(ref sr, 40);
            q0.StoreUnsafe(ref qr);
            q1.StoreUnsafe(ref qr, 8);
            q2.StoreUnsafe(ref qr, 16);
            q3.StoreUnsafe(ref qr, 24);
            q4.StoreUnsafe(ref qr, 32);
            q5.StoreUnsafe(ref qr, 40);
            return chunks * Lanes;
        }

        for (int half = 0; half < Lanes; half += 24)
        {
            ref double hk = ref Unsafe.Add(ref kr, half);
            ref double hs = ref Unsafe.Add(ref sr, half);
            ref double hq = ref Unsafe.Add(ref qr, half);
            var lanes0 = EightLaneSums.Load(ref hs, ref hq);
            var lanes8 = EightLaneSums.Load(ref Unsafe.Add(ref hs, 8), ref Unsafe.Add(ref hq, 8));
            var lanes16 = EightLaneSums.Load(ref Unsafe.Add(ref hs, 16), ref Unsafe.Add(ref hq, 16));
            for (int c = 0; c < chunks; c++)
            {
                nuint i = (nuint)((c * Lanes) + half);
                var (x0, x1) = Load8(values, i);
                var (x2, x3) = Load8(values, i + 8);
                var (x4, x5) = Load8(values, i + 16);
                var t0 = Deviation(x0, Vector256.LoadUnsafe(ref hk));
                var t1 = Deviation(x1, Vector256.LoadUnsafe(ref hk, 4));
                var t2 = Deviation(x2, Vector256.LoadUnsafe(ref hk, 8));
                var t3 = Deviation(x3, Vector256.LoadUnsafe(ref hk, 12));
                var t4 = Deviation(x4, Vector256.LoadUnsafe(ref hk, 16));
                var t5 = Deviation(x5, Vector256.LoadUnsafe(ref hk, 20));
                lanes0.Add(t0, t1);
                lanes8.Add(t2, t3);
                lanes16.Add(t4, t5);
            }

            lanes0.Store(ref hs, ref hq);
            lanes8.Store(ref Unsafe.Add(ref hs, 8), ref Unsafe.Add(ref hq, 8));
            lanes16.Store(ref Unsafe.Add(ref hs, 16), ref Unsafe.Add(ref hq, 16));
        }

        return chunks * Lanes;
    }

    /// <summary>Eight values from <paramref name="index"/> on, widened to double: two vectors of four.</summary>
    /// <remarks>
    /// Singles are widened four at a time straight from memory (<c>vcvtps2pd ymm, m128</c>), not loaded eight at a time
    /// and split: in a micro-benchmark of the plane loop over a 3 x 224 x 224 row in L2 (Zen 4, AVX2 paths) the split
    /// form took 0.45 ns a value, this one 0.16 (0.11 with <see cref="Deviation(Vector256{double}, Vector256{double})"/>). Widening is exact: the same values.
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

    /// <summary><see cref="Deviation(Vector256{double}, Vector256{double})"/> in 512-bit registers (512-bit hardware only).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Deviation(Vector512<double> x, Vector512<double> shift) =>
        Avx512F.FusedMultiplySubtract(x, Vector512<double>.One, shift);

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
        /// <c>sum += t; sumOfSquares = fma(t, t, sumOfSquares)</c> (in software, with the same one rounding, without
        /// multiply-add units).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(Vector256<double> t0, Vector256<double> t1)
        {
            _sum0 += t0;
            _sum1 += t1;
            _squares0 = Vector256.FusedMultiplyAdd(t0, t0, _squares0);
            _squares1 = Vector256.FusedMultiplyAdd(t1, t1, _squares1);
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

    // With t = x - shift: sum += t, sumOfSquares = fma(t, t, sumOfSquares) (the lane kernels' operations, for what their
    // register loops leave and for hardware without 256-bit vectors).
    private readonly ref struct LaneMomentsOperator(ref double shift, ref double sum, ref double sumOfSquares) : ISlotOperator
    {
        private readonly ref double _shift = ref shift;
        private readonly ref double _sum = ref sum;
        private readonly ref double _sumOfSquares = ref sumOfSquares;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(Vector<double> x, nuint slot)
        {
            var t = x - Vector.LoadUnsafe(ref _shift, slot);
            (Vector.LoadUnsafe(ref _sum, slot) + t).StoreUnsafe(ref _sum, slot);
            Vector.FusedMultiplyAdd(t, t, Vector.LoadUnsafe(ref _sumOfSquares, slot)).StoreUnsafe(ref _sumOfSquares, slot);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(double x, nuint slot)
        {
            double t = x - Unsafe.Add(ref _shift, slot);
            Unsafe.Add(ref _sum, slot) += t;
            ref double q = ref Unsafe.Add(ref _sumOfSquares, slot);
            q = double.FusedMultiplyAdd(t, t, q);
        }
    }
}
