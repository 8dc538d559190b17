using Microsoft.ML;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Channels;

/// <summary>A column the channel option cannot describe is refused early, naming the column, at GetOutputSchema and at Fit.</summary>
public class BatchNormalizeChannelValidationTests
{
    private static readonly MLContext Ml = new(seed: 1);

    private static IDataView View(params int[] dimensions)
    {
        int size = dimensions.Aggregate(1, (a, b) => a * b);
        return ImageData.View(Ml, ImageData.Rows(1, 4, 1, size, ChannelLayout.ChannelsFirst), dimensions);
    }

    private static BatchNormalizingEstimator Estimator(ChannelLayout layout, int channelCount = 0) =>
        Ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Pixels")], new BatchNormalizingEstimator.Options { ChannelLayout = layout, ChannelCount = channelCount, BatchSize = 2 });

    [Theory]
    [InlineData(ChannelLayout.ChannelsFirst, 5, new[] { 12 }, "Schema mismatch for input column 'Pixels': expected a vector whose size is a multiple of its 5 channels, got Vector<Single, 12> of 12 slots")]
    [InlineData(ChannelLayout.ChannelsFirst, 0, new[] { 12 }, "Schema mismatch for input column 'Pixels': expected a vector with dimensions ([C, H, W] or [H, W, C]) to take the channel count from, or set ChannelCount, got Vector<Single, 12>")]
    [InlineData(ChannelLayout.ChannelsFirst, 4, new[] { 3, 2, 2 }, "Schema mismatch for input column 'Pixels': expected 4 channels as the first dimension (ChannelsFirst), got Vector<Single, 3, 2, 2>, whose first dimension is 3")]
    [InlineData(ChannelLayout.ChannelsLast, 3, new[] { 3, 2, 2 }, "Schema mismatch for input column 'Pixels': expected 3 channels as the last dimension (ChannelsLast), got Vector<Single, 3, 2, 2>, whose last dimension is 2")]
    public void Fit_ColumnTheChannelsDoNotDescribe_ThrowsSchemaMismatch_BeforeReadingData(ChannelLayout layout, int channelCount, int[] dimensions, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Estimator(layout, channelCount).Fit(View(dimensions)));
        Assert.Equal("input", ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void GetOutputSchema_ScalarColumn_WithChannels_ThrowsSchemaMismatch()
    {
        var data = Ml.Data.LoadFromEnumerable(new[] { new TestData.ScalarRow { Value = 1 } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Value")], new BatchNormalizingEstimator.Options { ChannelLayout = ChannelLayout.ChannelsLast })
                .GetOutputSchema(Shapes.Of(data.Schema)));
        Assert.Equal("inputSchema", ex.ParamName);
        Assert.StartsWith("Schema mismatch for input column 'Value': expected a known-size vector of Single or Double with channels (ChannelsLast), got Single", ex.Message);
    }

    [Fact]
    public void Transformer_ColumnWithOtherChannelCount_ThrowsSchemaMismatch_AtGetOutputSchema()
    {
        var model = Estimator(ChannelLayout.ChannelsFirst).Fit(View(3, 2, 2));

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.GetOutputSchema(View(4, 2, 2).Schema));

        Assert.Equal("inputSchema", ex.ParamName);
        Assert.StartsWith("Schema mismatch for input column 'Pixels': expected 3 channels as the first dimension (ChannelsFirst), got Vector<Single, 4, 2, 2>, whose first dimension is 4", ex.Message);
    }

    [Theory]
    [InlineData(ChannelLayout.None, 3, "ChannelCount")]
    [InlineData(ChannelLayout.ChannelsFirst, -1, "ChannelCount")]
    [InlineData((ChannelLayout)7, 0, "ChannelLayout")]
    public void Options_Inconsistent_ThrowAtConstruction(ChannelLayout layout, int channelCount, string paramName)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Estimator(layout, channelCount));
        Assert.Equal(paramName, ex.ParamName);
    }

    [Fact]
    public void Fit_GammaOfAnotherLength_ThrowsNamingGamma()
    {
        var estimator = Ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Pixels")],
            new BatchNormalizingEstimator.Options { ChannelLayout = ChannelLayout.ChannelsFirst, Gamma = [1f, 2f], BatchSize = 2 });
        var ex = Assert.Throws<ArgumentException>(() => estimator.Fit(View(3, 2, 2)));
        Assert.Equal("Gamma", ex.ParamName);
        Assert.Contains("one per slot (3)", ex.Message);
    }
}
