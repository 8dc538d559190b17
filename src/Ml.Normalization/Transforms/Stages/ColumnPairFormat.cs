using Microsoft.ML;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.Transforms.Stages;

/// <summary>How the stages store their column pairs: a count (1 to 65536), then each pair's output and input names.</summary>
internal static class ColumnPairFormat
{
    public static InputOutputColumnPair[] Read(ModelBodyReader reader)
    {
        int count = reader.ReadCount("the column count", 1, 1 << 16);
        var columns = new InputOutputColumnPair[count];
        for (int i = 0; i < count; i++)
        {
            columns[i] = new InputOutputColumnPair(reader.ReadString("an output column name"), reader.ReadString("an input column name"));
        }

        return columns;
    }

    public static void Write(BinaryWriter writer, IReadOnlyList<InputOutputColumnPair> columns)
    {
        writer.Write(columns.Count);
        foreach (var pair in columns)
        {
            writer.Write(pair.OutputColumnName);
            writer.Write(pair.InputColumnName);
        }
    }
}
