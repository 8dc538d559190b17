using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.MlNetInterop;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>
/// The seam's direct read of a user's objects (<see cref="InMemoryRows"/>): the very array the object holds, for fields
/// and auto-properties of <c>T[]</c> only; nothing for members with code, other member types or other views; slices of
/// an array only.
/// </summary>
public class InMemoryRowsTests
{
    private const int Size = 4;

    public sealed class FieldRow
    {
        [VectorType(Size)]
        public float[] Features = [];
    }

    public sealed class PropertyRow
    {
        [VectorType(Size)]
        public float[] Features { get; set; } = [];
    }

    public class BaseRow
    {
        [VectorType(Size)]
        public float[] Features { get; set; } = [];
    }

    public sealed class DerivedRow : BaseRow
    {
        public float Label { get; set; }
    }

    public sealed class ComputedPropertyRow
    {
        private float[] _values = [];

        [VectorType(Size)]
        public float[] Features
        {
            get => _values;
            set => _values = value;
        }
    }

    public sealed class VBufferRow
    {
        [VectorType(Size)]
        public VBuffer<float> Features;
    }

    private static float[] Values(int i) => [i, i + 0.5f, -i, 2 * i];

    [Fact]
    public void TryOpen_OfAField_ReadsTheObjectsOwnArray()
    {
        var rows = Enumerable.Range(0, 5).Select(i => new FieldRow { Features = Values(i) }).ToArray();
        AssertReadsInPlace(new MLContext(1).Data.LoadFromEnumerable(rows), i => rows[i].Features);
    }

    [Fact]
    public void TryOpen_OfAnAutoProperty_ReadsTheObjectsOwnArray()
    {
        var rows = Enumerable.Range(0, 5).Select(i => new PropertyRow { Features = Values(i) }).ToList();
        AssertReadsInPlace(new MLContext(1).Data.LoadFromEnumerable(rows), i => rows[i].Features);
    }

    [Fact]
    public void TryOpen_OfAnInheritedAutoProperty_ReadsTheObjectsOwnArray()
    {
        var rows = Enumerable.Range(0, 5).Select(i => new DerivedRow { Features = Values(i), Label = i }).ToArray();
        AssertReadsInPlace(new MLContext(1).Data.LoadFromEnumerable(rows), i => rows[i].Features);
        var bases = Enumerable.Range(0, 5).Select(i => new BaseRow { Features = Values(i) }).ToArray();
        AssertReadsInPlace(new MLContext(1).Data.LoadFromEnumerable(bases), i => bases[i].Features);
    }

    private static void AssertReadsInPlace(IDataView view, Func<int, float[]> expected)
    {
        var column = view.Schema["Features"];
        using var cursor = view.GetRowCursor([column]);
        var rows = InMemoryRows.TryOpen<float>(cursor, column);
        Assert.NotNull(rows);
        int i = 0;
        while (cursor.MoveNext())
        {
            Assert.Same(expected(i++), rows.Current);
        }

        Assert.Equal(5, i);
    }

    [Fact]
    public void TryOpen_IsNull_ForAPropertyWithCode_AVBufferMember_AnotherItemType_OrAnotherView()
    {
        var ml = new MLContext(1);
        var computed = ml.Data.LoadFromEnumerable([new ComputedPropertyRow { Features = Values(1) }]);
        var vbuffer = ml.Data.LoadFromEnumerable([new VBufferRow { Features = new VBuffer<float>(Size, Values(1)) }]);
        var fields = ml.Data.LoadFromEnumerable([new FieldRow { Features = Values(1) }]);
        var filtered = ml.Data.TakeRows(fields, 1);

        Assert.Null(Open<float>(computed));
        Assert.Null(Open<float>(vbuffer));
        Assert.Null(Open<double>(fields));
        Assert.Null(Open<float>(filtered));
        Assert.NotNull(Open<float>(fields));
    }

    private static InMemoryColumn<T>? Open<T>(IDataView view)
        where T : unmanaged
    {
        using var cursor = view.GetRowCursor(view.Schema);
        return InMemoryRows.TryOpen<T>(cursor, view.Schema["Features"]);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(3, 4)]
    [InlineData(9, 1)]
    [InlineData(10, 0)]
    public void TrySlice_OfAnArray_GivesThatRangeOfRows(int start, int count)
    {
        var rows = Enumerable.Range(0, 10).Select(i => new FieldRow { Features = Values(i) }).ToArray();
        var slice = InMemoryRows.TrySlice(new MLContext(1).Data.LoadFromEnumerable(rows), start, count);

        Assert.NotNull(slice);
        Assert.Equal(count, slice.GetRowCount());
        var column = slice.Schema["Features"];
        using var cursor = slice.GetRowCursor([column]);
        var read = InMemoryRows.TryOpen<float>(cursor, column)!;
        var seen = new List<float[]?>();
        while (cursor.MoveNext())
        {
            seen.Add(read.Current);
        }

        Assert.Equal(rows.Skip(start).Take(count).Select(r => r.Features), seen);
    }

    [Fact]
    public void TrySlice_IsNull_ForAList_AnEnumerable_AnotherView_OrARangeBeyondTheRows()
    {
        var ml = new MLContext(1);
        var array = Enumerable.Range(0, 10).Select(i => new FieldRow { Features = Values(i) }).ToArray();

        Assert.Null(InMemoryRows.TrySlice(ml.Data.LoadFromEnumerable(array.ToList()), 0, 5));
        Assert.Null(InMemoryRows.TrySlice(ml.Data.LoadFromEnumerable(array.Select(r => r)), 0, 5));
        Assert.Null(InMemoryRows.TrySlice(ml.Data.TakeRows(ml.Data.LoadFromEnumerable(array), 10), 0, 5));
        Assert.Null(InMemoryRows.TrySlice(ml.Data.LoadFromEnumerable(array), 6, 5));
        Assert.False(InMemoryRows.CanSlice(ml.Data.LoadFromEnumerable(array.ToList())));
        Assert.True(InMemoryRows.CanSlice(ml.Data.LoadFromEnumerable(array)));
    }
}
