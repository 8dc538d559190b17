using System.Numerics;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The batch-norm affine map of one row: <c>destination[j] = (x[j] - mean[j]) * scale[j] + offset[j]</c>.
    /// </summary>
    /// <remarks>
    /// With <c>scale = gamma / sqrt(variance + epsilon)</c> and <c>offset = beta</c> this is the test-mode forward pass.
    /// The mean is subtracted before scaling (rather than folding it into the offset), so inputs with a large common
    /// offset keep their precision. NaN in <paramref name="x"/> gives NaN at the same place.
    /// <paramref name="destination"/> may be the same memory as <paramref name="x"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">A parameter's length differs from <c>x.Length</c>.</exception>
    public static void Normalize<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNormalizeArguments(x.Length, mean.Length, scale.Length, offset.Length, destination.Length);
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var xv = MemoryMarshal.Cast<T, Vector<T>>(x);
            var mv = MemoryMarshal.Cast<T, Vector<T>>(mean);
            var sv = MemoryMarshal.Cast<T, Vector<T>>(scale);
            var ov = MemoryMarshal.Cast<T, Vector<T>>(offset);
            var dv = MemoryMarshal.Cast<T, Vector<T>>(destination);
            for (int v = 0; v < xv.Length; v++)
            {
                dv[v] = ((xv[v] - mv[v]) * sv[v]) + ov[v];
            }

            j = xv.Length * Vector<T>.Count;
        }

        for (; j < x.Length; j++)
        {
            destination[j] = ((x[j] - mean[j]) * scale[j]) + offset[j];
        }
    }

    /// <summary>Scalar reference of <see cref="Normalize{T}"/>, for tests.</summary>
    public static void NormalizeScalar<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNormalizeArguments(x.Length, mean.Length, scale.Length, offset.Length, destination.Length);
        for (int j = 0; j < x.Length; j++)
        {
            destination[j] = ((x[j] - mean[j]) * scale[j]) + offset[j];
        }
    }

    private static void CheckNormalizeArguments(int length, int meanLength, int scaleLength, int offsetLength, int destinationLength)
    {
        ThrowHelper.ThrowIfLengthDiffers(length, meanLength, "mean");
        ThrowHelper.ThrowIfLengthDiffers(length, scaleLength, "scale");
        ThrowHelper.ThrowIfLengthDiffers(length, offsetLength, "offset");
        ThrowHelper.ThrowIfLengthDiffers(length, destinationLength, "destination");
    }
}
