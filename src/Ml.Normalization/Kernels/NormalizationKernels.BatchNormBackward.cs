using System.Numerics;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// Gradients of the training-mode batch-norm forward pass <c>y = gamma * xHat + beta</c>,
    /// <c>xHat = (x - mean) * inverseStd</c>, with batch statistics, over a row-major N x F block.
    /// </summary>
    /// <remarks>
    /// Effectively computes, per feature j with N = rows:
    /// <c>dBeta[j] = sum_i dy[i, j]</c>, <c>dGamma[j] = sum_i dy[i, j] * xHat[i, j]</c> and
    /// <c>dx[i, j] = gamma[j] * inverseStd[j] / N * (N * dy[i, j] - dBeta[j] - xHat[i, j] * dGamma[j])</c>,
    /// the closed form of the seed article's step-by-step backward pass (the mean and variance terms folded in).
    /// <paramref name="dx"/> may be the same memory as <paramref name="dy"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">A length does not fit rows x gamma.Length.</exception>
    public static void BatchNormBackward<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat, int rows, ReadOnlySpan<T> gamma, ReadOnlySpan<T> inverseStd, Span<T> dx, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = gamma.Length;
        if (rows < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(rows), rows, "at least 1");
        }

        ThrowHelper.ThrowIfLengthDiffers(rows * features, dy.Length, nameof(dy));
        ThrowHelper.ThrowIfLengthDiffers(rows * features, xHat.Length, nameof(xHat));
        ThrowHelper.ThrowIfLengthDiffers(rows * features, dx.Length, nameof(dx));
        ThrowHelper.ThrowIfLengthDiffers(features, inverseStd.Length, nameof(inverseStd));
        ThrowHelper.ThrowIfLengthDiffers(features, dGamma.Length, nameof(dGamma));
        ThrowHelper.ThrowIfLengthDiffers(features, dBeta.Length, nameof(dBeta));

        GradientSums(dy, xHat, rows, dGamma, dBeta);

        // dx = a * dy + c * xHat + b with a = gamma * inverseStd, b = -a * dBeta / N, c = -a * dGamma / N.
        // The three per-feature coefficients go into stack scratch for small F, a rented array otherwise.
        T n = T.CreateTruncating(rows);
        T[]? rented = null;
        Span<T> coefficients = features * 3 <= 768
            ? stackalloc T[features * 3]
            : (rented = System.Buffers.ArrayPool<T>.Shared.Rent(features * 3)).AsSpan(0, features * 3);
        Span<T> a = coefficients[..features], b = coefficients.Slice(features, features), c = coefficients.Slice(2 * features, features);
        for (int j = 0; j < features; j++)
        {
            a[j] = gamma[j] * inverseStd[j];
            b[j] = -a[j] * dBeta[j] / n;
            c[j] = -a[j] * dGamma[j] / n;
        }

        GradientRows(dy, xHat, rows, a, b, c, dx);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<T>.Shared.Return(rented);
        }
    }

    // dBeta[j] = sum_i dy[i, j], dGamma[j] = sum_i dy[i, j] * xHat[i, j]. Rows are read in order (two streams that
    // the prefetcher follows), four at a time, so the sums are loaded and stored once per four rows.
    private static void GradientSums<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat, int rows, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = dGamma.Length;
        dGamma.Clear();
        dBeta.Clear();
        ref T yr = ref MemoryMarshal.GetReference(dy);
        ref T hr = ref MemoryMarshal.GetReference(xHat);
        ref T gr = ref MemoryMarshal.GetReference(dGamma);
        ref T br = ref MemoryMarshal.GetReference(dBeta);
        int vectorEnd = Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? features - (features % Vector<T>.Count) : 0;
        nuint f = (nuint)features;
        int i = 0;
        for (; i <= rows - 4; i += 4)
        {
            nuint row = (nuint)(i * features);
            for (int j = 0; j < vectorEnd; j += Vector<T>.Count)
            {
                nuint k = row + (nuint)j;
                var d0 = Vector.LoadUnsafe(ref yr, k);
                var d1 = Vector.LoadUnsafe(ref yr, k + f);
                var d2 = Vector.LoadUnsafe(ref yr, k + (2 * f));
                var d3 = Vector.LoadUnsafe(ref yr, k + (3 * f));
                (Vector.LoadUnsafe(ref br, (nuint)j) + ((d0 + d1) + (d2 + d3))).StoreUnsafe(ref br, (nuint)j);
                var g = (d0 * Vector.LoadUnsafe(ref hr, k)) + (d1 * Vector.LoadUnsafe(ref hr, k + f))
                    + (d2 * Vector.LoadUnsafe(ref hr, k + (2 * f))) + (d3 * Vector.LoadUnsafe(ref hr, k + (3 * f)));
                (Vector.LoadUnsafe(ref gr, (nuint)j) + g).StoreUnsafe(ref gr, (nuint)j);
            }

            for (int j = vectorEnd; j < features; j++)
            {
                for (int r = 0; r < 4; r++)
                {
                    int k = ((i + r) * features) + j;
                    dBeta[j] += dy[k];
                    dGamma[j] += dy[k] * xHat[k];
                }
            }
        }

        for (; i < rows; i++)
        {
            for (int j = 0; j < features; j++)
            {
                int k = (i * features) + j;
                dBeta[j] += dy[k];
                dGamma[j] += dy[k] * xHat[k];
            }
        }
    }

    private static void GradientRows<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat, int rows, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = a.Length;
        ref T yr = ref MemoryMarshal.GetReference(dy);
        ref T hr = ref MemoryMarshal.GetReference(xHat);
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T cr = ref MemoryMarshal.GetReference(c);
        ref T dr = ref MemoryMarshal.GetReference(dx);
        int vectorEnd = Vector.IsHardwareAccelerated && Vector<T>.IsSupported ? features - (features % Vector<T>.Count) : 0;
        for (int i = 0; i < rows; i++)
        {
            nuint row = (nuint)(i * features);
            int j = 0;
            for (; j < vectorEnd; j += Vector<T>.Count)
            {
                var v = (Vector.LoadUnsafe(ref ar, (nuint)j) * Vector.LoadUnsafe(ref yr, row + (nuint)j))
                    + (Vector.LoadUnsafe(ref cr, (nuint)j) * Vector.LoadUnsafe(ref hr, row + (nuint)j))
                    + Vector.LoadUnsafe(ref br, (nuint)j);
                v.StoreUnsafe(ref dr, row + (nuint)j);
            }

            for (; j < features; j++)
            {
                int k = (int)row + j;
                dx[k] = (a[j] * dy[k]) + (c[j] * xHat[k]) + b[j];
            }
        }
    }

    /// <summary>Scalar reference of <see cref="BatchNormBackward{T}"/>, written as the seed article's formula, for tests.</summary>
    public static void BatchNormBackwardScalar(ReadOnlySpan<float> dy, ReadOnlySpan<float> xHat, int rows, ReadOnlySpan<float> gamma, ReadOnlySpan<float> inverseStd, Span<float> dx, Span<float> dGamma, Span<float> dBeta)
    {
        int features = gamma.Length;
        for (int j = 0; j < features; j++)
        {
            double sumDy = 0, sumDyXHat = 0;
            for (int i = 0; i < rows; i++)
            {
                sumDy += dy[(i * features) + j];
                sumDyXHat += (double)dy[(i * features) + j] * xHat[(i * features) + j];
            }

            dBeta[j] = (float)sumDy;
            dGamma[j] = (float)sumDyXHat;
            for (int i = 0; i < rows; i++)
            {
                int k = (i * features) + j;
                dx[k] = (float)(gamma[j] * inverseStd[j] / rows * ((rows * (double)dy[k]) - sumDy - (xHat[k] * sumDyXHat)));
            }
        }
    }
}
