using System.Numerics;
using System.Runtime.CompilerServices;
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
        if (!Vector.IsHardwareAccelerated || !Vector<T>.IsSupported || features < Vector<T>.Count)
        {
            for (int i = 0; i < rows; i++)
            {
                NormalizeScalarTail(x, mean, scale, offset, destination, i * features, 0);
            }

            return;
        }

        // Per row: the first and last vectors (unaligned, computed before any store so destination may be x), and
        // aligned vectors in between (see AlignmentLead).
        nuint f = (nuint)features, width = (nuint)Vector<T>.Count, last = f - width;
        for (int i = 0; i < rows; i++)
        {
            nuint row = (nuint)i * f;
            nuint lead = AlignmentLead(ref Unsafe.Add(ref dr, row));
            var first = NormalizeVector(ref xr, ref mr, ref sr, ref or, row, 0);
            var final = NormalizeVector(ref xr, ref mr, ref sr, ref or, row, last);
            nuint j = lead;
            for (; j <= last; j += width)
            {
                NormalizeVector(ref xr, ref mr, ref sr, ref or, row, j).StoreUnsafe(ref dr, row + j);
            }

            if (lead != 0)
            {
                first.StoreUnsafe(ref dr, row);
            }

            if (j != f)
            {
                final.StoreUnsafe(ref dr, row + last);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> NormalizeVector<T>(ref T x, ref T mean, ref T scale, ref T offset, nuint row, nuint column)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        ((Vector.LoadUnsafe(ref x, row + column) - Vector.LoadUnsafe(ref mean, column)) * Vector.LoadUnsafe(ref scale, column))
            + Vector.LoadUnsafe(ref offset, column);

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
