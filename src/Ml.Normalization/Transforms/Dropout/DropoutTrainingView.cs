using Microsoft.ML;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Transforms.Dropout;

/// <summary>
/// The training pass of a <see cref="DropoutTransformer"/>: every cursor (or cursor set) request is a new pass with
/// fresh masks, so a trainer's epochs each see different dropped values.
/// </summary>
/// <remarks>
/// A cache after this view (<c>AppendCacheCheckpoint</c> right after Dropout) would fill itself from one pass and give
/// every epoch those masks: the view warns through the MLContext's log when the cache asks for its cursor
/// (<see cref="PipelineCallers.FillingCache"/>), naming the columns.
/// </remarks>
internal sealed class DropoutTrainingView(IDataView source, DropoutTransformer transformer) : IDataView
{
    private readonly DataViewSchema _schema = transformer.Mapper(source.Schema).OutputSchema;
    private long _passes;
    private int _warnedOfCache;

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
        if (transformer.Host is { } host && PipelineCallers.FillingCache() && Interlocked.Exchange(ref _warnedOfCache, 1) == 0)
        {
            string columns = string.Join(", ", transformer.ColumnPairs.Select(c => $"'{c.OutputColumnName}'"));
            MlNetEnvironment.Warning(host, "Dropout", $"Dropout of column(s) {columns}: a cache (AppendCacheCheckpoint) right after Dropout holds the masks of "
                + "one pass, and every epoch of the stages after it reads those: they no longer vary. Cache before Dropout instead.");
        }

        return new MappedDataView(source, DropoutMapping.Training(source.Schema, _schema, transformer, pass));
    }
}
