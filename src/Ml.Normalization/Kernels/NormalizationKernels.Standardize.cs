using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The standardization of one row: <c>destination[j] = (x[j] - mean[j]) / std[j]</c>.
    /// </summary>
    /// <remarks>
    /// A pure standardization (gamma 1, beta 0, epsilon 0: torchvision's <c>Normalize</c>) in two roundings, a
    /// subtraction and a division, each correctly rounded: bit for bit what PyTorch's <c>tensor.sub_(mean).div_(std)</c>
    /// and ONNX's Sub, Div give in the same precision, where <see cref="Normalize{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>'s
    /// multiply by a rounded reciprocal can miss by an ulp or two. NaN in <paramref name="x"/> gives NaN at the same
    /// place. <paramref name="destination"/> may be the same memory as <paramref name="x"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">A parameter's length differs from <c>x.Length</c>.</exception>
    public static void Standardize<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> std, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Standardize(x, 1, mean, std, destination);

    /// <summary>
    /// The standardization of a row-major <paramref name="rows"/> x F block, F = <c>mean.Length</c>:
    /// <c>destination[i, j] = (x[i, j] - mean[j]) / std[j]</c>.
    /// </summary>
    /// <exception cref="ArgumentException">x or destination is not rows x F long, or std is not F long.</exception>
    public static void Standardize<T>(ReadOnlySpan<T> x, int rows, ReadOnlySpan<T> mean, ReadOnlySpan<T> std, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        int length = ThrowHelper.BlockLength(rows, features);
        ThrowHelper.ThrowIfLengthDiffers(length, x.Length, nameof(x));
        ThrowHelper.ThrowIfLengthDiffers(features, std.Length, nameof(std));
        ThrowHelper.ThrowIfLengthDiffers(length, destination.Length, nameof(destination));
        ref T dr = ref At(destination);

        // Normalize's walk: stores aligned to destination, four rows per load of the parameters.
        MapRows<T, StandardizeOperator<T>>(new StandardizeOperator<T>(ref At(x), ref At(mean), ref At(std), ref dr), rows, features, ref dr);
    }

    // destination = (x - mean) / std.
    private readonly ref struct StandardizeOperator<T>(ref T x, ref T mean, ref T std, ref T destination) : IRowMapOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ref T _x = ref x;
        private readonly ref T _mean = ref mean;
        private readonly ref T _std = ref std;
        private readonly ref T _destination = ref destination;

        public static int BlockRows => 4;

        public static bool AlignsStores => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ColumnVectors<T> LoadColumn(nuint column) => new()
        {
            P0 = Vector.LoadUnsafe(ref _mean, column),
            P1 = Vector.LoadUnsafe(ref _std, column),
        };

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector<T> Compute(in ColumnVectors<T> column, nuint index) =>
            (Vector.LoadUnsafe(ref _x, index) - column.P0) / column.P1;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(Vector<T> value, in ColumnVectors<T> column, nuint index) => value.StoreUnsafe(ref _destination, index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void InvokeScalar(nuint index, nuint column) =>
            Unsafe.Add(ref _destination, index) = (Unsafe.Add(ref _x, index) - Unsafe.Add(ref _mean, column)) / Unsafe.Add(ref _std, column);
    }
}
