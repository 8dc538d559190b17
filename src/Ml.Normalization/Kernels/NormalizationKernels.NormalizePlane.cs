using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The affine map of one channel plane with the channel's scalars:
    /// <c>destination[i] = (plane[i] - mean) * scale + offset</c>.
    /// </summary>
    /// <remarks>
    /// The spatial layer's test-mode forward pass, with <c>scale = gamma / sqrt(variance + epsilon)</c> and
    /// <c>offset = beta</c>: the roundings of <see cref="Normalize{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>
    /// (the mean subtracted first, then scale, then offset). NaN in the plane gives NaN at the same place.
    /// <paramref name="destination"/> may be the same memory as <paramref name="plane"/>.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not as long as the plane.</exception>
    public static void NormalizePlane<T>(ReadOnlySpan<T> plane, T mean, T scale, T offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(plane.Length, destination.Length, nameof(destination));
        ref T dr = ref At(destination);
        MapPlane<T, NormalizePlaneOperator<T>>(new NormalizePlaneOperator<T>(ref At(plane), mean, scale, offset, ref dr), plane.Length, ref dr);
    }

    // destination = ((plane - mean) * scale) + offset.
    private readonly ref struct NormalizePlaneOperator<T>(ref T plane, T mean, T scale, T offset, ref T destination) : IPlaneMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ref T _plane = ref plane;
        private readonly ref T _destination = ref destination;
        private readonly T _mean = mean, _scale = scale, _offset = offset;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Compute(nuint index) =>
            ((Vector.LoadUnsafe(ref _plane, index) - new Vector<T>(_mean)) * new Vector<T>(_scale)) + new Vector<T>(_offset);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector<T> value, nuint index) => value.StoreUnsafe(ref _destination, index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void InvokeScalar(nuint index) =>
            Unsafe.Add(ref _destination, index) = ((Unsafe.Add(ref _plane, index) - _mean) * _scale) + _offset;
    }
}
