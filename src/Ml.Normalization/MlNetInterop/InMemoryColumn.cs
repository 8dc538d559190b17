using System.Runtime.CompilerServices;
using Microsoft.ML.Data;

namespace Ml.Normalization.MlNetInterop;

/// <summary>A vector column's arrays, row by row, as the user's objects hold them (<see cref="InMemoryRows"/>).</summary>
/// <typeparam name="T">The item type.</typeparam>
internal abstract class InMemoryColumn<T>
{
    /// <summary>The current row's array (null is an empty vector), as the getter would copy it; read it, never write it,
    /// and do not keep it past the row (an enumerator may hand out one object again, rewritten).</summary>
    /// <exception cref="InvalidOperationException">The cursor is not on a row.</exception>
    public abstract T[]? Current { get; }
}

internal sealed class InMemoryColumn<TRow, T>(DataViewConstructionUtils.DataViewBase<TRow>.DataViewCursorBase cursor, Func<TRow, T[]?> read, string columnName)
    : InMemoryColumn<T>
    where TRow : class
{
    public override T[]? Current => cursor.GetCurrentRowObject() is { } row ? read(row) : ThrowNoRow();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private T[] ThrowNoRow() => throw new InvalidOperationException($"Column '{columnName}' was read while its cursor was not on a row.");
}
