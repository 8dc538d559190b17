using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Benchmarks;

/// <summary>Seeded in-memory data of one known-size Single vector column "Features".</summary>
public static class BenchData
{
    public sealed class Row
    {
        public float[] Features { get; set; } = [];
    }

    public static IDataView Vectors(MLContext ml, int rows, int slots, int seed = 42)
    {
        var random = new Random(seed);
        var data = new Row[rows];
        for (int i = 0; i < rows; i++)
        {
            var values = new float[slots];
            for (int j = 0; j < slots; j++)
            {
                values[j] = (float)((random.NextDouble() * 10) - 3 + j);
            }

            data[i] = new Row { Features = values };
        }

        var schema = SchemaDefinition.Create(typeof(Row));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, slots);
        return ml.Data.LoadFromEnumerable(data, schema);
    }

    /// <summary>Reads every value of <paramref name="column"/> through one cursor; returns a checksum so nothing is optimized away.</summary>
    public static float Drain(IDataView view, string column)
    {
        var col = view.Schema[column];
        using var cursor = view.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        VBuffer<float> buffer = default;
        float sum = 0;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            var values = buffer.GetValues();
            sum += values.Length > 0 ? values[0] : 0; // a sparse row may have no explicit value
        }

        return sum;
    }
}
