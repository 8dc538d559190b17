using System.Runtime.InteropServices;

namespace Ml.Normalization.Fitting;

/// <summary>
/// The sparse fit's slot records: native memory aligned to a cache line, so that a record is one line, and of any size
/// (a managed byte array stops at 2 GB, 33 million records; a hashed feature column can have 2^26 slots and more).
/// Freed by <see cref="Dispose"/> (every fit disposes its moments when it ends or fails), or by the finalizer if one is
/// abandoned. The GC is not told of its size: GC.AddMemoryPressure of a 64 MB block induced a full collection per fit
/// whenever the managed heap was under three times the block (about 0.2 s a fit of a 1,000,000-slot column, issue 19
/// item 5's benchmarks), for a block that is freed deterministically anyway.
/// </summary>
internal sealed unsafe class SlotBlock : IDisposable
{
    [ThreadStatic]
    private static long _allocatedBytesOnThisThread;

    private long _bytes;
    private SparseSlotState* _records;

    /// <summary>
    /// The bytes this thread's blocks have allocated so far (growth counted as the bytes added), for the memory tests:
    /// the native counterpart of <see cref="GC.GetAllocatedBytesForCurrentThread"/>.
    /// </summary>
    internal static long AllocatedBytesForCurrentThread => _allocatedBytesOnThisThread;

    /// <summary>Allocates <paramref name="count"/> records, not zeroed.</summary>
    /// <exception cref="OutOfMemoryException">The memory is not available.</exception>
    public SlotBlock(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Count = count;
        _bytes = Math.Max(1L, count) * SparseSlotState.Bytes;
        _records = (SparseSlotState*)NativeMemory.AlignedAlloc((nuint)_bytes, SparseSlotState.Bytes);
        _allocatedBytesOnThisThread += _bytes;
    }

    /// <summary>The records the block holds.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Makes room for <paramref name="count"/> records (at least <see cref="Count"/>), keeping the first
    /// <see cref="Count"/>; the block may move, so <see cref="Records"/> must be read again. The new records are not zeroed.
    /// </summary>
    /// <exception cref="OutOfMemoryException">The memory is not available.</exception>
    public void Grow(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, Count);
        long bytes = Math.Max(1L, count) * SparseSlotState.Bytes;
        _records = (SparseSlotState*)NativeMemory.AlignedRealloc(Records, (nuint)bytes, SparseSlotState.Bytes);
        if (bytes > _bytes)
        {
            _allocatedBytesOnThisThread += bytes - _bytes;
        }

        (_bytes, Count) = (bytes, count);
    }

    ~SlotBlock() => Free();

    /// <summary>The first record; valid until <see cref="Dispose"/>.</summary>
    public SparseSlotState* Records => _records != null ? _records : throw new ObjectDisposedException(nameof(SlotBlock));

    /// <summary>The address of the first record, for checks.</summary>
    public long Address => (long)Records;

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_records != null)
        {
            NativeMemory.AlignedFree(_records);
            _records = null;
        }
    }
}
