using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// BatchNormalize's opt-in training pass: each mini-batch of <c>batchSize</c> consecutive rows is normalized with its
/// own statistics, as the layer does in training mode, while scoring keeps the running statistics.
/// </summary>
/// <remarks>
/// A cursor reads the source twice, in step: a look-ahead cursor reads the next mini-batch's rows to compute its
/// statistics, then the main cursor emits those rows (and every other column) normalized with them. Memory stays
/// O(slots). Per slot (per channel with channels), a batch with fewer than 2 finite values (or a final batch of 1 row) uses the running
/// statistics. A fit with example weights (<see cref="BatchNormalizingEstimator.Options.ExampleWeightColumnName"/>)
/// normalizes each batch with its weighted statistics, a slot whose batch weighs less than 2 with the running statistics.
/// Shuffled cursors get two Randoms of the same seed; if the two cursors ever disagree on a row's id, the cursor throws
/// rather than mis-normalize. Cursor sets are a single cursor, so batches stay consecutive rows.
/// </remarks>
internal sealed class BatchStatisticsTrainingView(IDataView source, IReadOnlyList<BatchNormalizationParameters> columns, int batchSize) : IDataView
{
    private readonly CheckedInput[] _inputs = BatchNormalizeMapping.CheckInputs(source.Schema, columns);
    private readonly DataViewSchema _schema = BatchNormalizeMapping.CreateMapper(source.Schema, columns).OutputSchema;

    // A weighted fit's example-weight column (every column of a fit has the same): its batches' statistics are weighted too.
    private readonly DataViewSchema.Column? _weightColumn = WeightColumn(source.Schema, columns);

    public bool CanShuffle => source.CanShuffle;

    public DataViewSchema Schema => _schema;

    public long? GetRowCount() => source.GetRowCount();

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var batchAffine = new AffineParameters[columns.Count];
        for (int i = 0; i < batchAffine.Length; i++)
        {
            batchAffine[i] = AffineParameters.Create(_inputs[i].Shape.IsDouble, _inputs[i].Layout.Slots);
        }

        var mapper = BatchNormalizeMapping.CreateMapper(source.Schema, columns, (i, _) => batchAffine[i], _schema);
        var needed = columnsNeeded.ToArray();
        int? seed = rand?.Next();
        var main = source.GetRowCursor(mapper.GetDependencies(needed), seed is int s1 ? new Random(s1) : null);
        var inputs = columns.Select(c => source.Schema[c.InputColumnName]).Concat(_weightColumn is { } w ? [w] : []).DistinctBy(c => c.Index).ToArray();
        var ahead = source.GetRowCursor(inputs, seed is int s2 ? new Random(s2) : null);
        var weights = _weightColumn is { } wc ? ExampleWeights.Create(ahead, wc) : null;
        return new Cursor(main, ahead, mapper.GetRow(main, needed), new BatchLoader(ahead, columns, _inputs, batchAffine, batchSize, weights));
    }

    private static DataViewSchema.Column? WeightColumn(DataViewSchema schema, IReadOnlyList<BatchNormalizationParameters> columns)
    {
        if (columns.Select(c => c.FitState?.Rule.WeightColumn).FirstOrDefault(w => w is not null) is not { } name)
        {
            return null;
        }

        ColumnTypes.CheckWeight(schema, name, "input");
        return schema[name];
    }

    /// <summary>Reads the next mini-batch ahead of the main cursor and writes its normalization into the shared arrays.</summary>
    private sealed class BatchLoader : IDisposable
    {
        private readonly DataViewRowCursor _ahead;
        private readonly IReadOnlyList<BatchNormalizationParameters> _columns;
        private readonly ColumnFitter[] _fitters;
        private readonly CheckedInput[] _inputs;
        private readonly AffineParameters[] _affine;
        private readonly int _batchSize;
        private readonly ValueGetter<DataViewRowId> _aheadId;
        private readonly ExampleWeights? _weights;
        private long _rowsRead;

        public BatchLoader(DataViewRowCursor ahead, IReadOnlyList<BatchNormalizationParameters> columns, CheckedInput[] inputs, AffineParameters[] affine, int batchSize, ExampleWeights? weights)
        {
            _ahead = ahead;
            _weights = weights;
            _inputs = inputs;
            _columns = columns;
            _affine = affine;
            _batchSize = batchSize;
            _aheadId = ahead.GetIdGetter();
            _fitters = new ColumnFitter[columns.Count];
            for (int i = 0; i < _fitters.Length; i++)
            {
                _fitters[i] = ColumnFitter.Create(ahead, ahead.Schema[columns[i].InputColumnName], inputs[i].Shape, inputs[i].Layout, weight: weights?.Current);
            }
        }

        public void Dispose()
        {
            foreach (var fitter in _fitters)
            {
                fitter.Dispose();
            }
        }

        /// <summary>Loads the next batch; returns its row count (0 at the end) and the id of its first row.</summary>
        public int LoadNext(out DataViewRowId firstId)
        {
            firstId = default;
            int rows = 0;
            while (rows < _batchSize && _ahead.MoveNext())
            {
                if (rows == 0)
                {
                    _aheadId(ref firstId);
                }

                _weights?.Read(_rowsRead++);
                foreach (var fitter in _fitters)
                {
                    fitter.AddRow();
                }

                rows++;
            }

            for (int i = 0; i < _fitters.Length; i++)
            {
                var fitter = _fitters[i];
                var p = _columns[i];
                fitter.EndBatch();
                var layout = _inputs[i].Layout;
                for (int j = 0; j < layout.Slots; j++)
                {
                    int u = layout.UnitOf(j);
                    bool ownStatistics = rows >= 2 && fitter.BatchCount[u] >= 2;
                    _affine[i].SetSlot(j,
                        ownStatistics ? fitter.BatchMean[u] : p.RunningMean[u],
                        ownStatistics ? fitter.BatchVariance[u] : p.RunningVariance[u],
                        p.Gamma[u], p.Beta[u], p.Epsilon);
                }
            }

            return rows;
        }
    }

    private sealed class Cursor(DataViewRowCursor main, DataViewRowCursor ahead, DataViewRow row, BatchLoader loader) : DataViewRowCursor
    {
        private readonly ValueGetter<DataViewRowId> _mainId = main.GetIdGetter();
        private int _remaining;
        private DataViewRowId _expectedFirstId;
        private bool _firstOfBatch;

        public override DataViewSchema Schema => row.Schema;

        public override long Position => main.Position;

        public override long Batch => main.Batch;

        public override bool MoveNext()
        {
            if (_remaining == 0)
            {
                _remaining = loader.LoadNext(out _expectedFirstId);
                _firstOfBatch = true;
            }

            if (!main.MoveNext())
            {
                return false;
            }

            if (_firstOfBatch)
            {
                DataViewRowId id = default;
                _mainId(ref id);
                if (!id.Equals(_expectedFirstId))
                {
                    throw new InvalidOperationException("BatchNormalize's training pass read the source twice and got the rows in different orders; its source must give the same row order for the same seed.");
                }

                _firstOfBatch = false;
            }

            _remaining--;
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => main.GetIdGetter();

        public override bool IsColumnActive(DataViewSchema.Column column) => row.IsColumnActive(column);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => row.GetGetter<TValue>(column);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                row.Dispose();
                ahead.Dispose();
                loader.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
