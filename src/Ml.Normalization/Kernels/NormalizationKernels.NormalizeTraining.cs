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
        // places it at the same alignment as destination. When a row is a whole number of vectors long every row has
        // the same lead, and two rows share each load of the four parameters.
        nuint f = (nuint)features, width = (nuint)Vector<T>.Count, last = f - width;
        int i = 0;
        if ((nuint)features * (nuint)Unsafe.SizeOf<T>() % (nuint)Vector<byte>.Count == 0)
        {
            // Without xHat stores, four rows per parameter load (as Normalize does) measured faster than two.
            for (; TXHat.Recomputes && i <= rows - 4; i += 4)
            {
                nuint row = (nuint)i * f;
                nuint lead = AlignmentLead(ref Unsafe.Add(ref dr, row));
                if (lead != 0)
                {
                    // The four rows' first and last vectors before any store (destination may be x).
                    var first0 = NormalizedHat(ref xr, ref mr, ref sr, row, 0);
                    var first1 = NormalizedHat(ref xr, ref mr, ref sr, row + f, 0);
                    var first2 = NormalizedHat(ref xr, ref mr, ref sr, row + (2 * f), 0);
                    var first3 = NormalizedHat(ref xr, ref mr, ref sr, row + (3 * f), 0);
                    var last0 = NormalizedHat(ref xr, ref mr, ref sr, row + last, last);
                    var last1 = NormalizedHat(ref xr, ref mr, ref sr, row + f + last, last);
                    var last2 = NormalizedHat(ref xr, ref mr, ref sr, row + (2 * f) + last, last);
                    var last3 = NormalizedHat(ref xr, ref mr, ref sr, row + (3 * f) + last, last);
                    OutputFourRows(ref xr, ref mr, ref sr, ref gr, ref br, ref dr, row, f, lead, last);
                    StoreTrainingVector<T, TXHat>(first0, ref gr, ref br, ref hr, ref dr, row, 0);
                    StoreTrainingVector<T, TXHat>(first1, ref gr, ref br, ref hr, ref dr, row + f, 0);
                    StoreTrainingVector<T, TXHat>(first2, ref gr, ref br, ref hr, ref dr, row + (2 * f), 0);
                    StoreTrainingVector<T, TXHat>(first3, ref gr, ref br, ref hr, ref dr, row + (3 * f), 0);
                    StoreTrainingVector<T, TXHat>(last0, ref gr, ref br, ref hr, ref dr, row, last);
                    StoreTrainingVector<T, TXHat>(last1, ref gr, ref br, ref hr, ref dr, row + f, last);
                    StoreTrainingVector<T, TXHat>(last2, ref gr, ref br, ref hr, ref dr, row + (2 * f), last);
                    StoreTrainingVector<T, TXHat>(last3, ref gr, ref br, ref hr, ref dr, row + (3 * f), last);
                }
                else
                {
                    OutputFourRows(ref xr, ref mr, ref sr, ref gr, ref br, ref dr, row, f, 0, last);
                }
            }

            for (; i <= rows - 2; i += 2)
            {
                nuint row = (nuint)i * f;
                nuint lead = AlignmentLead(ref Unsafe.Add(ref dr, row));

                // The two rows' first and last vectors before any store (destination may be x); needed only when the
                // rows do not start aligned (a whole number of vectors long, they then end unaligned too).
                Vector<T> firstHat0 = default, firstHat1 = default, lastHat0 = default, lastHat1 = default;
                if (lead != 0)
                {
                    firstHat0 = NormalizedHat(ref xr, ref mr, ref sr, row, 0);
                    firstHat1 = NormalizedHat(ref xr, ref mr, ref sr, row + f, 0);
                    lastHat0 = NormalizedHat(ref xr, ref mr, ref sr, row + last, last);
                    lastHat1 = NormalizedHat(ref xr, ref mr, ref sr, row + f + last, last);
                }

                for (nuint j = lead; j <= last; j += width)
                {
                    var m = Vector.LoadUnsafe(ref mr, j);
                    var s = Vector.LoadUnsafe(ref sr, j);
                    var g = Vector.LoadUnsafe(ref gr, j);
                    var b = Vector.LoadUnsafe(ref br, j);
                    nuint k = row + j;
                    var h0 = (Vector.LoadUnsafe(ref xr, k) - m) * s;
                    var h1 = (Vector.LoadUnsafe(ref xr, k + f) - m) * s;
                    if (!TXHat.Recomputes)
                    {
                        h0.StoreUnsafe(ref hr, k);
                        h1.StoreUnsafe(ref hr, k + f);
                    }

                    ((g * h0) + b).StoreUnsafe(ref dr, k);
                    ((g * h1) + b).StoreUnsafe(ref dr, k + f);
                }

                if (lead != 0)
                {
                    StoreTrainingVector<T, TXHat>(firstHat0, ref gr, ref br, ref hr, ref dr, row, 0);
                    StoreTrainingVector<T, TXHat>(firstHat1, ref gr, ref br, ref hr, ref dr, row + f, 0);
                    StoreTrainingVector<T, TXHat>(lastHat0, ref gr, ref br, ref hr, ref dr, row, last);
                    StoreTrainingVector<T, TXHat>(lastHat1, ref gr, ref br, ref hr, ref dr, row + f, last);
                }
            }
        }

        for (; i < rows; i++)
        {
            nuint row = (nuint)i * f;
            nuint lead = AlignmentLead(ref Unsafe.Add(ref dr, row));
            bool ragged = (f - lead) % width != 0;
            var firstHat = lead != 0 ? NormalizedHat(ref xr, ref mr, ref sr, row, 0) : default;
            var lastHat = ragged ? NormalizedHat(ref xr, ref mr, ref sr, row + last, last) : default;
            for (nuint j = lead; j <= last; j += width)
            {
                StoreTrainingVector<T, TXHat>(NormalizedHat(ref xr, ref mr, ref sr, row + j, j), ref gr, ref br, ref hr, ref dr, row, j);
            }

            if (lead != 0)
            {
                StoreTrainingVector<T, TXHat>(firstHat, ref gr, ref br, ref hr, ref dr, row, 0);
            }

            if (ragged)
            {
                StoreTrainingVector<T, TXHat>(lastHat, ref gr, ref br, ref hr, ref dr, row, last);
            }
        }
    }

    // xHat = (x - mean) * inverseStd at x[index], index in column `column`: the forward pass's operations, which the
    // backward pass repeats when it recomputes xHat (so both agree bit for bit).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> NormalizedHat<T>(ref T x, ref T mean, ref T inverseStd, nuint index, nuint column)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        (Vector.LoadUnsafe(ref x, index) - Vector.LoadUnsafe(ref mean, column)) * Vector.LoadUnsafe(ref inverseStd, column);

    // destination only (xHat not kept), columns from .. last (whole vectors) of four rows, one parameter load for four.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputFourRows<T>(ref T x, ref T mean, ref T inverseStd, ref T gamma, ref T beta, ref T destination, nuint row, nuint f, nuint from, nuint last)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (nuint j = from; j <= last; j += (nuint)Vector<T>.Count)
        {
            var m = Vector.LoadUnsafe(ref mean, j);
            var s = Vector.LoadUnsafe(ref inverseStd, j);
            var g = Vector.LoadUnsafe(ref gamma, j);
            var b = Vector.LoadUnsafe(ref beta, j);
            nuint k = row + j;
            ((g * ((Vector.LoadUnsafe(ref x, k) - m) * s)) + b).StoreUnsafe(ref destination, k);
            ((g * ((Vector.LoadUnsafe(ref x, k + f) - m) * s)) + b).StoreUnsafe(ref destination, k + f);
            ((g * ((Vector.LoadUnsafe(ref x, k + (2 * f)) - m) * s)) + b).StoreUnsafe(ref destination, k + (2 * f));
            ((g * ((Vector.LoadUnsafe(ref x, k + (3 * f)) - m) * s)) + b).StoreUnsafe(ref destination, k + (3 * f));
        }
    }

    // Stores xHat (unless it is recomputed later) and gamma * xHat + beta at row + column.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTrainingVector<T, TXHat>(Vector<T> xHat, ref T gamma, ref T beta, ref T xHatDestination, ref T destination, nuint row, nuint column)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        if (!TXHat.Recomputes)
        {
            xHat.StoreUnsafe(ref xHatDestination, row + column);
        }

        ((Vector.LoadUnsafe(ref gamma, column) * xHat) + Vector.LoadUnsafe(ref beta, column)).StoreUnsafe(ref destination, row + column);
    }
}
