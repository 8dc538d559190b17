using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The training-mode forward pass of one channel plane, keeping the normalized input for the backward pass:
    /// <c>xHat[i] = ((plane[i] - meanHigh) - meanLow) * inverseStd</c> and <c>destination[i] = gamma * xHat[i] + beta</c>.
    /// </summary>
    /// <remarks>
    /// The spatial layer's normalization, with the channel's mean as two values of T, <c>meanHigh = (T)mean</c> and
    /// <c>meanLow = (T)(mean - meanHigh)</c>: <c>plane[i] - meanHigh</c> is exact or nearly so for values near the mean,
    /// so a large common offset (x = 1e4 + noise) keeps the precision of the values' spread, and no value of the data
    /// serves as an offset that an outlier could make far from the rest. Each operation is rounded to T (no fused
    /// multiply-add). NaN in the plane gives NaN at the same place in both outputs. <paramref name="destination"/> may be
    /// the same memory as <paramref name="plane"/>.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="xHat"/> or <paramref name="destination"/> is not as long as the plane.</exception>
    public static void NormalizePlaneTraining<T>(ReadOnlySpan<T> plane, T meanHigh, T meanLow, T inverseStd, T gamma, T beta, Span<T> xHat, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(plane.Length, xHat.Length, nameof(xHat));
        ThrowHelper.ThrowIfLengthDiffers(plane.Length, destination.Length, nameof(destination));
        ref T dr = ref At(destination);

        // The plane is one row with scalar parameters; stores aligned to destination, and xHat written at the same
        // offsets (the layer places it at the same alignment as destination).
        MapPlane<T, NormalizePlaneTrainingOperator<T>>(
            new NormalizePlaneTrainingOperator<T>(ref At(plane), meanHigh, meanLow, inverseStd, gamma, beta, ref At(xHat), ref dr),
            plane.Length,
            ref dr);
    }

    // xHat = ((plane - meanHigh) - meanLow) * inverseStd; destination = (gamma * xHat) + beta.
    private readonly ref struct NormalizePlaneTrainingOperator<T>(ref T plane, T meanHigh, T meanLow, T inverseStd, T gamma, T beta, ref T xHat, ref T destination) : IPlaneMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ref T _plane = ref plane;
        private readonly ref T _xHat = ref xHat;
        private readonly ref T _destination = ref destination;
        private readonly T _meanHigh = meanHigh, _meanLow = meanLow, _inverseStd = inverseStd, _gamma = gamma, _beta = beta;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Compute(nuint index) =>
            ((Vector.LoadUnsafe(ref _plane, index) - new Vector<T>(_meanHigh)) - new Vector<T>(_meanLow)) * new Vector<T>(_inverseStd);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector<T> value, nuint index)
        {
            value.StoreUnsafe(ref _xHat, index);
            ((new Vector<T>(_gamma) * value) + new Vector<T>(_beta)).StoreUnsafe(ref _destination, index);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void InvokeScalar(nuint index)
        {
            T h = ((Unsafe.Add(ref _plane, index) - _meanHigh) - _meanLow) * _inverseStd;
            Unsafe.Add(ref _xHat, index) = h;
            Unsafe.Add(ref _destination, index) = (_gamma * h) + _beta;
        }
    }
}
