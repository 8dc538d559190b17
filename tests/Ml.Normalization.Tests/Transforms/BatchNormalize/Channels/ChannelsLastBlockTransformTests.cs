using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Transforms.BatchNormalize;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Channels;

/// <summary>
/// The channels-last transform applies one period of the interleaved channels' parameters block by block (the least
/// common multiple of the channel count and the vector width) and then a shorter tail; every slot must still get its own
/// channel's <c>((x - mean) * scale) + offset</c>, bit for bit, whatever the channel count and image size.
/// </summary>
public class ChannelsLastBlockTransformTests
{
    public static TheoryData<int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (int channels in new[] { 1, 2, 3, 5, 8, 16, 17 })
        {
            foreach (int spatial in new[] { 1, 7, 8, 9, 63, 64, 65 })
            {
                data.Add(channels, spatial, channels * spatial % 2 == 0);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Transform_MapsEverySlotWithItsChannelsParameters_BitForBit(int channels, int spatial, bool isDouble)
    {
        var ml = new MLContext(seed: 1);
        var random = new Random((channels * 100) + spatial);
        double[] Draw(double scale, double shift) => Enumerable.Range(0, channels).Select(_ => (random.NextDouble() * scale) + shift).ToArray();
        var parameters = BatchNormalizationParameters.ForChannels("Y", "X", ChannelLayout.ChannelsLast, Draw(4, -2), Draw(3, 0.1), Draw(2, -1), Draw(1, -0.5));
        var rows = Enumerable.Range(0, 5).Select(_ => Enumerable.Range(0, channels * spatial).Select(_ => (random.NextDouble() * 20) - 10).ToArray()).ToArray();
        var affine = AffineParameters.From(parameters, isDouble);

        if (isDouble)
        {
            var view = View(ml, rows.Select(r => new DoubleRow { X = r }), NumberDataViewType.Double, spatial, channels);
            var actual = ml.Transforms.BatchNormalize(parameters).Fit(view).Transform(view).GetColumn<VBuffer<double>>("Y").Select(v => v.DenseValues().ToArray()).ToArray();
            var p = (AffineParameters<double>)affine;
            Check(rows, actual, (x, c) => ((x - p.Mean[c]) * p.Scale[c]) + p.Offset[c], channels);
        }
        else
        {
            var view = View(ml, rows.Select(r => new FloatRow { X = r.Select(v => (float)v).ToArray() }), NumberDataViewType.Single, spatial, channels);
            var actual = ml.Transforms.BatchNormalize(parameters).Fit(view).Transform(view).GetColumn<VBuffer<float>>("Y").Select(v => v.DenseValues().ToArray()).ToArray();
            var p = (AffineParameters<float>)affine;
            Check(rows.Select(r => r.Select(v => (float)v).ToArray()).ToArray(), actual, (x, c) => ((x - p.Mean[c]) * p.Scale[c]) + p.Offset[c], channels);
        }
    }

    private static void Check<T>(T[][] rows, T[][] actual, Func<T, int, T> expected, int channels)
    {
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(rows[i].Length, actual[i].Length);
            for (int j = 0; j < rows[i].Length; j++)
            {
                Assert.True(EqualityComparer<T>.Default.Equals(expected(rows[i][j], j % channels), actual[i][j]), $"row {i}, slot {j}: expected {expected(rows[i][j], j % channels)}, got {actual[i][j]}");
            }
        }
    }

    private static IDataView View<TRow>(MLContext ml, IEnumerable<TRow> rows, PrimitiveDataViewType itemType, int spatial, int channels)
        where TRow : class
    {
        var schema = SchemaDefinition.Create(typeof(TRow));
        schema[0].ColumnType = new VectorDataViewType(itemType, spatial, channels);
        return ml.Data.LoadFromEnumerable(rows.ToArray(), schema);
    }

    private sealed class FloatRow
    {
        public float[] X { get; set; } = [];
    }

    private sealed class DoubleRow
    {
        public double[] X { get; set; } = [];
    }
}
