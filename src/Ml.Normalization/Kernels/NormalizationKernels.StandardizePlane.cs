using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The standardization of one channel plane with the channel's scalars: <c>destination[i] = (plane[i] - mean) / std</c>.
    /// </summary>
    /// <remarks>
    /// The roundings of <see cref="Standardize{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>: the
    /// mean subtracted, then the division, each correctly rounded. NaN in the plane gives NaN at the same place.
    /// <paramref name="destination"/> may be the same memory as <paramref name="plane"/>.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not as long as the plane.</exception>
    public static void StandardizePlane<T>(ReadOnlySpan<T> plane, T mean, T std, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(plane.Length, destination.Length, nameof(destination));
        ref T dr = ref At(destination);
        MapPlane<T, StandardizePlaneOperator<T>>(new StandardizePlaneOperator<T>(ref At(plane), mean, std, ref dr), plane.Length, ref dr);
    }

    // destination = (plane - mean) / std.
    private readonly ref struct StandardizePlaneOperator<T>(ref T plane, T mean, T std, ref T destination) : IPlaneMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ref T _plane = ref plane;
        private readonly ref T _destination = ref destination;
        private readonly T _mean = mean, _std = std;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Compute(nuint index) =>
            (Vector.LoadUnsafe(ref _plane, index) - new Vector<T>(_mean)) / new Vector<T>(_std);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector<T> value, nuint index) => value.StoreUnsafe(ref _destination, index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void InvokeScalar(nuint index) =>
            Unsafe.Add(ref _destination, index) = (Unsafe.Add(ref _plane, index) - _mean) / _std;
    }
}
