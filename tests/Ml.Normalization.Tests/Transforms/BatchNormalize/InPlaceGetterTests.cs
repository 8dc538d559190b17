using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// The centering getters normalize each row in the caller's buffer, where the source's getter wrote it: the source's
/// own rows must stay untouched, and one buffer reused across dense and sparse rows (and rows of every layout) must give
/// each row the output it gets alone.
/// </summary>
public class InPlaceGetterTests
{
    [Theory]
    [InlineData(ChannelLayout.None)]
    [InlineData(ChannelLayout.ChannelsFirst)]
    [InlineData(ChannelLayout.ChannelsLast)]
    public void Transform_LeavesTheSourceRowsUnchanged_AndReadsTheSameTwice(ChannelLayout layout)
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(3, 40, 3 * 5 * 7, mean: 4, std: 2);
        var copies = rows.Select(r => (float[])r.Clone()).ToArray();
        var data = Images(ml, rows, layout);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], new BatchNormalizingEstimator.Options { ChannelLayout = layout, BatchSize = 16 }).Fit(data);

        var first = TestData.ReadVectors(model.Transform(data), "Out");
        var second = TestData.ReadVectors(model.Transform(data), "Out");

        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(copies[i], rows[i]);
            Assert.Equal(first[i], second[i]);
            Assert.NotEqual(rows[i], first[i]);
        }

        Assert.Equal(copies, TestData.ReadVectors(model.Transform(data), "Features"));
    }

    [Theory]
    [InlineData(ChannelLayout.None)]
    [InlineData(ChannelLayout.ChannelsFirst)]
    [InlineData(ChannelLayout.ChannelsLast)]
    public void Transform_MixedDenseAndSparseRows_ThroughOneBuffer_GiveTheDenseRowsOutputs(ChannelLayout layout)
    {
        var ml = new MLContext(seed: 1);
        int slots = 3 * 5 * 7;
        var random = new Random(11);
        var rows = Enumerable.Range(0, 30).Select(_ => Enumerable.Range(0, slots).Select(j => random.NextDouble() < 0.3 ? (float)(random.NextDouble() * 5) : 0f).ToArray()).ToArray();
        var dense = Images(ml, rows, layout);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], new BatchNormalizingEstimator.Options { ChannelLayout = layout, BatchSize = 8 }).Fit(dense);

        // Every third row dense, the others sparse (one of them with no explicit value at all).
        var mixed = rows.Select((r, i) =>
        {
            if (i % 3 == 0)
            {
                return new VectorRow { Features = new VBuffer<float>(slots, (float[])r.Clone()) };
            }

            var indices = i == 4 ? [] : Enumerable.Range(0, slots).Where(j => r[j] != 0).ToArray();
            return new VectorRow { Features = new VBuffer<float>(slots, indices.Length, indices.Select(j => r[j]).ToArray(), indices) };
        }).ToArray();
        rows[4] = new float[slots];
        var schema = SchemaDefinition.Create(typeof(VectorRow));
        schema[0].ColumnType = ImageType(slots, layout);
        var mixedView = ml.Data.LoadFromEnumerable(mixed, schema);

        var expected = TestData.ReadVectors(model.Transform(Images(ml, rows, layout)), "Out");
        var actual = TestData.ReadVectors(model.Transform(mixedView), "Out");
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], actual[i]);
        }
    }

    private static IDataView Images(MLContext ml, float[][] rows, ChannelLayout layout)
    {
        var data = TestData.Vectors(ml, rows, rows[0].Length);
        if (layout == ChannelLayout.None)
        {
            return data;
        }

        var schema = SchemaDefinition.Create(typeof(ArrayRow));
        schema[0].ColumnType = ImageType(rows[0].Length, layout);
        return ml.Data.LoadFromEnumerable(rows.Select(r => new ArrayRow { Features = r }), schema);
    }

    private static VectorDataViewType ImageType(int slots, ChannelLayout layout) => layout switch
    {
        ChannelLayout.ChannelsFirst => new VectorDataViewType(NumberDataViewType.Single, 3, 5, 7),
        ChannelLayout.ChannelsLast => new VectorDataViewType(NumberDataViewType.Single, 5, 7, 3),
        _ => new VectorDataViewType(NumberDataViewType.Single, slots),
    };

    private sealed class ArrayRow
    {
        public float[] Features { get; set; } = [];
    }

    private sealed class VectorRow
    {
        public VBuffer<float> Features { get; set; }
    }
}
