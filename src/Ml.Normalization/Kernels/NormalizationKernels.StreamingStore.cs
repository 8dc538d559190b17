using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Ml.Normalization.Kernels;

// Non-temporal stores: a whole vector written past the caches, without first reading its line from memory (which an
// ordinary store of a line not in the cache does) and without evicting other data to hold it. For an output far larger
// than the last-level cache that nothing reads soon (the layers' kept x-hat, read by a later Backward), that saves a
// third of the output's memory traffic and keeps the pass's input and output cached. The values are those of an
// ordinary store.
internal static partial class NormalizationKernels
{
    /// <summary>
    /// Writes <paramref name="value"/> at <paramref name="index"/> of <paramref name="destination"/>: non-temporal where
    /// the address is aligned to the vector (the in-order walk aligns its stores; an unaligned first or last vector,
    /// or a destination the walk does not align to, takes an ordinary store). The destination must not move until
    /// <see cref="FenceStreamingStores"/> (pinned memory).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreStreaming<T>(Vector<T> value, ref T destination, nuint index)
        where T : unmanaged
    {
        T* address = (T*)Unsafe.AsPointer(ref Unsafe.Add(ref destination, index));
        if (Vector.IsHardwareAccelerated && ((nuint)address & (nuint)(Vector<byte>.Count - 1)) == 0)
        {
            if (Vector<byte>.Count == Vector512<byte>.Count)
            {
                value.AsVector512().StoreAlignedNonTemporal(address);
                return;
            }

            if (Vector<byte>.Count == Vector256<byte>.Count)
            {
                value.AsVector256().StoreAlignedNonTemporal(address);
                return;
            }

            if (Vector<byte>.Count == Vector128<byte>.Count)
            {
                value.AsVector128().StoreAlignedNonTemporal(address);
                return;
            }
        }

        value.StoreUnsafe(ref destination, index);
    }

    /// <summary>Orders the non-temporal stores before every later store (x86's weakly ordered streaming stores), so a
    /// thread that learns the pass is done (the chunk runner's interlocked counter) sees them.</summary>
    private static void FenceStreamingStores()
    {
        if (Sse.IsSupported)
        {
            Sse.StoreFence();
        }
    }
}
