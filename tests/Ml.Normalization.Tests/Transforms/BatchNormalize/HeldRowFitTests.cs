using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// The dense fit holds rows in the buffers it hands the getter (ML.NET's getters write there). A getter that instead
/// hands out one buffer of its own, rewritten every row, and a column that turns sparse after dense rows, must give the
/// fit's statistics bit for bit as the same rows loaded from arrays.
/// </summary>
public class HeldRowFitTests
{
    private const int Slots = 37;

    [Theory]
    [InlineData(256)]
    [InlineData(100)]
    public void Fit_ThroughAGetterThatHandsOutItsOwnBuffer_EqualsTheFitOfTheSameRows(int batchSize)
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(2_003);
        var options = new BatchNormalizingEstimator.Options { BatchSize = batchSize };
        var expected = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(TestData.Vectors(ml, rows, Slots)).Columns[0];

        var actual = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(new OwnBufferView(rows)).Columns[0];

        Assert.Equal(expected.RunningMean.Select(BitConverter.DoubleToInt64Bits), actual.RunningMean.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(expected.RunningVariance.Select(BitConverter.DoubleToInt64Bits), actual.RunningVariance.Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void Fit_DenseRowsThenSparseOnes_EqualsTheFitOfTheDenseRows()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(5);
        var rows = Enumerable.Range(0, 1_001).Select(_ => Enumerable.Range(0, Slots).Select(j => random.NextDouble() < 0.4 ? (float)((random.NextDouble() * 50) + j) : 0f).ToArray()).ToArray();
        // The first 300 rows dense (the dense moments are chosen at the first row, and hold rows), then every other row sparse.
        var mixed = rows.Select((r, i) => new SparseRow
        {
            Features = i < 300 || i % 2 == 0
                ? new VBuffer<float>(Slots, (float[])r.Clone())
                : new VBuffer<float>(Slots, r.Count(v => v != 0), [.. r.Where(v => v != 0)], [.. Enumerable.Range(0, Slots).Where(j => r[j] != 0)]),
        }).ToArray();
        var schema = SchemaDefinition.Create(typeof(SparseRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Slots);

        var expected = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")]).Fit(TestData.Vectors(ml, rows, Slots)).Columns[0];
        var actual = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")]).Fit(ml.Data.LoadFromEnumerable(mixed, schema)).Columns[0];

        Assert.Equal(expected.RunningMean.Select(BitConverter.DoubleToInt64Bits), actual.RunningMean.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(expected.RunningVariance.Select(BitConverter.DoubleToInt64Bits), actual.RunningVariance.Select(BitConverter.DoubleToInt64Bits));
    }

    // Values far from 0 with a NaN in about one row in three, so held rows are also taken again one at a time.
    private static float[][] Rows(int count)
    {
        var random = new Random(count);
        return [.. Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, Slots).Select(j => random.Next(100) == 0 ? float.NaN : (float)((random.NextDouble() * 1e3) + (j * 1e5))).ToArray())];
    }

    private sealed class SparseRow
    {
        public VBuffer<float> Features { get; set; }
    }

    // A data view whose getter ignores the buffer it is handed and returns one array of its own, rewritten every row.
    private sealed class OwnBufferView(float[][] rows) : IDataView
    {
        private static readonly DataViewSchema TheSchema = BuildSchema();

        public bool CanShuffle => false;

        public DataViewSchema Schema => TheSchema;

        public long? GetRowCount() => rows.Length;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(rows);

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [new Cursor(rows)];

        private static DataViewSchema BuildSchema()
        {
            var builder = new DataViewSchema.Builder();
            builder.AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, Slots));
            return builder.ToSchema();
        }

        private sealed class Cursor(float[][] rows) : DataViewRowCursor
        {
            private readonly float[] _own = new float[Slots];
            private long _position = -1;

            public override DataViewSchema Schema => TheSchema;

            public override long Position => _position;

            public override long Batch => 0;

            public override bool MoveNext() => ++_position < rows.Length;

            public override bool IsColumnActive(DataViewSchema.Column column) => true;

            public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
            {
                ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> dst) =>
                {
                    rows[_position].CopyTo(_own, 0);
                    dst = new VBuffer<float>(Slots, _own);
                };
                return (ValueGetter<TValue>)(Delegate)getter;
            }
        }
    }
}
