using System.Numerics;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The training-mode forward pass of a row-major <paramref name="rows"/> x F block, keeping the normalized input
    /// for the backward pass: <c>xHat[i, j] = (x[i, j] - mean[j]) * inverseStd[j]</c> and
    /// <c>destination[i, j] = gamma[j] * xHat[i, j] + beta[j]</c>, F = <c>mean.Length</c>.
    /// </summary>
    /// <remarks>NaN in <paramref name="x"/> gives NaN at the same place in both outputs.</remarks>
    /// <exception cref="ArgumentException">A length does not fit rows x F.</exception>
    public static void NormalizeTraining<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> xHat, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckNormalizeArguments(rows * features, x.Length, features, inverseStd.Length, gamma.Length, destination.Length);
        ThrowHelper.ThrowIfLengthDiffers(features, beta.Length, nameof(beta));
        ThrowHelper.ThrowIfLengthDiffers(rows * features, xHat.Length, nameof(xHat));
        ref T xr = ref MemoryMarshal.GetReference(x);
        ref T mr = ref MemoryMarshal.GetReference(mean);
        ref T sr = ref MemoryMarshal.GetReference(inverseStd);
        ref T gr = ref MemoryMarshal.GetReference(gamma);
        ref T br = ref MemoryMarshal.GetReference(beta);
        ref T hr = ref MemoryMarshal.GetReference(xHat);
        ref T dr = ref MemoryMarshal.GetReference(destination);
        int vectorEnd = Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? features - (features % Vector<T>.Count) : 0;
        int i = 0;

        // Two rows per load of the four per-feature parameters.
        for (; i <= rows - 2; i += 2)
        {
            nuint row = (nuint)(i * features);
            for (int j = 0; j < vectorEnd; j += Vector<T>.Count)
            {
                var m = Vector.LoadUnsafe(ref mr, (nuint)j);
                var s = Vector.LoadUnsafe(ref sr, (nuint)j);
                var g = Vector.LoadUnsafe(ref gr, (nuint)j);
                var b = Vector.LoadUnsafe(ref br, (nuint)j);
                nuint k0 = row + (nuint)j, k1 = k0 + (nuint)features;
                var h0 = (Vector.LoadUnsafe(ref xr, k0) - m) * s;
                var h1 = (Vector.LoadUnsafe(ref xr, k1) - m) * s;
                h0.StoreUnsafe(ref hr, k0);
                h1.StoreUnsafe(ref hr, k1);
                ((g * h0) + b).StoreUnsafe(ref dr, k0);
                ((g * h1) + b).StoreUnsafe(ref dr, k1);
            }

            NormalizeTrainingScalarTail(x, mean, inverseStd, gamma, beta, xHat, destination, i * features, vectorEnd);
            NormalizeTrainingScalarTail(x, mean, inverseStd, gamma, beta, xHat, destination, (i + 1) * features, vectorEnd);
        }

        for (; i < rows; i++)
        {
            nuint row = (nuint)(i * features);
            for (int j = 0; j < vectorEnd; j += Vector<T>.Count)
            {
                var h = (Vector.LoadUnsafe(ref xr, row + (nuint)j) - Vector.LoadUnsafe(ref mr, (nuint)j)) * Vector.LoadUnsafe(ref sr, (nuint)j);
                h.StoreUnsafe(ref hr, row + (nuint)j);
                ((Vector.LoadUnsafe(ref gr, (nuint)j) * h) + Vector.LoadUnsafe(ref br, (nuint)j)).StoreUnsafe(ref dr, row + (nuint)j);
            }

            NormalizeTrainingScalarTail(x, mean, inverseStd, gamma, beta, xHat, destination, (int)row, vectorEnd);
        }
    }

    private static void NormalizeTrainingScalarTail<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> xHat, Span<T> destination, int rowStart, int from)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j = from; j < mean.Length; j++)
        {
            int k = rowStart + j;
            T h = (x[k] - mean[j]) * inverseStd[j];
            xHat[k] = h;
            destination[k] = (gamma[j] * h) + beta[j];
        }
    }
}
