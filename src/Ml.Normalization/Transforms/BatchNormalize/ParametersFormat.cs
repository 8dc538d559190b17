using Ml.Normalization.Fitting;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// How a stage stores one column's <see cref="BatchNormalizationParameters"/>, in two parts that both BatchNormalize
/// stages write: the head (output and input names, <c>int32</c> channel layout, byte centered, <c>int32</c> unit count,
/// <c>float64</c> epsilon) and the values (unit-count <c>float64</c> running means, running variances, gammas, betas).
/// BatchNormalize writes its batch and row counts between the two, and its fit state after them; the inverse writes
/// nothing else.
/// </summary>
internal static class ParametersFormat
{
    /// <summary>The head of column <c>i</c>.</summary>
    internal readonly record struct StoredHead(string OutputColumnName, string InputColumnName, ChannelLayout Layout, bool Centered, int Units, double Epsilon);

    /// <summary>The values of one column.</summary>
    internal readonly record struct StoredValues(double[] Mean, double[] Variance, double[] Gamma, double[] Beta);

    public static void WriteHead(BinaryWriter writer, BatchNormalizationParameters column)
    {
        writer.Write(column.OutputColumnName);
        writer.Write(column.InputColumnName);
        writer.Write((int)column.ChannelLayout);
        writer.Write(column.Centered ? (byte)1 : (byte)0);
        writer.Write(column.UnitCount);
        writer.Write(column.Epsilon);
    }

    public static StoredHead ReadHead(ModelBodyReader reader, int column)
    {
        string output = reader.ReadString("an output column name");
        string input = reader.ReadString("an input column name");
        var layout = (ChannelLayout)reader.ReadCount("a channel layout", 0, (int)ChannelLayout.ChannelsLast);
        byte centeredFlag = reader.ReadByte();
        bool centered = centeredFlag <= 1 ? centeredFlag == 1 : throw reader.Corrupt($"the centering flag of column {column} is {centeredFlag}, expected 0 or 1");
        int units = reader.ReadCount("a unit count", 1, int.MaxValue / 4);
        return new StoredHead(output, input, layout, centered, units, reader.ReadDouble());
    }

    public static void WriteValues(BinaryWriter writer, BatchNormalizationParameters column)
    {
        Write(writer, column.RunningMeanToWrite);
        Write(writer, column.RunningVarianceValues);
        WriteUnits(writer, column.GammaValues);
        WriteUnits(writer, column.BetaValues);

        static void Write(BinaryWriter writer, ReadOnlySpan<double> values)
        {
            foreach (var v in values)
            {
                writer.Write(v);
            }
        }

        static void WriteUnits(BinaryWriter writer, UnitValues values)
        {
            if (values.PerUnit is { } perUnit)
            {
                Write(writer, perUnit);
                return;
            }

            // Held once: written once per unit, as the format has it.
            for (int j = 0; j < values.Count; j++)
            {
                writer.Write(values[0]);
            }
        }
    }

    public static StoredValues ReadValues(ModelBodyReader reader, int units) =>
        new(reader.ReadDoubles(units, "running mean"), reader.ReadDoubles(units, "running variance"), reader.ReadDoubles(units, "gamma"), reader.ReadDoubles(units, "beta"));
}
