using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// How many elements a row starting at <paramref name="destination"/> has before its first address aligned to a
    /// whole vector (<c>Vector&lt;byte&gt;.Count</c> bytes); 0 when it is aligned or not element-aligned.
    /// </summary>
    /// <remarks>
    /// The row kernels write one unaligned vector at the row's start, aligned vectors from here on, and one unaligned
    /// vector at the row's end. A vector store that straddles two cache lines costs about two stores, and with a
    /// destination 16 bytes off a line boundary (what a large array gets) half of them did: measured on the 4096 x
    /// 256 layer benchmark, aligning the stores took the training forward pass from 4.5x to about 2.7x a memory copy.
    /// The address is read without pinning: if the GC moves the buffer meanwhile only the speed changes.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe nuint AlignmentLead<T>(ref T destination)
        where T : unmanaged
    {
        nuint misalignment = (nuint)Unsafe.AsPointer(ref destination) & (nuint)(Vector<byte>.Count - 1);
        return misalignment % (nuint)sizeof(T) == 0 ? (((nuint)Vector<byte>.Count - misalignment) & (nuint)(Vector<byte>.Count - 1)) / (nuint)sizeof(T) : 0;
    }
}
