using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The gradient sums of one channel plane, in one pass over both spans: <c>dBeta = sum_i dy[i]</c> and
    /// <c>dGamma = sum_i dy[i] * xHat[i]</c>.
    /// </summary>
    /// <remarks>
    /// The spatial layer's backward reduction. The sums are taken in T within runs of <see cref="PlaneRun"/> values
    /// (grouped in <see cref="PlaneLanes{T}"/> lanes, the products by fused multiply-adds) and in double across runs,
    /// the same bits on every vector width.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="xHat"/> is not as long as <paramref name="dy"/>.</exception>
    public static (double DBeta, double DGamma) PlaneGradientSums<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(dy.Length, xHat.Length, nameof(xHat));
        return SumPlane<T, PlaneGradientSumsOperator<T>>(new PlaneGradientSumsOperator<T>(ref At(dy), ref At(xHat)), dy.Length);
    }

    // a = dy, b = xHat.
    private readonly ref struct PlaneGradientSumsOperator<T>(ref T dy, ref T xHat) : IPlaneSumsOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ref T _dy = ref dy;
        private readonly ref T _xHat = ref xHat;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Load(nuint index, out Vector256<T> addend, out Vector256<T> factor)
        {
            addend = Vector256.LoadUnsafe(ref _dy, index);
            factor = Vector256.LoadUnsafe(ref _xHat, index);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void LoadScalar(nuint index, out T addend, out T factor)
        {
            addend = Unsafe.Add(ref _dy, index);
            factor = Unsafe.Add(ref _xHat, index);
        }
    }
}
