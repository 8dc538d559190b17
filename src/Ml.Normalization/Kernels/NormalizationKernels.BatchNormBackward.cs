using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// Gradients of the training-mode batch-norm forward pass <c>y = gamma * xHat + beta</c>,
    /// <c>xHat = (x - mean) * inverseStd</c>, with batch statistics, over a row-major N x F block, from the kept xHat.
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
        where T : unmanaged, IFloatingPointIeee754<T> =>
        BatchNormBackward<T, KeptXHat>(dy, xHat, rows, [], gamma, inverseStd, dx, dGamma, dBeta);

    /// <summary>
    /// <see cref="BatchNormBackward{T}"/> from the forward pass's input instead of its xHat, as cuDNN's backward takes
    /// x: xHat is recomputed as <c>(x - mean) * inverseStd</c>, the same operations as the forward pass, so the
    /// gradients equal the kept-xHat ones bit for bit.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not fit rows x gamma.Length.</exception>
    public static void BatchNormBackwardFromInput<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> gamma, ReadOnlySpan<T> inverseStd, Span<T> dx, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(gamma.Length, mean.Length, nameof(mean));
        BatchNormBackward<T, RecomputedXHat>(dy, x, rows, mean, gamma, inverseStd, dx, dGamma, dBeta);
    }

    // source is xHat (KeptXHat) or x (RecomputedXHat, with mean).
    private static void BatchNormBackward<T, TXHat>(ReadOnlySpan<T> dy, ReadOnlySpan<T> source, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> gamma, ReadOnlySpan<T> inverseStd, Span<T> dx, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        int features = gamma.Length;
        if (rows < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(rows), rows, "at least 1");
        }

        ThrowHelper.ThrowIfLengthDiffers(rows * features, dy.Length, nameof(dy));
        ThrowHelper.ThrowIfLengthDiffers(rows * features, source.Length, TXHat.Recomputes ? "x" : "xHat");
        ThrowHelper.ThrowIfLengthDiffers(rows * features, dx.Length, nameof(dx));
        ThrowHelper.ThrowIfLengthDiffers(features, inverseStd.Length, nameof(inverseStd));
        ThrowHelper.ThrowIfLengthDiffers(features, dGamma.Length, nameof(dGamma));
        ThrowHelper.ThrowIfLengthDiffers(features, dBeta.Length, nameof(dBeta));

        GradientSums<T, TXHat>(dy, source, rows, mean, inverseStd, dGamma, dBeta);

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

        GradientRows<T, TXHat>(dy, source, rows, mean, inverseStd, a, b, c, dx);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<T>.Shared.Return(rented);
        }
    }

    // dBeta[j] = sum_i dy[i, j], dGamma[j] = sum_i dy[i, j] * xHat[i, j]. Rows are read in order (two streams that
    // the prefetcher follows), four at a time, so the sums are loaded and stored once per four rows.
    private static void GradientSums<T, TXHat>(ReadOnlySpan<T> dy, ReadOnlySpan<T> source, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        int features = dGamma.Length;
        dGamma.Clear();
        dBeta.Clear();
        ref T yr = ref MemoryMarshal.GetReference(dy);
        ref T hr = ref MemoryMarshal.GetReference(source);
        ref T mr = ref MemoryMarshal.GetReference(mean);
        ref T sr = ref MemoryMarshal.GetReference(inverseStd);
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
                var g = (d0 * LoadXHat<T, TXHat>(ref hr, ref mr, ref sr, k, (nuint)j))
                    + (d1 * LoadXHat<T, TXHat>(ref hr, ref mr, ref sr, k + f, (nuint)j))
                    + (d2 * LoadXHat<T, TXHat>(ref hr, ref mr, ref sr, k + (2 * f), (nuint)j))
                    + (d3 * LoadXHat<T, TXHat>(ref hr, ref mr, ref sr, k + (3 * f), (nuint)j));
                (Vector.LoadUnsafe(ref gr, (nuint)j) + g).StoreUnsafe(ref gr, (nuint)j);
            }

            // The columns past the last whole vector, and every column where there are no vectors: the same sums in
            // the same grouping as a vector lane, so the gradients do not depend on the machine's vector width.
            for (int j = vectorEnd; j < features; j++)
            {
                int k = (i * features) + j;
                T d0 = dy[k], d1 = dy[k + features], d2 = dy[k + (2 * features)], d3 = dy[k + (3 * features)];
                dBeta[j] += (d0 + d1) + (d2 + d3);
                dGamma[j] += (d0 * XHatAt<T, TXHat>(source, mean, inverseStd, k, j))
                    + (d1 * XHatAt<T, TXHat>(source, mean, inverseStd, k + features, j))
                    + (d2 * XHatAt<T, TXHat>(source, mean, inverseStd, k + (2 * features), j))
                    + (d3 * XHatAt<T, TXHat>(source, mean, inverseStd, k + (3 * features), j));
            }
        }

        for (; i < rows; i++)
        {
            for (int j = 0; j < features; j++)
            {
                int k = (i * features) + j;
                dBeta[j] += dy[k];
                dGamma[j] += dy[k] * XHatAt<T, TXHat>(source, mean, inverseStd, k, j);
            }
        }
    }

    // dx[i, j] = a[j] * dy[i, j] + c[j] * xHat[i, j] + b[j]. Aligning the stores to dx (as the forward kernels do)
    // measured no faster here, so rows are written from their start, the last vector overlapping when F is not a
    // whole number of vectors (computed before the row's stores). Each element is read before it is written, so dx
    // may be dy.
    private static void GradientRows<T, TXHat>(ReadOnlySpan<T> dy, ReadOnlySpan<T> source, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        int features = a.Length;
        if (!Vector.IsHardwareAccelerated || !Vector<T>.IsSupported || features < Vector<T>.Count)
        {
            for (int k = 0; k < rows * features; k++)
            {
                int j = k % features;
                dx[k] = (a[j] * dy[k]) + (c[j] * XHatAt<T, TXHat>(source, mean, inverseStd, k, j)) + b[j];
            }

            return;
        }

        ref T yr = ref MemoryMarshal.GetReference(dy);
        ref T hr = ref MemoryMarshal.GetReference(source);
        ref T mr = ref MemoryMarshal.GetReference(mean);
        ref T sr = ref MemoryMarshal.GetReference(inverseStd);
        ref T ar = ref MemoryMarshal.GetReference(a);
        ref T br = ref MemoryMarshal.GetReference(b);
        ref T cr = ref MemoryMarshal.GetReference(c);
        ref T dr = ref MemoryMarshal.GetReference(dx);
        nuint f = (nuint)features, width = (nuint)Vector<T>.Count, last = f - width;
        int i = 0;
        if (features % Vector<T>.Count == 0)
        {
            // Four rows per load of the per-feature coefficients: they are most of the loads otherwise.
            for (; i <= rows - 4; i += 4)
            {
                nuint row = (nuint)i * f;
                for (nuint j = 0; j <= last; j += width)
                {
                    var av = Vector.LoadUnsafe(ref ar, j);
                    var bv = Vector.LoadUnsafe(ref br, j);
                    var cv = Vector.LoadUnsafe(ref cr, j);
                    var mv = TXHat.Recomputes ? Vector.LoadUnsafe(ref mr, j) : default;
                    var sv = TXHat.Recomputes ? Vector.LoadUnsafe(ref sr, j) : default;
                    nuint k = row + j;
                    GradientVector<T, TXHat>(ref yr, ref hr, av, bv, cv, mv, sv, k).StoreUnsafe(ref dr, k);
                    GradientVector<T, TXHat>(ref yr, ref hr, av, bv, cv, mv, sv, k + f).StoreUnsafe(ref dr, k + f);
                    GradientVector<T, TXHat>(ref yr, ref hr, av, bv, cv, mv, sv, k + (2 * f)).StoreUnsafe(ref dr, k + (2 * f));
                    GradientVector<T, TXHat>(ref yr, ref hr, av, bv, cv, mv, sv, k + (3 * f)).StoreUnsafe(ref dr, k + (3 * f));
                }
            }
        }

        bool ragged = f % width != 0;
        for (; i < rows; i++)
        {
            nuint row = (nuint)i * f;
            var final = ragged ? GradientVector<T, TXHat>(ref yr, ref hr, ref mr, ref sr, ref ar, ref br, ref cr, row, last) : default;
            for (nuint j = 0; j <= last; j += width)
            {
                GradientVector<T, TXHat>(ref yr, ref hr, ref mr, ref sr, ref ar, ref br, ref cr, row, j).StoreUnsafe(ref dr, row + j);
            }

            if (ragged)
            {
                final.StoreUnsafe(ref dr, row + last);
            }
        }
    }

    // The vector of dx at row + column, loading the coefficients (and, when recomputing xHat, mean and inverseStd).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> GradientVector<T, TXHat>(ref T dy, ref T source, ref T mean, ref T inverseStd, ref T a, ref T b, ref T c, nuint row, nuint column)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource =>
        GradientVector<T, TXHat>(
            ref dy,
            ref source,
            Vector.LoadUnsafe(ref a, column),
            Vector.LoadUnsafe(ref b, column),
            Vector.LoadUnsafe(ref c, column),
            TXHat.Recomputes ? Vector.LoadUnsafe(ref mean, column) : default,
            TXHat.Recomputes ? Vector.LoadUnsafe(ref inverseStd, column) : default,
            row + column);

    // The same with those already loaded: dx = a * dy + c * xHat + b.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> GradientVector<T, TXHat>(ref T dy, ref T source, Vector<T> a, Vector<T> b, Vector<T> c, Vector<T> mean, Vector<T> inverseStd, nuint index)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        var xHat = TXHat.Recomputes ? (Vector.LoadUnsafe(ref source, index) - mean) * inverseStd : Vector.LoadUnsafe(ref source, index);
        return (a * Vector.LoadUnsafe(ref dy, index)) + (c * xHat) + b;
    }

    // xHat at source[index] (column `column`): loaded, or recomputed with the forward pass's operations.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> LoadXHat<T, TXHat>(ref T source, ref T mean, ref T inverseStd, nuint index, nuint column)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource =>
        TXHat.Recomputes ? NormalizedHat(ref source, ref mean, ref inverseStd, index, column) : Vector.LoadUnsafe(ref source, index);

    private static T XHatAt<T, TXHat>(ReadOnlySpan<T> source, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, int index, int column)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource =>
        TXHat.Recomputes ? (source[index] - mean[column]) * inverseStd[column] : source[index];

    /// <summary>Where the backward kernels get xHat: kept from the forward pass, or recomputed from its input.</summary>
    private interface IXHatSource
    {
        /// <summary>True: the source is x and xHat = (x - mean) * inverseStd; false: the source is xHat.</summary>
        static abstract bool Recomputes { get; }
    }

    private readonly struct KeptXHat : IXHatSource
    {
        public static bool Recomputes => false;
    }

    private readonly struct RecomputedXHat : IXHatSource
    {
        public static bool Recomputes => true;
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
