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

        dGamma.Clear();
        dBeta.Clear();
        for (int i = 0; i < rows; i++)
        {
            AccumulateGradientSums(dy.Slice(i * features, features), xHat.Slice(i * features, features), dGamma, dBeta);
        }

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

        for (int i = 0; i < rows; i++)
        {
            GradientRow(dy.Slice(i * features, features), xHat.Slice(i * features, features), a, b, c, dx.Slice(i * features, features));
        }

        if (rented is not null)
        {
            System.Buffers.ArrayPool<T>.Shared.Return(rented);
        }
    }

    private static void AccumulateGradientSums<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var yv = MemoryMarshal.Cast<T, Vector<T>>(dy);
            var hv = MemoryMarshal.Cast<T, Vector<T>>(xHat);
            var gv = MemoryMarshal.Cast<T, Vector<T>>(dGamma);
            var bv = MemoryMarshal.Cast<T, Vector<T>>(dBeta);
            for (int v = 0; v < yv.Length; v++)
            {
                gv[v] += yv[v] * hv[v];
                bv[v] += yv[v];
            }

            j = yv.Length * Vector<T>.Count;
        }

        for (; j < dy.Length; j++)
        {
            dGamma[j] += dy[j] * xHat[j];
            dBeta[j] += dy[j];
        }
    }

    private static void GradientRow<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> xHat, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var yv = MemoryMarshal.Cast<T, Vector<T>>(dy);
            var hv = MemoryMarshal.Cast<T, Vector<T>>(xHat);
            var av = MemoryMarshal.Cast<T, Vector<T>>(a);
            var bv = MemoryMarshal.Cast<T, Vector<T>>(b);
            var cv = MemoryMarshal.Cast<T, Vector<T>>(c);
            var dv = MemoryMarshal.Cast<T, Vector<T>>(dx);
            for (int v = 0; v < yv.Length; v++)
            {
                dv[v] = (av[v] * yv[v]) + (cv[v] * hv[v]) + bv[v];
            }

            j = yv.Length * Vector<T>.Count;
        }

        for (; j < dy.Length; j++)
        {
            dx[j] = (a[j] * dy[j]) + (c[j] * xHat[j]) + b[j];
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
