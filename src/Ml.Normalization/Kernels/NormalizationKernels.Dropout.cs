using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Ml.Normalization.Kernels;

// Dropout's loop: the driver MapMasked walks the elements and computes, per block, which of them the counter-based mask
// (DropoutMask) keeps; the operator does the element's math given that. Single and Double share the driver, so both
// run at vector speed with the same mask.
internal static partial class NormalizationKernels
{
    /// <summary>An element-wise map given, for each element, whether the dropout mask keeps it; called by <see cref="MapMasked{T, TOperator}"/>.</summary>
    private interface IMaskedOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>The vector at <paramref name="index"/>; <paramref name="keep"/> is all ones in the lanes the mask keeps, 0 in the others.</summary>
        void Invoke(nuint index, Vector<T> keep);

        /// <summary>The same for a 512-bit vector at <paramref name="index"/>.</summary>
        void Invoke(nuint index, Vector512<T> keep);

        /// <summary>The element at <paramref name="index"/>, with the same operations.</summary>
        void Invoke(nuint index, bool keep);
    }

    /// <summary>
    /// Dropout with a recomputable mask: <c>destination[i] = DropoutMask.Keep(key, firstIndex + i, keepThreshold) ? x[i] * scale : 0</c>.
    /// </summary>
    /// <remarks>
    /// Inverted dropout uses <c>scale = 1 / (1 - p)</c>, standard dropout <c>scale = 1</c>; the backward pass is the
    /// same call on the upstream gradient with the same key. A dropped NaN becomes 0, a kept one stays NaN.
    /// <paramref name="destination"/> may be the same memory as <paramref name="x"/>.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="x"/>.</exception>
    public static void Dropout(ReadOnlySpan<float> x, Span<float> destination, ulong key, uint keepThreshold, float scale, uint firstIndex = 0) =>
        Dropout<float>(x, destination, key, keepThreshold, scale, firstIndex);

    /// <summary>The double-precision form, element for element the same mask as the single-precision one.</summary>
    public static void Dropout(ReadOnlySpan<double> x, Span<double> destination, ulong key, uint keepThreshold, double scale, uint firstIndex = 0) =>
        Dropout<double>(x, destination, key, keepThreshold, scale, firstIndex);

    private static void Dropout<T>(ReadOnlySpan<T> x, Span<T> destination, ulong key, uint keepThreshold, T scale, uint firstIndex)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (destination.Length < x.Length)
        {
            ThrowHelper.ThrowDestinationTooShort(nameof(destination), x.Length, destination.Length);
        }

        MapMasked<T, KeepScaledOperator<T>>(new KeepScaledOperator<T>(ref At(x), scale, ref At(destination)), x.Length, key, keepThreshold, firstIndex);
    }

    // Elements 0 .. length - 1, element i kept where DropoutMask.Keep(key, firstIndex + i, keepThreshold). Blocks of
    // Vector<uint>.Count elements, one hash vector each, one 32-bit hash per element as DropoutMask.Keep defines: the
    // comparison's lanes are the mask of one Single vector, or, sign-extended to 64 bits, of two Double vectors. The
    // rest element by element, and all of it when there is no vector hardware. An element's mask depends on its index
    // alone, so where the blocks end changes no bit. Never inlined, as the row drivers.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MapMasked<T, TOperator>(TOperator op, int length, ulong key, uint keepThreshold, uint firstIndex)
        where T : unmanaged, IFloatingPointIeee754<T>
        where TOperator : IMaskedOperator<T>, allows ref struct
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)))
        {
            int width = Vector<T>.Count;

            // Single values with 256-bit Vector<T> on hardware that runs 512-bit vectors: 16 elements at a time. Each element's hash is its own, so the mask is the
            // same at any width (measured 256 x 64 dropout backward: about 0.65x the 256-bit loop's time).
            if (typeof(T) == typeof(float) && Vector512.IsHardwareAccelerated && Vector<uint>.Count == Vector256<uint>.Count)
            {
                var indices512 = Vector512<uint>.Indices + Vector512.Create(firstIndex);
                var step512 = Vector512.Create((uint)Vector512<uint>.Count);
                var threshold512 = Vector512.Create(keepThreshold);
                for (; i <= length - Vector512<uint>.Count; i += Vector512<uint>.Count)
                {
                    var keep = Vector512.GreaterThanOrEqual(DropoutMask.Hash(key, indices512), threshold512);
                    op.Invoke((nuint)i, keep.As<uint, T>());
                    indices512 += step512;
                }
            }

            var indices = Vector<uint>.Indices + new Vector<uint>(firstIndex + (uint)i);
            var step = new Vector<uint>((uint)Vector<uint>.Count);
            var threshold = new Vector<uint>(keepThreshold);
            for (; i <= length - Vector<uint>.Count; i += Vector<uint>.Count)
            {
                var keep = Vector.GreaterThanOrEqual(DropoutMask.Hash(key, indices), threshold);
                if (typeof(T) == typeof(float))
                {
                    op.Invoke((nuint)i, keep.As<uint, T>());
                }
                else
                {
                    Vector.Widen(Vector.AsVectorInt32(keep), out Vector<long> low, out Vector<long> high);
                    op.Invoke((nuint)i, low.As<long, T>());
                    op.Invoke((nuint)(i + width), high.As<long, T>());
                }

                indices += step;
            }
        }

        for (; i < length; i++)
        {
            op.Invoke((nuint)i, DropoutMask.Keep(key, firstIndex + (uint)i, keepThreshold));
        }
    }

    // destination = keep ? x * scale : 0.
    private readonly ref struct KeepScaledOperator<T>(ref T x, T scale, ref T destination) : IMaskedOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly ref T _x = ref x;
        private readonly ref T _destination = ref destination;
        private readonly T _scale = scale;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(nuint index, Vector<T> keep) =>
            Vector.ConditionalSelect(keep, Vector.LoadUnsafe(ref _x, index) * new Vector<T>(_scale), Vector<T>.Zero).StoreUnsafe(ref _destination, index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(nuint index, Vector512<T> keep) =>
            (Vector512.LoadUnsafe(ref _x, index) * Vector512.Create(_scale) & keep).StoreUnsafe(ref _destination, index);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(nuint index, bool keep) =>
            Unsafe.Add(ref _destination, index) = keep ? Unsafe.Add(ref _x, index) * _scale : T.Zero;
    }
}
