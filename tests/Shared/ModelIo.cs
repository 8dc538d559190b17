using System.Globalization;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Testing;

/// <summary>
/// Shared by the tests and the ModelRunner process: the rows handed across processes, and a bit-exact text dump of
/// every numeric column of a view, so two processes' outputs can be compared as strings.
/// </summary>
public static class ModelIo
{
    public sealed class Row
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }
    }

    public static void WriteRows(string path, float[][] rows)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(rows.Length);
        writer.Write(rows[0].Length);
        foreach (var row in rows)
        {
            foreach (var v in row)
            {
                writer.Write(v);
            }
        }
    }

    public static float[][] ReadRows(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        int n = reader.ReadInt32(), d = reader.ReadInt32();
        var rows = new float[n][];
        for (int i = 0; i < n; i++)
        {
            rows[i] = new float[d];
            for (int j = 0; j < d; j++)
            {
                rows[i][j] = reader.ReadSingle();
            }
        }

        return rows;
    }

    public static IDataView ToView(MLContext ml, float[][] rows)
    {
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, rows[0].Length);
        return ml.Data.LoadFromEnumerable(rows.Select((r, i) => new Row { Features = r, Label = i % 2 == 0 }).ToArray(), schema);
    }

    /// <summary>Every Single, Double and Boolean column (scalar or vector), row by row, as exact bit patterns.</summary>
    public static string Dump(IDataView view)
    {
        var columns = view.Schema.Where(c => !c.IsHidden && ItemType(c.Type) is NumberDataViewType or BooleanDataViewType).ToArray();
        var text = new StringBuilder();
        using var cursor = view.GetRowCursor(columns);
        var dumpers = columns.Select(c => MakeDumper(cursor, c)).ToArray();
        while (cursor.MoveNext())
        {
            foreach (var dump in dumpers)
            {
                dump(text);
                text.Append(' ');
            }

            text.AppendLine();
        }

        return text.ToString();
    }

    private static DataViewType ItemType(DataViewType type) => (type as VectorDataViewType)?.ItemType ?? type;

    private static Action<StringBuilder> MakeDumper(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var item = ItemType(column.Type);
        bool vector = column.Type is VectorDataViewType;
        if (item == NumberDataViewType.Single)
        {
            return vector ? VectorDumper<float>(cursor, column, v => BitConverter.SingleToInt32Bits(v).ToString("X8", CultureInfo.InvariantCulture))
                : ScalarDumper<float>(cursor, column, v => BitConverter.SingleToInt32Bits(v).ToString("X8", CultureInfo.InvariantCulture));
        }

        if (item == NumberDataViewType.Double)
        {
            return vector ? VectorDumper<double>(cursor, column, v => BitConverter.DoubleToInt64Bits(v).ToString("X16", CultureInfo.InvariantCulture))
                : ScalarDumper<double>(cursor, column, v => BitConverter.DoubleToInt64Bits(v).ToString("X16", CultureInfo.InvariantCulture));
        }

        if (item == BooleanDataViewType.Instance && !vector)
        {
            return ScalarDumper<bool>(cursor, column, v => v ? "T" : "F");
        }

        return text => text.Append(column.Name).Append(":skipped");
    }

    private static Action<StringBuilder> ScalarDumper<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, string> format)
    {
        var getter = cursor.GetGetter<T>(column);
        T value = default!;
        return text =>
        {
            getter(ref value);
            text.Append(column.Name).Append('=').Append(format(value));
        };
    }

    private static Action<StringBuilder> VectorDumper<T>(DataViewRowCursor cursor, DataViewSchema.Column column, Func<T, string> format)
    {
        var getter = cursor.GetGetter<VBuffer<T>>(column);
        VBuffer<T> value = default;
        return text =>
        {
            getter(ref value);
            text.Append(column.Name).Append('=').AppendJoin(',', value.DenseValues().Select(format));
        };
    }
}
