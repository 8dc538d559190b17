using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Layers;

/// <summary>
/// The cache of x-hat that a batch-norm layer's training forward writes for its Backward, placed (1) at the same offset
/// from a 64-byte boundary as y, because the kernels align their stores to y and x-hat's are then aligned too, and (2)
/// half a 4 KiB page away from x: a store stream whose addresses equal a load stream's modulo 4096 makes the core wait
/// on each load (4K aliasing; measured 7x a copy instead of ~3x when x-hat happened to land there). The buffer is
/// pinned (the pinned object heap) so the placement holds, and grows only when a batch is longer than any before.
/// </summary>
internal sealed class XHatCache
{
    /// <summary>The page whose aliasing the placement avoids, in bytes.</summary>
    public const int Page = 4096;

    private const int Line = 64;

    private float[] _buffer = [];
    private int _start;

    /// <summary>Places the cache for a pass from <paramref name="x"/> to <paramref name="y"/> and returns it, y's length.</summary>
    public unsafe Span<float> PlacedFor(ReadOnlySpan<float> x, Span<float> y)
    {
        if (_buffer.Length < y.Length + (Page / sizeof(float)))
        {
            _buffer = GC.AllocateUninitializedArray<float>(y.Length + (Page / sizeof(float)), pinned: true);
        }

        nuint xAddress = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(x));
        nuint yAddress = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(y));
        nuint bufferAddress = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer));
        nuint target = (((xAddress + (Page / 2)) % Page) & ~(nuint)(Line - 1)) | (yAddress % Line);
        nuint offset = (target - bufferAddress) % Page;
        _start = offset % sizeof(float) == 0 ? (int)(offset / sizeof(float)) : 0;
        return _buffer.AsSpan(_start, y.Length);
    }

    /// <summary>The first <paramref name="length"/> values of the cache as the last <see cref="PlacedFor"/> placed it.</summary>
    public ReadOnlySpan<float> Last(int length) => _buffer.AsSpan(_start, length);
}
