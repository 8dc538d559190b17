using Microsoft.ML;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Transforms.Dropout;

/// <summary>
/// The training pass of a <see cref="DropoutTransformer"/>: every cursor (or cursor set) request is a new pass with
/// fresh masks, so a trainer's epochs each see different dropped values.
/// </summary>
internal sealed class DropoutTrainingView(IDataView source, DropoutTransformer transformer) : IDataView
{
    private readonly DataViewSchema _schema = transformer.Mapper(source.Schema).OutputSchema;
    private long _passes;

    public bool CanShuffle => source.CanShuffle;

    public DataViewSchema Schema => _schema;

    public long? GetRowCount() => source.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        NextPass().GetRowCursor(columnsNeeded, rand);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        NextPass().GetRowCursorSet(columnsNeeded, n, rand);

    private MappedDataView NextPass()
    {
        long pass = Interlocked.Increment(ref _passes) - 1;
        return new MappedDataView(source, DropoutMapping.Training(source.Schema, _schema, transformer, pass));
    }
}
