using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// Reads a vector column of ML.NET's view of a user's objects (<c>mlContext.Data.LoadFromEnumerable</c>) straight from
/// the array the object holds, where ML.NET's getter would first copy it into the caller's buffer: the transform writes
/// its output from it, where the copy was a whole extra pass over the data (1M x 64 floats: 0.7x the transform's time),
/// and the fit copies it once, sequentially, into the buffer it sums rows in (a 3 x 224 x 224 per-channel fit: 0.75x).
/// </summary>
/// <remarks>
/// <para>There is no public route: the view's type, the cursor it wraps, its current object and the member behind a
/// column are internal (<c>DataViewConstructionUtils</c>). The read is the getter's, minus the copy: the getter asks the
/// cursor for its current object, reads the member and copies the array whole (whatever its length; a null array is an
/// empty vector); here the caller reads the array itself and must not write to it.</para>
/// <para>Only members whose read has no side effect qualify: a field, or an auto-property (its getter only reads its
/// field) of type exactly <c>T[]</c>. A computed column, a property with code, <c>VBuffer</c> members, nullable items
/// and any other view take the getter.</para>
/// </remarks>
internal static class InMemoryRows
{
    private static readonly MethodInfo OpenOfRow = typeof(InMemoryRows).GetMethod(nameof(Open), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo SliceOfRow = typeof(InMemoryRows).GetMethod(nameof(Slice), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo SliceableOfRow = typeof(InMemoryRows).GetMethod(nameof(Sliceable), BindingFlags.NonPublic | BindingFlags.Static)!;

    /// <summary>
    /// The arrays behind <paramref name="column"/> for the rows of <paramref name="row"/>, which must be a cursor of
    /// ML.NET's view of a user's objects as that view handed it out; null when the row or the column does not qualify.
    /// </summary>
    public static InMemoryColumn<T>? TryOpen<T>(DataViewRow row, DataViewSchema.Column column)
        where T : unmanaged
    {
        var type = row.GetType();
        if (!type.IsGenericType || type.GetGenericTypeDefinition() != typeof(DataViewConstructionUtils.DataViewBase<>.WrappedCursor))
        {
            return null;
        }

        var open = OpenOfRow.MakeGenericMethod(type.GetGenericArguments()[0], typeof(T));
        return (InMemoryColumn<T>?)open.Invoke(null, [row, column]);
    }

    /// <summary>
    /// Rows <c>[start, start + count)</c> of <paramref name="view"/> as a view of their own, when it is ML.NET's view of
    /// a user's array (no stepping over the rows before <paramref name="start"/>) and they are within its rows; else null.
    /// </summary>
    public static IDataView? TrySlice(IDataView view, long start, long count) =>
        StreamingRowType(view) is { } row ? (IDataView?)SliceOfRow.MakeGenericMethod(row).Invoke(null, [view, start, count]) : null;

    /// <summary>Whether <see cref="TrySlice"/> slices <paramref name="view"/> (a range within its rows).</summary>
    public static bool CanSlice(IDataView view) =>
        StreamingRowType(view) is { } row && (bool)SliceableOfRow.MakeGenericMethod(row).Invoke(null, [view])!;

    // TRow of ML.NET's view of an enumerable of TRow, else null.
    private static Type? StreamingRowType(IDataView view)
    {
        var type = view.GetType();
        return type.IsGenericType && type.GetGenericTypeDefinition() == typeof(DataViewConstructionUtils.StreamingDataView<>) ? type.GetGenericArguments()[0] : null;
    }

    private static bool Sliceable<TRow>(DataViewConstructionUtils.StreamingDataView<TRow> view)
        where TRow : class => Rows(view) is not null;

    private static IDataView? Slice<TRow>(DataViewConstructionUtils.StreamingDataView<TRow> view, long start, long count)
        where TRow : class
    {
        if (Rows(view) is not { } rows || start < 0 || count < 0 || start + count > rows.Count)
        {
            return null;
        }

        return new DataViewConstructionUtils.StreamingDataView<TRow>(view.Host, rows.Slice((int)start, (int)count), view._schemaDefn);
    }

    // The array the view enumerates, or the part of one a slice does.
    private static ArraySegment<TRow>? Rows<TRow>(DataViewConstructionUtils.StreamingDataView<TRow> view)
        where TRow : class => view._data switch
        {
            TRow[] array => new ArraySegment<TRow>(array),
            ArraySegment<TRow> slice => slice,
            _ => (ArraySegment<TRow>?)null,
        };

    private static InMemoryColumn<T>? Open<TRow, T>(DataViewConstructionUtils.DataViewBase<TRow>.WrappedCursor row, DataViewSchema.Column column)
        where TRow : class
        where T : unmanaged
    {
        var cursor = row._toWrap;
        var definition = cursor.DataView._schemaDefn;
        if (column.Index < 0 || column.Index >= definition.Columns.Length || row.Schema[column.Index].Name != column.Name)
        {
            return null;
        }

        var member = definition.Columns[column.Index];
        if (member.IsComputed || Reads.GetOrAdd((member.MemberInfo, typeof(TRow), typeof(T)), key => ReadOf<TRow, T>(key.Member)) is not Func<TRow, T[]?> read)
        {
            return null;
        }

        return new InMemoryColumn<TRow, T>(cursor, read, column.Name);
    }

    // Each member's compiled read, made once: a cursor is made per pass, and compiling costs far more than a pass of a few rows.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(MemberInfo Member, Type Row, Type Item), Delegate?> Reads = new();

    // A field, or an auto-property: its getter is the compiler's and only reads its field.
    private static Func<TRow, T[]?>? ReadOf<TRow, T>(MemberInfo member)
    {
        var instance = Expression.Parameter(typeof(TRow), "row");
        Expression? read = member switch
        {
            FieldInfo { IsStatic: false } field when field.FieldType == typeof(T[]) => Expression.Field(instance, field),
            PropertyInfo { GetMethod: { IsStatic: false } getter } property when property.PropertyType == typeof(T[]) && getter.IsDefined(typeof(CompilerGeneratedAttribute))
                => Expression.Property(instance, property),
            _ => null,
        };
        return read is null ? null : Expression.Lambda<Func<TRow, T[]?>>(read, instance).Compile();
    }
}
