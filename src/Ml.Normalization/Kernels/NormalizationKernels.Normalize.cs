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
    /// offset keep their precision, and the three roundings are the ones ONNX's Sub, Mul, Add make, so an exported
    /// model reproduces the outputs exactly. NaN in <paramref name="x"/> gives NaN at the same place.
    /// <paramref name="destination"/> may be the same memory as <paramref name="x"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">A parameter's length differs from <c>x.Length</c>.</exception>
    public static void Normalize<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Normalize(x, 1, mean, scale, offset, destination);

    /// <summary>
    /// The affine map of a row-major <paramref name="rows"/> x F block, F = <c>mean.Length</c>:
    /// <c>destination[i, j] = (x[i, j] - mean[j]) * scale[j] + offset[j]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">x or destination is not rows x F long, or a parameter is not F long.</exception>
    public static void Normalize<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckNormalizeArguments(rows * features, x.Length, features, scale.Length, offset.Length, destination.Length);
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T mr = ref MemoryMarshal.GetReference(mean);
        ref T sr = ref MemoryMarshal.GetReference(scale);
        ref T or = ref MemoryMarshal.GetReference(offset);
        ref T dr = ref MemoryMarshal.GetReference(destination);
        int vectorEnd = Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? features - (features % Vector<T>.Count) : 0;
        nuint f = (nuint)features;
        int i = 0;

        // Four rows per load of the per-feature parameters: they are the majority of the loads otherwise.
        for (; i <= rows - 4; i += 4)
        {
            nuint row = (nuint)(i * features);
            for (int j = 0; j < vectorEnd; j += Vector<T>.Count)
            {
                var m = Vector.LoadUnsafe(ref mr, (nuint)j);
                var s = Vector.LoadUnsafe(ref sr, (nuint)j);
                var o = Vector.LoadUnsafe(ref or, (nuint)j);
                nuint k = row + (nuint)j;
                (((Vector.LoadUnsafe(ref xr, k) - m) * s) + o).StoreUnsafe(ref dr, k);
                (((Vector.LoadUnsafe(ref xr, k + f) - m) * s) + o).StoreUnsafe(ref dr, k + f);
                (((Vector.LoadUnsafe(ref xr, k + (2 * f)) - m) * s) + o).StoreUnsafe(ref dr, k + (2 * f));
                (((Vector.LoadUnsafe(ref xr, k + (3 * f)) - m) * s) + o).StoreUnsafe(ref dr, k + (3 * f));
            }

            for (int r = i; r < i + 4; r++)
            {
                NormalizeScalarTail(x, mean, scale, offset, destination, r * features, vectorEnd);
            }
        }

        for (; i < rows; i++)
        {
            nuint row = (nuint)(i * features);
            for (int j = 0; j < vectorEnd; j += Vector<T>.Count)
            {
                var v = ((Vector.LoadUnsafe(ref xr, row + (nuint)j) - Vector.LoadUnsafe(ref mr, (nuint)j)) * Vector.LoadUnsafe(ref sr, (nuint)j))
                    + Vector.LoadUnsafe(ref or, (nuint)j);
                v.StoreUnsafe(ref dr, row + (nuint)j);
            }

            NormalizeScalarTail(x, mean, scale, offset, destination, (int)row, vectorEnd);
        }
    }

    private static void NormalizeScalarTail<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> offset, Span<T> destination, int rowStart, int from)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = from; j < mean.Length; j++)
        {
            int k = rowStart + j;
            destination[k] = ((x[k] - mean[j]) * scale[j]) + offset[j];
        }
    }

    /// <summary>Scalar reference of <see cref="Normalize{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>, for tests.</summary>
    public static void NormalizeScalar<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNormalizeArguments(mean.Length, x.Length, mean.Length, scale.Length, offset.Length, destination.Length);
        for (int j = 0; j < x.Length; j++)
        {
            destination[j] = ((x[j] - mean[j]) * scale[j]) + offset[j];
        }
    }

    private static void CheckNormalizeArguments(int expectedLength, int length, int features, int scaleLength, int offsetLength, int destinationLength)
    {
        ThrowHelper.ThrowIfLengthDiffers(expectedLength, length, "x");
        ThrowHelper.ThrowIfLengthDiffers(features, scaleLength, "scale");
        ThrowHelper.ThrowIfLengthDiffers(features, offsetLength, "offset");
        ThrowHelper.ThrowIfLengthDiffers(expectedLength, destinationLength, "destination");
    }
}
