using System.Numerics;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// Dropout with a recomputable mask: <c>destination[i] = DropoutMask.Hash(key, firstIndex + i) &gt;= keepThreshold ? x[i] * scale : 0</c>.
    /// </summary>
    /// <remarks>
    /// Inverted dropout uses <c>scale = 1 / (1 - p)</c>, standard dropout <c>scale = 1</c>; the backward pass is the
    /// same call on the upstream gradient with the same key. A dropped NaN becomes 0, a kept one stays NaN.
    /// <paramref name="destination"/> may be the same memory as <paramref name="x"/>.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="x"/>.</exception>
    public static void Dropout(ReadOnlySpan<float> x, Span<float> destination, ulong key, uint keepThreshold, float scale, uint firstIndex = 0)
    {
        if (destination.Length < x.Length)
        {
            ThrowHelper.ThrowDestinationTooShort(nameof(destination), x.Length, destination.Length);
        }

        int i = 0;
        if (Vector.IsHardwareAccelerated && Vector<float>.Count == Vector<uint>.Count)
        {
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var dv = MemoryMarshal.Cast<float, Vector<float>>(destination);
            var indices = Vector<uint>.Indices + new Vector<uint>(firstIndex);
            var step = new Vector<uint>((uint)Vector<uint>.Count);
            var threshold = new Vector<uint>(keepThreshold);
            var scaleVector = new Vector<float>(scale);
            for (int v = 0; v < xv.Length; v++)
            {
                var keep = Vector.AsVectorSingle(Vector.GreaterThanOrEqual(DropoutMask.Hash(key, indices), threshold));
                dv[v] = Vector.ConditionalSelect(keep, xv[v] * scaleVector, Vector<float>.Zero);
                indices += step;
            }

            i = xv.Length * Vector<float>.Count;
        }

        DropoutScalarFrom(i, x, destination, key, keepThreshold, scale, firstIndex);
    }

    /// <summary>Scalar reference of <see cref="Dropout(ReadOnlySpan{float}, Span{float}, ulong, uint, float, uint)"/>, for tests.</summary>
    public static void DropoutScalar(ReadOnlySpan<float> x, Span<float> destination, ulong key, uint keepThreshold, float scale, uint firstIndex = 0)
    {
        if (destination.Length < x.Length)
        {
            ThrowHelper.ThrowDestinationTooShort(nameof(destination), x.Length, destination.Length);
        }

        DropoutScalarFrom(0, x, destination, key, keepThreshold, scale, firstIndex);
    }

    /// <summary>The double-precision form, element for element the same mask as the single-precision one.</summary>
    public static void Dropout(ReadOnlySpan<double> x, Span<double> destination, ulong key, uint keepThreshold, double scale, uint firstIndex = 0)
    {
        if (destination.Length < x.Length)
        {
            ThrowHelper.ThrowDestinationTooShort(nameof(destination), x.Length, destination.Length);
        }

        for (int i = 0; i < x.Length; i++)
        {
            destination[i] = DropoutMask.Hash(key, firstIndex + (uint)i) >= keepThreshold ? x[i] * scale : 0;
        }
    }

    private static void DropoutScalarFrom(int start, ReadOnlySpan<float> x, Span<float> destination, ulong key, uint keepThreshold, float scale, uint firstIndex)
    {
        for (int i = start; i < x.Length; i++)
        {
            destination[i] = DropoutMask.Hash(key, firstIndex + (uint)i) >= keepThreshold ? x[i] * scale : 0f;
        }
    }
}
