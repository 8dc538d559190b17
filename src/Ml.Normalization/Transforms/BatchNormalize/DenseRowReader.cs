using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// Reads a vector column's rows straight into the caller's buffer, dense, for a getter that then maps them in place:
/// the source's getter writes a dense row into <c>dst</c>'s own values (its one copy of the row), and the map reads and
/// writes those values, instead of the source writing into a buffer of the getter's that the map then reads to write
/// <c>dst</c> (one row-long stream fewer: for a 600 KB image row, the difference between the row staying in the cache
/// or not). A sparse row is densified into <c>dst</c> from a copy of its explicit values.
/// </summary>
/// <remarks>
/// ML.NET's getter contract: the callee may take over and rewrite the buffers of the <c>VBuffer</c> it is handed, and
/// what it returns is the caller's; so the source writes into <c>dst</c>'s buffers and the map may rewrite them.
/// </remarks>
internal sealed class DenseRowReader<T>(ValueGetter<VBuffer<T>> source, int slots, string columnName)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private VBuffer<T> _sparse;

    /// <summary>
    /// The current row, dense and <c>slots</c> long, in <paramref name="dst"/>'s own values: the span may be rewritten in
    /// place, and <paramref name="dst"/> is then the mapped row (it has that shape already, nothing to commit).
    /// </summary>
    /// <exception cref="InvalidOperationException">The source gave a vector of another length, or a sparse one with invalid indices.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Read(ref VBuffer<T> dst)
    {
        source(ref dst);
        if (dst.Length != slots)
        {
            ThrowLength(dst.Length);
        }

        if (!dst.IsDense)
        {
            Densify(ref dst);
        }

        // The array behind a dense VBuffer's values is the caller's (what a VBufferEditor over dst would hand out, minus
        // its resize checks and the commit's new VBuffer, which cost about as much as normalizing a 64-float row).
        return MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(dst.GetValues()), slots);
    }

    // Written dense: the implicit zeros normalize to non-zero values. VBuffer's copy trusts the indices, so they are checked.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Densify(ref VBuffer<T> dst)
    {
        dst.CopyTo(ref _sparse);
        SparseIndices.Check(_sparse.GetIndices(), slots, columnName);
        var editor = VBufferEditor.Create(ref dst, slots);
        _sparse.CopyTo(editor.Values);
        dst = editor.Commit();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowLength(int length) =>
        throw new InvalidOperationException($"BatchNormalize: column '{columnName}' gave a vector of {length} slots, its type says {slots}.");
}
