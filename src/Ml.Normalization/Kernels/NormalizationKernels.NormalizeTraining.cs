using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The training-mode forward pass of a row-major <paramref name="rows"/> x F block, keeping the normalized input
    /// for the backward pass: <c>xHat[i, j] = (x[i, j] - mean[j]) * inverseStd[j]</c> and
    /// <c>destination[i, j] = gamma[j] * xHat[i, j] + beta[j]</c>, F = <c>mean.Length</c>.
    /// </summary>
    /// <remarks>NaN in <paramref name="x"/> gives NaN at the same place in both outputs.
    /// <paramref name="destination"/> may be the same memory as <paramref name="x"/>.</remarks>
    /// <exception cref="ArgumentException">A length does not fit rows x F.</exception>
    public static void NormalizeTraining<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> xHat, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(rows * mean.Length, xHat.Length, nameof(xHat));
        NormalizeTraining<T, KeptXHat>(x, rows, mean, inverseStd, gamma, beta, xHat, destination);
    }

    /// <summary>
    /// The same pass writing only <paramref name="destination"/> (the same values, bit for bit), for a backward pass
    /// that recomputes xHat from x (<see cref="BatchNormBackwardFromInput{T}"/>).
    /// </summary>
    /// <exception cref="ArgumentException">A length does not fit rows x F.</exception>
    public static void NormalizeTraining<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        NormalizeTraining<T, RecomputedXHat>(x, rows, mean, inverseStd, gamma, beta, [], destination);

    // TXHat.Recomputes: xHat is not kept (Backward recomputes it), so it is not written.
    private static void NormalizeTraining<T, TXHat>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> xHat, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        int features = mean.Length;
        CheckNormalizeArguments(rows * features, x.Length, features, inverseStd.Length, gamma.Length, destination.Length);
        ThrowHelper.ThrowIfLengthDiffers(features, beta.Length, nameof(beta));
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T mr = ref MemoryMarshal.GetReference(mean);
        ref T sr = ref MemoryMarshal.GetReference(inverseStd);
        ref T gr = ref MemoryMarshal.GetReference(gamma);
        ref T br = ref MemoryMarshal.GetReference(beta);
        ref T hr = ref MemoryMarshal.GetReference(xHat);
        ref T dr = ref MemoryMarshal.GetReference(destination);
        if (!Vector.IsHardwareAccelerated || !Vector<T>.IsSupported || features < Vector<T>.Count)
        {
            for (int k = 0; k < rows * features; k++)
            {
                int j = k % features;
                T h = (x[k] - mean[j]) * inverseStd[j];
                if (!TXHat.Recomputes)
                {
                    xHat[k] = h;
                }

                destination[k] = (gamma[j] * h) + beta[j];
            }

            return;
        }

        // Per row: the first and last vectors (unaligned, computed before any store so destination may be x), and
        // aligned vectors in between (see AlignmentLead). A kept xHat is written at the same offsets; the layer
        // places it at the same alignment as destination.
        nuint f = (nuint)features, width = (nuint)Vector<T>.Count, last = f - width;
        for (int i = 0; i < rows; i++)
        {
            nuint row = (nuint)i * f;
            nuint lead = AlignmentLead(ref Unsafe.Add(ref dr, row));
            var firstHat = (Vector.LoadUnsafe(ref xr, row) - Vector.LoadUnsafe(ref mr)) * Vector.LoadUnsafe(ref sr);
            var lastHat = (Vector.LoadUnsafe(ref xr, row + last) - Vector.LoadUnsafe(ref mr, last)) * Vector.LoadUnsafe(ref sr, last);
            nuint j = lead;
            for (; j <= last; j += width)
            {
                var h = (Vector.LoadUnsafe(ref xr, row + j) - Vector.LoadUnsafe(ref mr, j)) * Vector.LoadUnsafe(ref sr, j);
                if (!TXHat.Recomputes)
                {
                    h.StoreUnsafe(ref hr, row + j);
                }

                ((Vector.LoadUnsafe(ref gr, j) * h) + Vector.LoadUnsafe(ref br, j)).StoreUnsafe(ref dr, row + j);
            }

            if (lead != 0)
            {
                if (!TXHat.Recomputes)
                {
                    firstHat.StoreUnsafe(ref hr, row);
                }

                ((Vector.LoadUnsafe(ref gr) * firstHat) + Vector.LoadUnsafe(ref br)).StoreUnsafe(ref dr, row);
            }

            if (j != f)
            {
                if (!TXHat.Recomputes)
                {
                    lastHat.StoreUnsafe(ref hr, row + last);
                }

                ((Vector.LoadUnsafe(ref gr, last) * lastHat) + Vector.LoadUnsafe(ref br, last)).StoreUnsafe(ref dr, row + last);
            }
        }
    }
}
