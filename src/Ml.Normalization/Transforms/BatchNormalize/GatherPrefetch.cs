using System.Runtime.Intrinsics.X86;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// Asks the cache for a sparse row's entries of a per-slot table before they are read. A million-slot table does not
/// fit in cache, and the row's indices are scattered: issued together, the misses overlap instead of queueing behind the
/// arithmetic of each value.
/// </summary>
internal static class GatherPrefetch
{
    /// <summary>Prefetches <c>table[j]</c> for every j in <paramref name="indices"/> (nothing where the CPU has no prefetch instruction).</summary>
    public static unsafe void Entries<T>(T[] table, ReadOnlySpan<int> indices)
        where T : unmanaged
    {
        if (!Sse.IsSupported)
        {
            return;
        }

        fixed (T* start = table)
        {
            foreach (int j in indices)
            {
                Sse.Prefetch0(start + j);
            }
        }
    }
}
