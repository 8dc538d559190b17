using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// Rows <c>[start, start + count)</c> of a source, for a chunk of a parallel fit: the cursor steps over the first
/// <c>start</c> rows without asking for any value (a lazy upstream transform computes nothing for them), then gives
/// <c>count</c> rows. Public IDataView API only; never shuffles.
/// </summary>
internal sealed class RowRangeView(IDataView source, long start, long count) : IDataView
{
    public bool CanShuffle => false;

    public DataViewSchema Schema => source.Schema;

    public long? GetRowCount() => count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(source.GetRowCursor(columnsNeeded), start, count);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(DataViewRowCursor source, long start, long count) : DataViewRowCursor
    {
        private long _position = -1;
        private bool _skipped;

        public override DataViewSchema Schema => source.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (!_skipped)
            {
                _skipped = true;
                for (long skipped = 0; skipped < start; skipped++)
                {
                    if (!source.MoveNext())
                    {
                        return false;
                    }
                }
            }

            if (_position + 1 >= count || !source.MoveNext())
            {
                return false;
            }

            _position++;
            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => source.GetGetter<TValue>(column);

        public override ValueGetter<DataViewRowId> GetIdGetter() => source.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => source.IsColumnActive(column);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                source.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
