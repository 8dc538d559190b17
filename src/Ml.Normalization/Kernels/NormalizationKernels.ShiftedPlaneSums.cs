using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The shifted sums of one channel plane: <c>sum = sum_i (plane[i] - shift)</c> and
    /// <c>sumOfSquares = sum_i (plane[i] - shift)^2</c>, in one pass.
    /// </summary>
    /// <remarks>
    /// The spatial layer's statistics pass, with shift the channel's first value: a large common offset (x = 1e4 +
    /// noise) then neither cancels the variance away nor costs the mean its precision. <c>t = plane[i] - shift</c> is
    /// rounded to T; the sums are taken in T within runs of <see cref="PlaneRun"/> values (grouped in
    /// <see cref="PlaneLanes{T}"/> lanes, the squares by fused multiply-adds) and in double across runs, the same bits on
    /// every vector width. NaN or infinity in the plane makes both sums NaN.
    /// </remarks>
    public static (double Sum, double SumOfSquares) ShiftedPlaneSums<T>(ReadOnlySpan<T> plane, T shift)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        SumPlane<T, ShiftedPlaneOperator<T>>(new ShiftedPlaneOperator<T>(ref At(plane), shift), plane.Length);

    // a = b = plane - shift.
    private readonly ref struct ShiftedPlaneOperator<T>(ref T plane, T shift) : IPlaneSumsOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ref T _plane = ref plane;
        private readonly T _shift = shift;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(nuint index, out Vector256<T> addend, out Vector256<T> factor)
        {
            addend = Vector256.LoadUnsafe(ref _plane, index) - Vector256.Create(_shift);
            factor = addend;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void LoadScalar(nuint index, out T addend, out T factor)
        {
            addend = Unsafe.Add(ref _plane, index) - _shift;
            factor = addend;
        }
    }
}
