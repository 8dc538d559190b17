using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Transforms.Stages;

/// <summary>
/// The lazy result of <c>Transform</c>: the source view seen through a <see cref="ColumnMapper"/>. Nothing is
/// materialised; each cursor wraps a source cursor and computes output columns on demand. Parallel cursor sets
/// wrap the source's parallel cursors one to one, so they give the same values as one cursor.
/// </summary>
internal class MappedDataView(IDataView source, ColumnMapper mapper) : IDataView
{
    public IDataView Source { get; } = source;

    public ColumnMapper Mapper { get; } = mapper;

    public bool CanShuffle => Source.CanShuffle;

    public DataViewSchema Schema => Mapper.OutputSchema;

    public long? GetRowCount() => Source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToArray();
        var cursor = Source.GetRowCursor(Mapper.GetDependencies(needed), rand);
        return new Cursor(cursor, Mapper.GetRow(cursor, needed));
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
    {
        var needed = columnsNeeded.ToArray();
        var cursors = Source.GetRowCursorSet(Mapper.GetDependencies(needed), n, rand);
        return Array.ConvertAll(cursors, c => (DataViewRowCursor)new Cursor(c, Mapper.GetRow(c, needed)));
    }

    private sealed class Cursor(DataViewRowCursor input, DataViewRow row) : DataViewRowCursor
    {
        public override DataViewSchema Schema => row.Schema;

        public override long Position => input.Position;

        public override long Batch => input.Batch;

        public override bool MoveNext() => input.MoveNext();

        public override ValueGetter<DataViewRowId> GetIdGetter() => input.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => row.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => row.GetGetter<TValue>(column);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                row.Dispose(); // disposes the input cursor too
            }

            base.Dispose(disposing);
        }
    }
}
