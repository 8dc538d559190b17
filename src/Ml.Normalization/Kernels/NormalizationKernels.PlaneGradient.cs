using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The input gradient of one channel plane: <c>dx[i] = dyScale * dy[i] + xHatScale * xHat[i] + offset</c>.
    /// </summary>
    /// <remarks>
    /// The spatial layer's backward map, with n the channel's value count, <c>dyScale = gamma * inverseStd</c>,
    /// <c>xHatScale = -dyScale * dGamma / n</c> and <c>offset = -dyScale * dBeta / n</c>: the closed form
    /// <see cref="BatchNormBackward{T}"/> uses, in its order of operations (each rounded to T, no fused multiply-add).
    /// <paramref name="dx"/> may be the same memory as <paramref name="dy"/>.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="xHat"/> or <paramref name="dx"/> is not as long as <paramref name="dy"/>.</exception>
    public static void PlaneGradient<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat, T dyScale, T xHatScale, T offset, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(dy.Length, xHat.Length, nameof(xHat));
        ThrowHelper.ThrowIfLengthDiffers(dy.Length, dx.Length, nameof(dx));
        ref T dr = ref At(dx);
        MapPlane<T, PlaneGradientOperator<T>>(new PlaneGradientOperator<T>(ref At(dy), ref At(xHat), dyScale, xHatScale, offset, ref dr), dy.Length, ref dr);
    }

    // dx = ((dyScale * dy) + (xHatScale * xHat)) + offset.
    private readonly ref struct PlaneGradientOperator<T>(ref T dy, ref T xHat, T dyScale, T xHatScale, T offset, ref T dx) : IPlaneMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ref T _dy = ref dy;
        private readonly ref T _xHat = ref xHat;
        private readonly ref T _dx = ref dx;
        private readonly T _dyScale = dyScale, _xHatScale = xHatScale, _offset = offset;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Compute(nuint index) =>
            (new Vector<T>(_dyScale) * Vector.LoadUnsafe(ref _dy, index)) + (new Vector<T>(_xHatScale) * Vector.LoadUnsafe(ref _xHat, index)) + new Vector<T>(_offset);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector<T> value, nuint index) => value.StoreUnsafe(ref _dx, index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void InvokeScalar(nuint index) =>
            Unsafe.Add(ref _dx, index) = (_dyScale * Unsafe.Add(ref _dy, index)) + (_xHatScale * Unsafe.Add(ref _xHat, index)) + _offset;
    }
}
