using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Inverse;

/// <summary>Seeded parameters and data for the inverse's tests: an "X" column of Single or Double, scalar or vector.</summary>
internal static class InverseData
{
    /// <summary>Offsets cycled over the units: around 0, a negative one, and large ones (1e6 is 2^20: float ulp 1/16 there).</summary>
    private static readonly double[] Offsets = [0, -250, 1e6, 3e4];

    public sealed class FloatRow
    {
        public float[] X { get; set; } = [];
    }

    public sealed class DoubleRow
    {
        public double[] X { get; set; } = [];
    }

    public sealed class FloatScalarRow
    {
        public float X { get; set; }
    }

    public sealed class DoubleScalarRow
    {
        public double X { get; set; }
    }

    /// <summary>
    /// Parameters of <paramref name="units"/> slots or channels, named ("Normalized", "X"): unit u's mean around
    /// Offsets[u % 4], spread 0.5 to 50, gamma of either sign with |gamma| in [0.25, 4], beta in [-10, 10] (0 scale only).
    /// </summary>
    public static BatchNormalizationParameters Parameters(int seed, int units, ChannelLayout layout, bool centered, double epsilon = 1e-5)
    {
        var random = new Random(seed);
        var mean = new double[units];
        var variance = new double[units];
        var gamma = new double[units];
        var beta = new double[units];
        for (int u = 0; u < units; u++)
        {
            double spread = 0.5 * Math.Pow(100, random.NextDouble());
            mean[u] = Offsets[u % Offsets.Length] + (spread * ((2 * random.NextDouble()) - 1));
            variance[u] = spread * spread;
            gamma[u] = (random.NextDouble() < 0.3 ? -1 : 1) * 0.25 * Math.Pow(16, random.NextDouble());
            beta[u] = centered ? (20 * random.NextDouble()) - 10 : 0;
        }

        return new BatchNormalizationParameters("Normalized", "X", mean, variance, gamma, beta, epsilon, 0, 0, layout, null, centered);
    }

    /// <summary>Rows whose slot j is drawn around its unit's mean, within a few of its spreads.</summary>
    public static double[][] Rows(int seed, int rows, BatchNormalizationParameters p, int slots, int spatial)
    {
        var random = new Random(seed);
        var result = new double[rows][];
        for (int i = 0; i < rows; i++)
        {
            result[i] = new double[slots];
            for (int j = 0; j < slots; j++)
            {
                int u = UnitOf(p.ChannelLayout, p.UnitCount, spatial, j);
                result[i][j] = p.RunningMean[u] + (Math.Sqrt(p.RunningVariance[u]) * 3 * ((2 * random.NextDouble()) - 1));
            }
        }

        return result;
    }

    /// <summary>The unit (slot or channel) of slot <paramref name="slot"/>.</summary>
    public static int UnitOf(ChannelLayout layout, int units, int spatial, int slot) => layout switch
    {
        ChannelLayout.ChannelsFirst => slot / spatial,
        ChannelLayout.ChannelsLast => slot % units,
        _ => slot,
    };

    /// <summary>An "X" column: a scalar when <paramref name="dimensions"/> is empty, otherwise a vector of those dimensions.</summary>
    public static IDataView View(MLContext ml, double[][] rows, bool isDouble, params int[] dimensions)
    {
        if (dimensions.Length == 0)
        {
            return isDouble
                ? ml.Data.LoadFromEnumerable(rows.Select(r => new DoubleScalarRow { X = r[0] }).ToArray())
                : ml.Data.LoadFromEnumerable(rows.Select(r => new FloatScalarRow { X = (float)r[0] }).ToArray());
        }

        if (isDouble)
        {
            var schema = SchemaDefinition.Create(typeof(DoubleRow));
            schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Double, dimensions);
            return ml.Data.LoadFromEnumerable(rows.Select(r => new DoubleRow { X = r }).ToArray(), schema);
        }

        var floatSchema = SchemaDefinition.Create(typeof(FloatRow));
        floatSchema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimensions);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new FloatRow { X = r.Select(v => (float)v).ToArray() }).ToArray(), floatSchema);
    }

    /// <summary>A column's values row by row as double, whatever its type (Single or Double, scalar or vector).</summary>
    public static double[][] Read(IDataView view, string column)
    {
        var type = view.Schema[column].Type;
        var item = (type as VectorDataViewType)?.ItemType ?? type;
        return (type is VectorDataViewType, item == NumberDataViewType.Double) switch
        {
            (true, true) => [.. view.GetColumn<VBuffer<double>>(column).Select(v => v.DenseValues().ToArray())],
            (true, false) => [.. view.GetColumn<VBuffer<float>>(column).Select(v => v.DenseValues().Select(x => (double)x).ToArray())],
            (false, true) => [.. view.GetColumn<double>(column).Select(x => new[] { x })],
            _ => [.. view.GetColumn<float>(column).Select(x => new[] { (double)x })],
        };
    }

    /// <summary>The column's values rounded to its type: the x the stages really see.</summary>
    public static double[][] AsStored(double[][] rows, bool isDouble) =>
        isDouble ? rows : [.. rows.Select(r => r.Select(v => (double)(float)v).ToArray())];

    /// <summary>(channels, spatial) of a column of <paramref name="slots"/> slots: channel counts whose channels-last period leaves a tail.</summary>
    public static (int Channels, int Spatial) ChannelsOf(int slots) => slots switch
    {
        8 => (2, 4),
        9 or 63 => (3, slots / 3),
        64 => (4, 16),
        65 => (5, 13),
        _ => (slots, 1),
    };

    /// <summary>The dimensions of a column of <paramref name="slots"/> slots in <paramref name="layout"/>.</summary>
    public static int[] Dimensions(ChannelLayout layout, int slots)
    {
        var (channels, spatial) = ChannelsOf(slots);
        return layout switch
        {
            ChannelLayout.ChannelsFirst => [channels, spatial, 1],
            ChannelLayout.ChannelsLast => [spatial, 1, channels],
            _ => [slots],
        };
    }
}
