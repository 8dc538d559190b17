using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;
using Ml.Normalization.MlNetInterop;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// Reads a vector column's rows for a getter that maps each into the caller's buffer, dense. The row comes as a source
/// span and a destination span (<see cref="Read"/>), which the map reads and writes:
/// <list type="bullet">
/// <item>From a user's object loaded with <c>LoadFromEnumerable</c> (<see cref="InMemoryColumn{T}"/>): the source is
/// the object's own array, read in place, and the destination <c>dst</c>'s values (one read stream and one write, where
/// the getter would first copy the row).</item>
/// <item>Else the source's getter writes a dense row into <c>dst</c>'s own values (its one copy of the row), and the
/// two spans are those values, mapped in place: one row-long stream fewer than the source writing into a buffer of the
/// getter's that the map then reads to write <c>dst</c> (for a 600 KB image row, the difference between the row staying
/// in the cache or not). A sparse row is densified into <c>dst</c> from a copy of its explicit values.</item>
/// </list>
/// </summary>
/// <remarks>
/// ML.NET's getter contract: the callee may take over and rewrite the buffers of the <c>VBuffer</c> it is handed, and
/// what it returns is the caller's; so the source writes into <c>dst</c>'s buffers and the map may rewrite them.
/// </remarks>
internal sealed class DenseRowReader<T>(ValueGetter<VBuffer<T>> source, InMemoryColumn<T>? rows, int slots, string columnName)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private VBuffer<T> _sparse;

    /// <summary>
    /// The current row: <paramref name="row"/> to read, and the returned span, <paramref name="dst"/>'s own dense
    /// <c>slots</c> values, to write the mapped row to (<paramref name="dst"/> is then the mapped row; it has that shape
    /// already, nothing to commit). The two are the same span or do not overlap.
    /// </summary>
    /// <exception cref="InvalidOperationException">The source gave a vector of another length, or a sparse one with invalid indices.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<T> Read(ref VBuffer<T> dst, out ReadOnlySpan<T> row)
    {
        if (rows is not null)
        {
            var values = rows.Current;
            if ((values?.Length ?? 0) != slots)
            {
                ThrowLength(values?.Length ?? 0);
            }

            row = values;
            return Writable(ref dst);
        }

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
        var written = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(dst.GetValues()), slots);
        row = written;
        return written;
    }

    // dst's own values when it is dense and of the row's length already (every row after a cursor's first, when the
    // caller hands the same buffer back), else a buffer of that shape (the editor reuses dst's arrays when large enough).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<T> Writable(ref VBuffer<T> dst)
    {
        if (dst.IsDense && dst.Length == slots)
        {
            return MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(dst.GetValues()), slots);
        }

        dst = VBufferEditor.Create(ref dst, slots).Commit();
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
