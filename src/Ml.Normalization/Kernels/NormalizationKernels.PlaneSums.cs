using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ml.Normalization.Kernels;

// The driver of the per-plane reduction PlaneGradientSums: two sums over one contiguous span
// (a channel plane of an NCHW block), sum a and sum a * b, with a and b supplied per element by an operator. The
// row drivers in Common sum down columns, where each column is its own lane; a plane sums to one scalar, so the
// grouping into lanes is fixed here instead: PlaneLanes lanes, element i of a run in lane i % PlaneLanes, each lane
// summed in index order in T, the lanes added by a fixed halving tree, the run totals in double. 256-bit vectors hold
// four accumulators of that grouping, and no vectors (DOTNET_EnableHWIntrinsic=0, or no 256-bit hardware) the same
// lanes one element at a time, so the sums do not depend on the machine's vector width.
internal static partial class NormalizationKernels
{
    /// <summary>Values of a plane summed in T before the run's total is added in double.</summary>
    /// <remarks>Each lane then sums PlaneRun / PlaneLanes values (32 floats): a few ulps of float error per run, where
    /// the double totals take the plane's length without loss.</remarks>
    internal const int PlaneRun = 1024;

    /// <summary>An element source of <see cref="SumPlane{T, TOperator}"/>: the driver adds a and a * b.</summary>
    private interface IPlaneSumsOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>a and b of the 256-bit vector at <paramref name="index"/>.</summary>
        void Load(nuint index, out Vector256<T> addend, out Vector256<T> factor);

        /// <summary>a and b of the element at <paramref name="index"/>, with the same operations.</summary>
        void LoadScalar(nuint index, out T addend, out T factor);
    }

    /// <summary>The number of lanes a plane's sums are grouped into: four 256-bit vectors (32 floats, 16 doubles).</summary>
    internal static int PlaneLanes<T>()
        where T : unmanaged => 4 * Vector256<T>.Count;

    // Sum a and sum fma(a, b, .) over elements 0 .. length - 1, in runs of PlaneRun: in each run, lane k of PlaneLanes
    // adds the elements i = k (mod PlaneLanes) in order (the products by fused multiply-adds, one rounding each), the
    // lanes are added by halving (lane k += lane k + half, half = PlaneLanes / 2 .. 1), and lane 0 goes into the
    // double total. Never inlined, as the row drivers.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (double Sum, double SumOfProducts) SumPlane<T, TOperator>(TOperator op, int length)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IPlaneSumsOperator<T>, allows ref struct
    {
        int lanes = PlaneLanes<T>();
        Span<T> sumLanes = stackalloc T[lanes];
        Span<T> productLanes = stackalloc T[lanes];
        ref T s = ref At(sumLanes);
        ref T p = ref At(productLanes);
        bool vectors = Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported;
        double sum = 0, sumOfProducts = 0;
        for (int start = 0; start < length; start += PlaneRun)
        {
            nuint i = (nuint)start;
            nuint end = (nuint)Math.Min(length, start + PlaneRun);
            int half = lanes / 2;
            if (vectors)
            {
                nuint width = (nuint)Vector256<T>.Count;
                nuint vectorEnd = end - ((end - i) % (nuint)lanes);
                Vector256<T> s0 = Vector256<T>.Zero, s1 = s0, s2 = s0, s3 = s0;
                Vector256<T> p0 = s0, p1 = s0, p2 = s0, p3 = s0;
                for (; i < vectorEnd; i += (nuint)lanes)
                {
                    op.Load(i, out var a0, out var b0);
                    op.Load(i + width, out var a1, out var b1);
                    op.Load(i + (2 * width), out var a2, out var b2);
                    op.Load(i + (3 * width), out var a3, out var b3);
                    s0 += a0;
                    s1 += a1;
                    s2 += a2;
                    s3 += a3;
                    p0 = FusedMultiplyAdd(a0, b0, p0);
                    p1 = FusedMultiplyAdd(a1, b1, p1);
                    p2 = FusedMultiplyAdd(a2, b2, p2);
                    p3 = FusedMultiplyAdd(a3, b3, p3);
                }

                if (i == end)
                {
                    // No tail: the halving's first two levels (lane k += lane k + 2 * width, then k + width) are
                    // these vector additions, and the rest runs on one vector's lanes.
                    ((s0 + s2) + (s1 + s3)).StoreUnsafe(ref s);
                    ((p0 + p2) + (p1 + p3)).StoreUnsafe(ref p);
                    half = (int)width / 2;
                }
                else
                {
                    s0.StoreUnsafe(ref s);
                    s1.StoreUnsafe(ref s, width);
                    s2.StoreUnsafe(ref s, 2 * width);
                    s3.StoreUnsafe(ref s, 3 * width);
                    p0.StoreUnsafe(ref p);
                    p1.StoreUnsafe(ref p, width);
                    p2.StoreUnsafe(ref p, 2 * width);
                    p3.StoreUnsafe(ref p, 3 * width);
                }
            }
            else
            {
                sumLanes.Clear();
                productLanes.Clear();
            }

            // The run's tail (all of it without vectors), each element into its lane. Runs start at multiples of
            // PlaneRun, a multiple of the lane count, so the lane is i % lanes.
            for (; i < end; i++)
            {
                op.LoadScalar(i, out T a, out T b);
                nuint lane = i % (nuint)lanes;
                Unsafe.Add(ref s, lane) += a;
                Unsafe.Add(ref p, lane) = T.FusedMultiplyAdd(a, b, Unsafe.Add(ref p, lane));
            }

            for (; half > 0; half /= 2)
            {
                for (int k = 0; k < half; k++)
                {
                    Unsafe.Add(ref s, k) += Unsafe.Add(ref s, k + half);
                    Unsafe.Add(ref p, k) += Unsafe.Add(ref p, k + half);
                }
            }

            sum += double.CreateTruncating(s);
            sumOfProducts += double.CreateTruncating(p);
        }

        return (sum, sumOfProducts);
    }

    // (left * right) + addend rounded once, for the element types the kernels use.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> FusedMultiplyAdd<T>(Vector256<T> left, Vector256<T> right, Vector256<T> addend)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            return Vector256.FusedMultiplyAdd(left.AsSingle(), right.AsSingle(), addend.AsSingle()).As<float, T>();
        }

        if (typeof(T) == typeof(double))
        {
            return Vector256.FusedMultiplyAdd(left.AsDouble(), right.AsDouble(), addend.AsDouble()).As<double, T>();
        }

        throw new NotSupportedException($"No vector fused multiply-add for {typeof(T).Name}.");
    }
}
