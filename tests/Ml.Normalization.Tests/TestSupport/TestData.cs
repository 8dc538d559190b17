using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>In-memory data views for the stage tests.</summary>
internal static class TestData
{
    public sealed class VectorRow
    {
        public float[] Features { get; set; } = [];
    }

    public sealed class DoubleVectorRow
    {
        public double[] Features { get; set; } = [];
    }

    public sealed class ScalarRow
    {
        public float Value { get; set; }
    }

    /// <summary>A view with one "Features" column of known size <paramref name="size"/> (0: variable size).</summary>
    public static IDataView Vectors(MLContext ml, IEnumerable<float[]> rows, int size, DataViewSchema.Annotations? annotations = null)
    {
        var schema = SchemaDefinition.Create(typeof(VectorRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, size);
        if (annotations is not null)
        {
            foreach (var a in annotations.Schema)
            {
                schema[0].AddAnnotation(a.Name, GetAnnotation(annotations, a), a.Type);
            }
        }

        return ml.Data.LoadFromEnumerable(rows.Select(r => new VectorRow { Features = r }).ToArray(), schema);
    }

    public static IDataView DoubleVectors(MLContext ml, IEnumerable<double[]> rows, int size)
    {
        var schema = SchemaDefinition.Create(typeof(DoubleVectorRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Double, size);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new DoubleVectorRow { Features = r }).ToArray(), schema);
    }

    /// <summary>Rows of a golden case's batches, flattened row-major, as float vectors.</summary>
    public static float[][] Rows(double[][] batches, int features) =>
        batches.SelectMany(b => Enumerable.Range(0, b.Length / features).Select(i => b.Skip(i * features).Take(features).Select(v => (float)v).ToArray())).ToArray();

    public static List<float[]> ReadVectors(IDataView view, string column)
    {
        var result = new List<float[]>();
        var col = view.Schema[column];
        using var cursor = view.GetRowCursor([col]);
        var getter = cursor.GetGetter<VBuffer<float>>(col);
        VBuffer<float> buffer = default;
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            result.Add(buffer.DenseValues().ToArray());
        }

        return result;
    }

    /// <summary>Reads <paramref name="column"/> through a parallel cursor set of <paramref name="n"/> cursors, keyed by row id.</summary>
    public static Dictionary<long, float[]> ReadByRowIdInParallel(IDataView view, string column, int n)
    {
        var col = view.Schema[column];
        var cursors = view.GetRowCursorSet([col], n);
        Assert.True(cursors.Length > 1, "the view should split into parallel cursors");
        var seen = new Dictionary<long, float[]>();
        foreach (var cursor in cursors)
        {
            using (cursor)
            {
                var getter = cursor.GetGetter<VBuffer<float>>(col);
                var id = cursor.GetIdGetter();
                VBuffer<float> buffer = default;
                DataViewRowId rowId = default;
                while (cursor.MoveNext())
                {
                    getter(ref buffer);
                    id(ref rowId);
                    seen.Add((long)rowId.Low, buffer.DenseValues().ToArray());
                }
            }
        }

        return seen;
    }

    public static float[][] Random(int seed, int rows, int size, double mean = 0, double std = 1)
    {
        var flat = SeededData.Normal(seed, rows * size, mean, std);
        return Enumerable.Range(0, rows).Select(i => flat.AsSpan(i * size, size).ToArray()).ToArray();
    }

    private static VBuffer<ReadOnlyMemory<char>> GetAnnotation(DataViewSchema.Annotations annotations, DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> value = default;
        annotations.GetValue(column.Name, ref value);
        return value;
    }
}
