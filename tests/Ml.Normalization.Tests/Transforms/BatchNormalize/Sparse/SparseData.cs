using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

/// <summary>Sparse test rows, and the same values as a view of sparse VBuffers or of dense ones.</summary>
internal static class SparseData
{
    public sealed class FloatRow
    {
        public VBuffer<float> Features { get; set; }
    }

    public sealed class DoubleRow
    {
        public VBuffer<double> Features { get; set; }
    }

    /// <summary>
    /// Rows of <paramref name="slots"/> slots, as (indices, values): each slot j below slots / 2 is explicit with
    /// probability 0.15, slot 1 in most rows around 1000 (a large shift), slot 2 explicitly 0 or NaN at times, the last
    /// quarter of slots only in the first rows (long runs of untouched batches), slot 3 never; about 2% of the explicit
    /// values NaN when <paramref name="withNaN"/>, one of them in the first row.
    /// </summary>
    public static (int[] Indices, double[] Values)[] Make(int seed, int rows, int slots, bool withNaN)
    {
        var random = new Random(seed);
        var result = new (int[], double[])[rows];
        for (int r = 0; r < rows; r++)
        {
            var entries = new SortedDictionary<int, double>();
            for (int j = 0; j < slots; j++)
            {
                if (j == 3)
                {
                    continue;
                }

                bool present = j switch
                {
                    1 => random.NextDouble() < 0.8,
                    2 => random.NextDouble() < 0.3,
                    _ when j >= slots * 3 / 4 => r < 20 && random.NextDouble() < 0.3,
                    _ when j < slots / 2 => random.NextDouble() < 0.15,
                    _ => random.NextDouble() < 0.03,
                };
                if (!present)
                {
                    continue;
                }

                double value = j switch
                {
                    1 => 1000 + (random.NextDouble() * 3),
                    2 => random.NextDouble() < 0.5 ? 0 : 7,
                    _ => (random.NextDouble() * 4) - 1,
                };
                if (withNaN && ((r == 0 && j == 5) || random.NextDouble() < 0.02))
                {
                    value = double.NaN;
                }

                entries[j] = value;
            }

            if (withNaN && r == 0)
            {
                entries[5] = double.NaN;
            }

            result[r] = (entries.Keys.ToArray(), entries.Values.ToArray());
        }

        return result;
    }

    public static IDataView Floats(MLContext ml, (int[] Indices, double[] Values)[] rows, int slots, bool sparse)
    {
        var schema = SchemaDefinition.Create(typeof(FloatRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, slots);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new FloatRow { Features = Vector(r, slots, sparse, v => (float)v) }).ToArray(), schema);
    }

    public static IDataView Doubles(MLContext ml, (int[] Indices, double[] Values)[] rows, int slots, bool sparse)
    {
        var schema = SchemaDefinition.Create(typeof(DoubleRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Double, slots);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new DoubleRow { Features = Vector(r, slots, sparse, v => v) }).ToArray(), schema);
    }

    /// <summary>Every row of a vector column, each copied (a cursor's getter reuses its buffers row after row).</summary>
    public static VBuffer<T>[] Read<T>(IDataView view, string column) =>
        view.GetColumn<VBuffer<T>>(column).Select(v =>
        {
            VBuffer<T> copy = default;
            v.CopyTo(ref copy);
            return copy;
        }).ToArray();

    public static VBuffer<T> Vector<T>((int[] Indices, double[] Values) row, int slots, bool sparse, Func<double, T> convert)
    {
        var values = row.Values.Select(convert).ToArray();
        if (sparse)
        {
            return new VBuffer<T>(slots, values.Length, values, row.Indices.ToArray());
        }

        var dense = new T[slots];
        for (int i = 0; i < values.Length; i++)
        {
            dense[row.Indices[i]] = values[i];
        }

        return new VBuffer<T>(slots, dense);
    }
}
