using System.Numerics;
using System.Numerics.Tensors;
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
            for (int r = 0; r < rows; r++)
            {
                NormalizeScalarTail(x, mean, scale, offset, destination, r * features, 0);
            }

            return;
        }

        // Per row: the first and last vectors (unaligned, computed before any store so destination may be x), and
        // aligned vectors in between (see AlignmentLead). When a row is a whole number of vectors long every row has
        // the same lead, and four rows share each load of the parameters (without that, the parameter loads cost
        // more than the alignment gains).
        nuint f = (nuint)features, width = (nuint)Vector<T>.Count, last = f - width;
        int i = 0;
        if ((nuint)features * (nuint)Unsafe.SizeOf<T>() % (nuint)Vector<byte>.Count == 0)
        {
            for (; i <= rows - 4; i += 4)
            {
                nuint row = (nuint)i * f;
                nuint lead = AlignmentLead(ref Unsafe.Add(ref dr, row));
                if (lead != 0)
                {
                    // Four rows' first vectors before any store; the loop below then overwrites x from column lead on.
                    var first0 = NormalizeVector(ref xr, ref mr, ref sr, ref or, row, 0);
                    var first1 = NormalizeVector(ref xr, ref mr, ref sr, ref or, row + f, 0);
                    var first2 = NormalizeVector(ref xr, ref mr, ref sr, ref or, row + (2 * f), 0);
                    var first3 = NormalizeVector(ref xr, ref mr, ref sr, ref or, row + (3 * f), 0);
                    var final0 = NormalizeVector(ref xr, ref mr, ref sr, ref or, row, last);
                    var final1 = NormalizeVector(ref xr, ref mr, ref sr, ref or, row + f, last);
                    var final2 = NormalizeVector(ref xr, ref mr, ref sr, ref or, row + (2 * f), last);
                    var final3 = NormalizeVector(ref xr, ref mr, ref sr, ref or, row + (3 * f), last);
                    NormalizeFourRows(ref xr, ref mr, ref sr, ref or, ref dr, row, f, lead, last);
                    first0.StoreUnsafe(ref dr, row);
                    first1.StoreUnsafe(ref dr, row + f);
                    first2.StoreUnsafe(ref dr, row + (2 * f));
                    first3.StoreUnsafe(ref dr, row + (3 * f));
                    final0.StoreUnsafe(ref dr, row + last);
                    final1.StoreUnsafe(ref dr, row + f + last);
                    final2.StoreUnsafe(ref dr, row + (2 * f) + last);
                    final3.StoreUnsafe(ref dr, row + (3 * f) + last);
                }
                else
                {
                    NormalizeFourRows(ref xr, ref mr, ref sr, ref or, ref dr, row, f, 0, last);
                }
            }
        }

        for (; i < rows; i++)
        {
            nuint row = (nuint)i * f;
            nuint lead = AlignmentLead(ref Unsafe.Add(ref dr, row));
            bool ragged = (f - lead) % width != 0;
            var first = lead != 0 ? NormalizeVector(ref xr, ref mr, ref sr, ref or, row, 0) : default;
            var final = ragged ? NormalizeVector(ref xr, ref mr, ref sr, ref or, row, last) : default;
            for (nuint j = lead; j <= last; j += width)
            {
                NormalizeVector(ref xr, ref mr, ref sr, ref or, row, j).StoreUnsafe(ref dr, row + j);
            }

            if (lead != 0)
            {
                first.StoreUnsafe(ref dr, row);
            }

            if (ragged)
            {
                final.StoreUnsafe(ref dr, row + last);
            }
        }
    }

    // Columns from .. last (inclusive, in whole vectors) of four rows, each parameter vector loaded once for the four.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NormalizeFourRows<T>(ref T x, ref T mean, ref T scale, ref T offset, ref T destination, nuint row, nuint f, nuint from, nuint last)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (nuint j = from; j <= last; j += (nuint)Vector<T>.Count)
        {
            var m = Vector.LoadUnsafe(ref mean, j);
            var s = Vector.LoadUnsafe(ref scale, j);
            var o = Vector.LoadUnsafe(ref offset, j);
            nuint k = row + j;
            (((Vector.LoadUnsafe(ref x, k) - m) * s) + o).StoreUnsafe(ref destination, k);
            (((Vector.LoadUnsafe(ref x, k + f) - m) * s) + o).StoreUnsafe(ref destination, k + f);
            (((Vector.LoadUnsafe(ref x, k + (2 * f)) - m) * s) + o).StoreUnsafe(ref destination, k + (2 * f));
            (((Vector.LoadUnsafe(ref x, k + (3 * f)) - m) * s) + o).StoreUnsafe(ref destination, k + (3 * f));
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

    /// <summary>
    /// The affine map with the scale as two factors: <c>destination[j] = ((x[j] - mean[j]) * scale[j]) * rescale[j] + offset[j]</c>.
    /// </summary>
    /// <remarks>
    /// For scales beyond the type's range: with both factors finite, <c>x[j] = mean[j]</c> still gives <c>offset[j]</c>
    /// (no 0 * infinity). Where <c>rescale[j]</c> is 1 the result equals <see cref="Normalize{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>'s
    /// exactly. A rare path: four vectorised passes rather than one fused loop. <paramref name="destination"/> may be
    /// the same memory as <paramref name="x"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">A parameter's length differs from <c>x.Length</c>.</exception>
    public static void NormalizeRescaled<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> rescale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNormalizeArguments(mean.Length, x.Length, mean.Length, scale.Length, offset.Length, destination.Length);
        ThrowHelper.ThrowIfLengthDiffers(mean.Length, rescale.Length, nameof(rescale));
        TensorPrimitives.Subtract(x, mean, destination);
        TensorPrimitives.Multiply(destination, scale, destination);
        TensorPrimitives.Multiply(destination, rescale, destination);
        TensorPrimitives.Add(destination, offset, destination);
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
