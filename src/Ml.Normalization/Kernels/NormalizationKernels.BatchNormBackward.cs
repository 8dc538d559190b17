using System.Numerics;
using System.Runtime.CompilerServices;

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

        ThrowHelper.ThrowIfLengthDiffers(ThrowHelper.BlockLength(rows, features), dy.Length, nameof(dy));
        ThrowHelper.ThrowIfLengthDiffers(ThrowHelper.BlockLength(rows, features), source.Length, TXHat.Recomputes ? "x" : "xHat");
        ThrowHelper.ThrowIfLengthDiffers(ThrowHelper.BlockLength(rows, features), dx.Length, nameof(dx));
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

    // dBeta[j] = sum_i dy[i, j], dGamma[j] = sum_i dy[i, j] * xHat[i, j], reading dy and the source in row order.
    private static void GradientSums<T, TXHat>(ReadOnlySpan<T> dy, ReadOnlySpan<T> source, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, Span<T> dGamma, Span<T> dBeta)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        dGamma.Clear();
        dBeta.Clear();
        ReduceRows<T, GradientSumsOperator<T, TXHat, NoPrefetch>>(
            new GradientSumsOperator<T, TXHat, NoPrefetch>(ref At(dy), new(ref At(source), ref At(mean), ref At(inverseStd)), ref At(dGamma), ref At(dBeta)),
            0,
            rows,
            dGamma.Length);
    }

    // dx[i, j] = a[j] * dy[i, j] + c[j] * xHat[i, j] + b[j]. Aligning the stores to dx (as the forward kernels do)
    // measured no faster here, so rows are written from their start, the last vector overlapping when F is not a
    // whole number of vectors. Each element is read before it is written, so dx may be dy.
    private static void GradientRows<T, TXHat>(ReadOnlySpan<T> dy, ReadOnlySpan<T> source, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        ref T dr = ref At(dx);
        MapRows<T, GradientRowsOperator<T, TXHat>>(
            new GradientRowsOperator<T, TXHat>(ref At(dy), new(ref At(source), ref At(mean), ref At(inverseStd)), ref At(a), ref At(b), ref At(c), ref dr),
            rows,
            a.Length,
            ref dr);
    }

    // GradientRows walked in address order (MapInOrder): the per-feature coefficients (and mean and inverseStd when xHat
    // is recomputed) repeated over one cycle on the stack, or the row walk where they would not fit (InterleavedCycle).
    // The same operator, so the same bits. Every value is read before its vector is stored, so dx may be dy.
    private static void GradientRowsInOrder<T, TXHat>(ReadOnlySpan<T> dy, ReadOnlySpan<T> source, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> a, ReadOnlySpan<T> b, ReadOnlySpan<T> c, Span<T> dx)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        int features = a.Length;
        int cycle = InterleavedCycle<T>(features, dy.Length);
        if (cycle == 0)
        {
            GradientRows<T, TXHat>(dy, source, rows, mean, inverseStd, a, b, c, dx);
            return;
        }

        int n = cycle + Vector<T>.Count;
        Span<T> repeated = stackalloc T[(TXHat.Recomputes ? 5 : 3) * n];
        Span<T> repeatedA = repeated[..n], repeatedB = repeated.Slice(n, n), repeatedC = repeated.Slice(2 * n, n);
        Span<T> repeatedMean = TXHat.Recomputes ? repeated.Slice(3 * n, n) : [], repeatedInverseStd = TXHat.Recomputes ? repeated.Slice(4 * n, n) : [];
        RepeatChannels(a, repeatedA);
        RepeatChannels(b, repeatedB);
        RepeatChannels(c, repeatedC);
        if (TXHat.Recomputes)
        {
            RepeatChannels(mean, repeatedMean);
            RepeatChannels(inverseStd, repeatedInverseStd);
        }

        ref T dr = ref At(dx);
        MapInOrder<T, GradientRowsOperator<T, TXHat>>(
            new GradientRowsOperator<T, TXHat>(ref At(dy), new(ref At(source), ref At(repeatedMean), ref At(repeatedInverseStd)), ref At(repeatedA), ref At(repeatedB), ref At(repeatedC), ref dr),
            dy.Length,
            cycle,
            ref dr);
    }

    // dBeta += dy, dGamma += dy * xHat, xHat kept or recomputed (XHatReader).
    private readonly ref struct GradientSumsOperator<T, TXHat, TPrefetch>(ref T dy, XHatReader<T, TXHat> xHat, ref T dGamma, ref T dBeta) : IRowReduceOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
        where TPrefetch : struct, IPrefetch
    {
        private readonly ref T _dy = ref dy;
        private readonly XHatReader<T, TXHat> _xHat = xHat;
        private readonly ref T _dGamma = ref dGamma;
        private readonly ref T _dBeta = ref dBeta;

        public static bool UsesVector512 => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AccumulateFour(nuint index, nuint column, nuint f)
        {
            var d0 = Vector.LoadUnsafe(ref _dy, index);
            var d1 = Vector.LoadUnsafe(ref _dy, index + f);
            var d2 = Vector.LoadUnsafe(ref _dy, index + (2 * f));
            var d3 = Vector.LoadUnsafe(ref _dy, index + (3 * f));
            (Vector.LoadUnsafe(ref _dBeta, column) + ((d0 + d1) + (d2 + d3))).StoreUnsafe(ref _dBeta, column);
            var g = (d0 * _xHat.Load(index, column))
                + (d1 * _xHat.Load(index + f, column))
                + (d2 * _xHat.Load(index + (2 * f), column))
                + (d3 * _xHat.Load(index + (3 * f), column));
            (Vector.LoadUnsafe(ref _dGamma, column) + g).StoreUnsafe(ref _dGamma, column);
        }

        public void AccumulateFour512(nuint index, nuint column, nuint f) => throw new NotSupportedException();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AccumulateFourScalar(nuint index, nuint column, nuint f)
        {
            T d0 = Unsafe.Add(ref _dy, index), d1 = Unsafe.Add(ref _dy, index + f);
            T d2 = Unsafe.Add(ref _dy, index + (2 * f)), d3 = Unsafe.Add(ref _dy, index + (3 * f));
            Unsafe.Add(ref _dBeta, column) += (d0 + d1) + (d2 + d3);
            Unsafe.Add(ref _dGamma, column) += (d0 * _xHat.LoadScalar(index, column))
                + (d1 * _xHat.LoadScalar(index + f, column))
                + (d2 * _xHat.LoadScalar(index + (2 * f), column))
                + (d3 * _xHat.LoadScalar(index + (3 * f), column));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Prefetch(nuint index, nuint count)
        {
            PrefetchAhead<T, TPrefetch>(ref _dy, index, count);
            _xHat.Prefetch<TPrefetch>(index, count);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void AccumulateScalar(nuint index, nuint column)
        {
            T d = Unsafe.Add(ref _dy, index);
            Unsafe.Add(ref _dBeta, column) += d;
            Unsafe.Add(ref _dGamma, column) += d * _xHat.LoadScalar(index, column);
        }
    }

    // dx = a * dy + c * xHat + b, xHat kept or recomputed (XHatReader), recomputed with the column's mean and inverseStd
    // loaded once per block of rows.
    private readonly ref struct GradientRowsOperator<T, TXHat>(ref T dy, XHatReader<T, TXHat> xHat, ref T a, ref T b, ref T c, ref T dx) : IRowMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        private readonly ref T _dy = ref dy;
        private readonly XHatReader<T, TXHat> _xHat = xHat;
        private readonly ref T _a = ref a;
        private readonly ref T _b = ref b;
        private readonly ref T _c = ref c;
        private readonly ref T _dx = ref dx;

        // Four rows per load of the per-feature coefficients: they are most of the loads otherwise.
        public static int BlockRows => 4;

        public static bool AlignsStores => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ColumnVectors<T> LoadColumn(nuint column) => new()
        {
            P0 = Vector.LoadUnsafe(ref _a, column),
            P1 = Vector.LoadUnsafe(ref _b, column),
            P2 = Vector.LoadUnsafe(ref _c, column),
            P3 = _xHat.LoadMean(column),
            P4 = _xHat.LoadInverseStd(column),
        };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Compute(in ColumnVectors<T> column, nuint index)
        {
            var xHat = _xHat.Load(index, column.P3, column.P4);
            return (column.P0 * Vector.LoadUnsafe(ref _dy, index)) + (column.P2 * xHat) + column.P1;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector<T> value, in ColumnVectors<T> column, nuint index) => value.StoreUnsafe(ref _dx, index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void InvokeScalar(nuint index, nuint column)
        {
            T xHat = _xHat.LoadScalar(index, column);
            Unsafe.Add(ref _dx, index) = (Unsafe.Add(ref _a, column) * Unsafe.Add(ref _dy, index)) + (Unsafe.Add(ref _c, column) * xHat) + Unsafe.Add(ref _b, column);
        }
    }
}
