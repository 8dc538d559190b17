using System.Numerics;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// Dropout with a recomputable mask: <c>destination[i] = DropoutMask.Keep(key, firstIndex + i, keepThreshold) ? x[i] * scale : 0</c>.
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
        if (Vector.IsHardwareAccelerated && (firstIndex & 1) == 0)
        {
            // One hash vector decides two float vectors: reinterpret its lanes as 16-bit halves and widen them, so
            // element 2k gets the low half of hash(k) and element 2k + 1 the high half, as DropoutMask.Bits defines.
            ref float xr = ref MemoryMarshal.GetReference(x);
            ref float dr = ref MemoryMarshal.GetReference(destination);
            int width = Vector<float>.Count;
            var pairs = Vector<uint>.Indices + new Vector<uint>(firstIndex >> 1);
            var step = new Vector<uint>((uint)width);
            var threshold = new Vector<uint>(keepThreshold);
            var scaleVector = new Vector<float>(scale);
            for (; i <= x.Length - (2 * width); i += 2 * width)
            {
                var bits = Vector.AsVectorUInt16(DropoutMask.Hash(key, pairs));
                Vector.Widen(bits, out Vector<uint> low, out Vector<uint> high);
                var keepLow = Vector.AsVectorSingle(Vector.GreaterThanOrEqual(low, threshold));
                var keepHigh = Vector.AsVectorSingle(Vector.GreaterThanOrEqual(high, threshold));
                Vector.ConditionalSelect(keepLow, Vector.LoadUnsafe(ref xr, (nuint)i) * scaleVector, Vector<float>.Zero).StoreUnsafe(ref dr, (nuint)i);
                Vector.ConditionalSelect(keepHigh, Vector.LoadUnsafe(ref xr, (nuint)(i + width)) * scaleVector, Vector<float>.Zero).StoreUnsafe(ref dr, (nuint)(i + width));
                pairs += step;
            }
        }

        DropoutScalarFrom(i, x, destination, key, keepThreshold, scale, firstIndex);
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
            destination[i] = DropoutMask.Keep(key, firstIndex + (uint)i, keepThreshold) ? x[i] * scale : 0;
        }
    }

    private static void DropoutScalarFrom(int start, ReadOnlySpan<float> x, Span<float> destination, ulong key, uint keepThreshold, float scale, uint firstIndex)
    {
        for (int i = start; i < x.Length; i++)
        {
            destination[i] = DropoutMask.Keep(key, firstIndex + (uint)i, keepThreshold) ? x[i] * scale : 0f;
        }
    }
}
