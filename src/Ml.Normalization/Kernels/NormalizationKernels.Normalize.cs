using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The batch-norm affine map of one row: <c>destination[j] = (x[j] - mean[j]) * scale[j] + offset[j]</c>.
    /// </summary>
    /// <remarks>
    /// With <c>scale = gamma / sqrt(variance + epsilon)</c> and <c>offset = beta</c> this is the test-mode forward pass.
    /// The mean is subtracted before scaling (rather than folding it into the offset), so inputs with a large common
    /// offset keep their precision, and the three roundings are the ones ONNX's Sub, Mul, Add make, so an exported
    /// model reproduces the outputs exactly. NaN in <paramref name="x"/> gives NaN at the same place.
    /// <paramref name="destination"/> may be the same memory as <paramref name="x"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">A parameter's length differs from <c>x.Length</c>.</exception>
    public static void Normalize<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckNormalizeArguments(features, x.Length, features, scale.Length, offset.Length, destination.Length);
        ref T dr = ref At(destination);

        // One row per call (the transform's getters): the single-row walk inlined here, not a call to MapRows.
        MapRow<T, NormalizeOperator<T>>(new NormalizeOperator<T>(ref At(x), ref At(mean), ref At(scale), ref At(offset), ref dr), features, ref dr);
    }

    /// <summary>
    /// The affine map of a row-major <paramref name="rows"/> x F block, F = <c>mean.Length</c>:
    /// <c>destination[i, j] = (x[i, j] - mean[j]) * scale[j] + offset[j]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">x or destination is not rows x F long, or a parameter is not F long.</exception>
    public static void Normalize<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckNormalizeArguments(ThrowHelper.BlockLength(rows, features), x.Length, features, scale.Length, offset.Length, destination.Length);
        ref T dr = ref At(destination);

        // Stores aligned to destination, and four rows per load of the parameters: without that, the parameter loads
        // cost more than the alignment gains.
        MapRows<T, NormalizeOperator<T>>(new NormalizeOperator<T>(ref At(x), ref At(mean), ref At(scale), ref At(offset), ref dr), rows, features, ref dr);
    }

    /// <summary>
    /// The same map as <see cref="Normalize{T}(ReadOnlySpan{T}, int, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>
    /// (the same operations, so the same bits), walked in memory order (<see cref="MapInOrder{T, TOperator}"/>), for
    /// blocks streamed from memory rather than held in the cache. Rows whose parameters would not repeat within
    /// <see cref="MaxRepeatedParameters"/> elements take the row walk.
    /// </summary>
    /// <exception cref="ArgumentException">x or destination is not rows x F long, or a parameter is not F long.</exception>
    public static void NormalizeInOrder<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        CheckNormalizeArguments(ThrowHelper.BlockLength(rows, features), x.Length, features, scale.Length, offset.Length, destination.Length);
        int cycle = InterleavedCycle<T>(features, x.Length);
        if (cycle == 0)
        {
            Normalize(x, rows, mean, scale, offset, destination);
            return;
        }

        int repeatedLength = cycle + Vector<T>.Count;
        Span<T> repeated = stackalloc T[3 * repeatedLength];
        Span<T> repeatedMean = repeated[..repeatedLength], repeatedScale = repeated.Slice(repeatedLength, repeatedLength), repeatedOffset = repeated[(2 * repeatedLength)..];
        RepeatChannels(mean, repeatedMean);
        RepeatChannels(scale, repeatedScale);
        RepeatChannels(offset, repeatedOffset);
        ref T dr = ref At(destination);
        MapInOrder<T, NormalizeOperator<T>>(new NormalizeOperator<T>(ref At(x), ref At(repeatedMean), ref At(repeatedScale), ref At(repeatedOffset), ref dr), x.Length, cycle, ref dr);
    }

    // destination = ((x - mean) * scale) + offset.
    private readonly ref struct NormalizeOperator<T>(ref T x, ref T mean, ref T scale, ref T offset, ref T destination) : IRowMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ref T _x = ref x;
        private readonly ref T _mean = ref mean;
        private readonly ref T _scale = ref scale;
        private readonly ref T _offset = ref offset;
        private readonly ref T _destination = ref destination;

        public static int BlockRows => 4;

        public static bool AlignsStores => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ColumnVectors<T> LoadColumn(nuint column) => new()
        {
            P0 = Vector.LoadUnsafe(ref _mean, column),
            P1 = Vector.LoadUnsafe(ref _scale, column),
            P2 = Vector.LoadUnsafe(ref _offset, column),
        };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Compute(in ColumnVectors<T> column, nuint index) =>
            ((Vector.LoadUnsafe(ref _x, index) - column.P0) * column.P1) + column.P2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector<T> value, in ColumnVectors<T> column, nuint index) => value.StoreUnsafe(ref _destination, index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void InvokeScalar(nuint index, nuint column) =>
            Unsafe.Add(ref _destination, index) = ((Unsafe.Add(ref _x, index) - Unsafe.Add(ref _mean, column)) * Unsafe.Add(ref _scale, column)) + Unsafe.Add(ref _offset, column);
    }

    /// <summary>
    /// The affine map with the scale as two factors: <c>destination[j] = ((x[j] - mean[j]) * scale[j]) * rescale[j] + offset[j]</c>.
    /// </summary>
    /// <remarks>
    /// For scales beyond the type's range: with both factors finite, <c>x[j] = mean[j]</c> still gives <c>offset[j]</c>
    /// (no 0 * infinity). Where <c>rescale[j]</c> is 1 the result equals <see cref="Normalize{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>'s
    /// exactly. A rare path: four vectorised passes rather than one fused loop. <paramref name="destination"/> may be
    /// the same memory as <paramref name="x"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">A parameter's length differs from <c>x.Length</c>.</exception>
    public static void NormalizeRescaled<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> rescale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNormalizeArguments(mean.Length, x.Length, mean.Length, scale.Length, offset.Length, destination.Length);
        ThrowHelper.ThrowIfLengthDiffers(mean.Length, rescale.Length, nameof(rescale));
        TensorPrimitives.Subtract(x, mean, destination);
        TensorPrimitives.Multiply(destination, scale, destination);
        TensorPrimitives.Multiply(destination, rescale, destination);
        TensorPrimitives.Add(destination, offset, destination);
    }

    private static void CheckNormalizeArguments(int expectedLength, int length, int features, int scaleLength, int offsetLength, int destinationLength)
    {
        ThrowHelper.ThrowIfLengthDiffers(expectedLength, length, "x");
        ThrowHelper.ThrowIfLengthDiffers(features, scaleLength, "scale");
        ThrowHelper.ThrowIfLengthDiffers(features, offsetLength, "offset");
        ThrowHelper.ThrowIfLengthDiffers(expectedLength, destinationLength, "destination");
    }
}
