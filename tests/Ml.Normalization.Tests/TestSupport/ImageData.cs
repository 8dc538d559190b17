using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>Image-like views: a "Pixels" column of Single (or Double) with dimensions, e.g. [C, H, W] or [H, W, C].</summary>
internal static class ImageData
{
    public sealed class FloatRow
    {
        public float[] Pixels { get; set; } = [];
    }

    public sealed class DoubleRow
    {
        public double[] Pixels { get; set; } = [];
    }

    /// <summary>A view of <paramref name="rows"/> whose "Pixels" column has <paramref name="dimensions"/> (one value: no dimensions).</summary>
    public static IDataView View(MLContext ml, float[][] rows, params int[] dimensions)
    {
        var schema = SchemaDefinition.Create(typeof(FloatRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimensions);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new FloatRow { Pixels = r }).ToArray(), schema);
    }

    public static IDataView DoubleView(MLContext ml, double[][] rows, params int[] dimensions)
    {
        var schema = SchemaDefinition.Create(typeof(DoubleRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Double, dimensions);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new DoubleRow { Pixels = r }).ToArray(), schema);
    }

    /// <summary>
    /// Seeded rows of channels x spatial values in <paramref name="layout"/>, channel c drawn around mean 10 * (c + 1) - 5
    /// with spread c + 0.5, so every channel's statistics differ.
    /// </summary>
    public static float[][] Rows(int seed, int rows, int channels, int spatial, ChannelLayout layout)
    {
        var random = new Random(seed);
        var result = new float[rows][];
        for (int i = 0; i < rows; i++)
        {
            var row = new float[channels * spatial];
            for (int c = 0; c < channels; c++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    double value = (10.0 * (c + 1)) - 5 + ((c + 0.5) * ((2 * random.NextDouble()) - 1));
                    row[SlotOf(layout, channels, spatial, c, s)] = (float)value;
                }
            }

            result[i] = row;
        }

        return result;
    }

    public static int SlotOf(ChannelLayout layout, int channels, int spatial, int channel, int position) =>
        layout == ChannelLayout.ChannelsLast ? (position * channels) + channel : (channel * spatial) + position;

    /// <summary>Per channel, the mean and biased variance (two passes, double) of the finite values of rows [from, to).</summary>
    public static (double[] Mean, double[] Variance, long[] Count) ChannelMoments(float[][] rows, int from, int to, int channels, int spatial, ChannelLayout layout)
    {
        var mean = new double[channels];
        var variance = new double[channels];
        var count = new long[channels];
        for (int c = 0; c < channels; c++)
        {
            var values = new List<double>();
            for (int i = from; i < to; i++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    double v = rows[i][SlotOf(layout, channels, spatial, c, s)];
                    if (double.IsFinite(v))
                    {
                        values.Add(v);
                    }
                }
            }

            count[c] = values.Count;
            mean[c] = values.Count == 0 ? double.NaN : values.Average();
            double m = mean[c];
            variance[c] = values.Count == 0 ? double.NaN : values.Sum(v => (v - m) * (v - m)) / values.Count;
        }

        return (mean, variance, count);
    }
}
