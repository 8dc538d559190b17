using System.Numerics;
using System.Runtime.CompilerServices;

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
        ThrowHelper.ThrowIfLengthDiffers(ThrowHelper.BlockLength(rows, mean.Length), xHat.Length, nameof(xHat));
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
        CheckNormalizeArguments(ThrowHelper.BlockLength(rows, features), x.Length, features, inverseStd.Length, gamma.Length, destination.Length);
        ThrowHelper.ThrowIfLengthDiffers(features, beta.Length, nameof(beta));
        ref T dr = ref At(destination);

        // Stores aligned to destination; a kept xHat is written at the same offsets (the layer places it at the same
        // alignment as destination).
        MapRows<T, NormalizeTrainingOperator<T, TXHat>>(
            new NormalizeTrainingOperator<T, TXHat>(ref At(x), ref At(mean), ref At(inverseStd), ref At(gamma), ref At(beta), ref At(xHat), ref dr),
            rows,
            features,
            ref dr);
    }

    /// <summary>
    /// The pass keeping xHat, walked in memory order (<see cref="MapInOrder{T, TOperator}"/>) for blocks streamed from
    /// memory: the same operations, so the same bits, as the row walk.
    /// </summary>
    /// <exception cref="ArgumentException">A length does not fit rows x F.</exception>
    public static void NormalizeTrainingInOrder<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> xHat, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(ThrowHelper.BlockLength(rows, mean.Length), xHat.Length, nameof(xHat));
        NormalizeTrainingInOrder<T, KeptXHat>(x, rows, mean, inverseStd, gamma, beta, xHat, destination);
    }

    /// <summary>
    /// <see cref="NormalizeTrainingInOrder{T}(ReadOnlySpan{T}, int, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T}, Span{T})"/>
    /// writing xHat's vectors with non-temporal stores where they are aligned (<see cref="StoreStreaming{T}"/>), for
    /// an xHat far larger than the caches, which ordinary stores would first read from memory and then keep in the
    /// cache in place of the input and output (the same values; measured in docs/benchmarks.md). The stores are fenced
    /// before the call returns. xHat must not move during the call (the layers' cache is pinned).
    /// </summary>
    /// <exception cref="ArgumentException">A length does not fit rows x F.</exception>
    public static void NormalizeTrainingStreamingXHat<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> xHat, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(ThrowHelper.BlockLength(rows, mean.Length), xHat.Length, nameof(xHat));
        NormalizeTrainingInOrder<T, StreamedXHat>(x, rows, mean, inverseStd, gamma, beta, xHat, destination);
        FenceStreamingStores();
    }

    /// <summary>The pass writing only <paramref name="destination"/>, walked in memory order (the same bits).</summary>
    /// <exception cref="ArgumentException">A length does not fit rows x F.</exception>
    public static void NormalizeTrainingInOrder<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        NormalizeTrainingInOrder<T, RecomputedXHat>(x, rows, mean, inverseStd, gamma, beta, [], destination);

    // The parameters repeated over one cycle (InterleavedCycle), or the row walk where they would not fit on the stack.
    private static void NormalizeTrainingInOrder<T, TXHat>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> xHat, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        int features = mean.Length;
        CheckNormalizeArguments(ThrowHelper.BlockLength(rows, features), x.Length, features, inverseStd.Length, gamma.Length, destination.Length);
        ThrowHelper.ThrowIfLengthDiffers(features, beta.Length, nameof(beta));
        int cycle = InterleavedCycle<T>(features, x.Length);
        if (cycle == 0)
        {
            NormalizeTraining<T, TXHat>(x, rows, mean, inverseStd, gamma, beta, xHat, destination);
            return;
        }

        int n = cycle + Vector<T>.Count;
        Span<T> repeated = stackalloc T[4 * n];
        Span<T> repeatedMean = repeated[..n], repeatedInverseStd = repeated.Slice(n, n), repeatedGamma = repeated.Slice(2 * n, n), repeatedBeta = repeated[(3 * n)..];
        RepeatChannels(mean, repeatedMean);
        RepeatChannels(inverseStd, repeatedInverseStd);
        RepeatChannels(gamma, repeatedGamma);
        RepeatChannels(beta, repeatedBeta);
        ref T dr = ref At(destination);

        // A kept xHat is written at the same offsets as destination (the layer places it at the same alignment).
        MapInOrder<T, NormalizeTrainingOperator<T, TXHat>>(
            new NormalizeTrainingOperator<T, TXHat>(ref At(x), ref At(repeatedMean), ref At(repeatedInverseStd), ref At(repeatedGamma), ref At(repeatedBeta), ref At(xHat), ref dr),
            x.Length,
            cycle,
            ref dr);
    }

    // xHat = (x - mean) * inverseStd, kept unless TXHat.Recomputes; destination = (gamma * xHat) + beta.
    private readonly ref struct NormalizeTrainingOperator<T, TXHat>(ref T x, ref T mean, ref T inverseStd, ref T gamma, ref T beta, ref T xHat, ref T destination) : IRowMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
        where TXHat : struct, IXHatSource
    {
        private readonly ref T _x = ref x;
        private readonly ref T _mean = ref mean;
        private readonly ref T _inverseStd = ref inverseStd;
        private readonly ref T _gamma = ref gamma;
        private readonly ref T _beta = ref beta;
        private readonly ref T _xHat = ref xHat;
        private readonly ref T _destination = ref destination;

        // Two rows per load of the four parameters; without the xHat stores, four (as Normalize does) measured faster.
        public static int BlockRows => TXHat.Recomputes ? 4 : 2;

        public static bool AlignsStores => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ColumnVectors<T> LoadColumn(nuint column) => new()
        {
            P0 = Vector.LoadUnsafe(ref _mean, column),
            P1 = Vector.LoadUnsafe(ref _inverseStd, column),
            P2 = Vector.LoadUnsafe(ref _gamma, column),
            P3 = Vector.LoadUnsafe(ref _beta, column),
        };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Compute(in ColumnVectors<T> column, nuint index) => (Vector.LoadUnsafe(ref _x, index) - column.P0) * column.P1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector<T> value, in ColumnVectors<T> column, nuint index)
        {
            if (TXHat.Streams)
            {
                StoreStreaming(value, ref _xHat, index);
            }
            else if (!TXHat.Recomputes)
            {
                value.StoreUnsafe(ref _xHat, index);
            }

            ((column.P2 * value) + column.P3).StoreUnsafe(ref _destination, index);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void InvokeScalar(nuint index, nuint column)
        {
            T h = NormalizedHatScalar(ref _x, ref _mean, ref _inverseStd, index, column);
            if (!TXHat.Recomputes)
            {
                Unsafe.Add(ref _xHat, index) = h;
            }

            Unsafe.Add(ref _destination, index) = (Unsafe.Add(ref _gamma, column) * h) + Unsafe.Add(ref _beta, column);
        }
    }
}
