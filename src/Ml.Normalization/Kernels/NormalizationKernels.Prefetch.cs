using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Ml.Normalization.Kernels;

// Software prefetch for a pass that reads a block far larger than the caches straight through. The hardware
// prefetchers follow a stream within a 4 KB page but start again at every page; asking for the lines a page ahead
// keeps the reads of the next page in flight meanwhile. Measured on the layers' moments pass at 65536 x 64 (a pure
// read, about 20 GB/s a core without it): the training forward without x-hat took 0.82-0.86x its time with the lines
// 4 KB ahead, and the backward's gradient sums gained as much (docs/benchmarks.md).
// A hint only: it changes no value, and an address past the block's end is never read (a prefetch does not fault).
internal static partial class NormalizationKernels
{
    /// <summary>Whether and how far ahead a read pass prefetches: a type parameter of the pass, so the choice costs no
    /// branch in its loop.</summary>
    private interface IPrefetch
    {
        /// <summary>Bytes ahead of the reads to prefetch; 0 for none.</summary>
        static abstract int Distance { get; }
    }

    // No prefetch: blocks in the cache, where the hint would only cost instructions.
    private readonly struct NoPrefetch : IPrefetch
    {
        public static int Distance => 0;
    }

    // The lines one 4 KB page ahead, for blocks streamed from memory.
    private readonly struct PrefetchPageAhead : IPrefetch
    {
        public static int Distance => 4096;
    }

    /// <summary>Prefetches (into every cache level) the lines of the <paramref name="count"/> values from
    /// <paramref name="index"/> of <paramref name="values"/>, <typeparamref name="TPrefetch"/>.Distance bytes ahead.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchAhead<T, TPrefetch>(ref T values, nuint index, nuint count)
        where T : unmanaged
        where TPrefetch : struct, IPrefetch
    {
        if (TPrefetch.Distance == 0 || !Sse.IsSupported)
        {
            return;
        }

        byte* start = (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref values, index)) + TPrefetch.Distance;
        nuint bytes = count * (nuint)sizeof(T);
        for (nuint offset = 0; offset < bytes; offset += 64)
        {
            Sse.Prefetch0(start + offset);
        }
    }
}
