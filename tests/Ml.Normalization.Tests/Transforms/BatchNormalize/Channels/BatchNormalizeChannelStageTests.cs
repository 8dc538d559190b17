using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Channels;

/// <summary>
/// The per-channel stage as a pipeline stage: schema, the map per slot, bad input refused early, known constants
/// (torchvision's Normalize), save/load, PredictionEngine and the training pass.
/// </summary>
public class BatchNormalizeChannelStageTests
{
    private const int Channels = 3;
    private static readonly MLContext Ml = new(seed: 1);

    public static TheoryData<ChannelLayout> Layouts => new() { ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Transform_MapsEverySlotWithItsChannelsParameters_AndKeepsTheDimensions(ChannelLayout layout)
    {
        var (data, rows, dimensions) = Images(layout, seed: 1, rows: 20, height: 4, width: 5);
        var options = new BatchNormalizingEstimator.Options { ChannelLayout = layout, BatchSize = 8, Gamma = [2f, 0.5f, -1f], Beta = [0.25f] };
        var model = Ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Pixels")], options).Fit(data);
        var output = model.Transform(data);

        var type = Assert.IsType<VectorDataViewType>(output.Schema["Normalized"].Type);
        Assert.Equal(dimensions, type.Dimensions.ToArray());
        Assert.Equal(NumberDataViewType.Single, type.ItemType);
        var p = model.Columns[0];
        Assert.Equal(Channels, p.RunningMean.Count);
        Assert.Equal([2.0, 0.5, -1.0], p.Gamma);
        var actual = output.GetColumn<VBuffer<float>>("Normalized").Select(v => v.DenseValues().ToArray()).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < rows[i].Length; j++)
            {
                int c = layout == ChannelLayout.ChannelsFirst ? j / 20 : j % Channels;
                float scale = (float)(p.Gamma[c] / Math.Sqrt(p.RunningVariance[c] + p.Epsilon));
                float expected = ((rows[i][j] - (float)p.RunningMean[c]) * scale) + (float)p.Beta[c];
                Assert.Equal(expected, actual[i][j]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void FittedModel_SavesAndLoads_BitIdentical_InTheCurrentFormat(ChannelLayout layout)
    {
        var (data, _, _) = Images(layout, seed: 2, rows: 30, height: 3, width: 3);
        var model = Ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Pixels")],
            new BatchNormalizingEstimator.Options { ChannelLayout = layout, BatchSize = 8 }).Fit(data);
        using var stream = new MemoryStream();
        Ml.Model.Save(model, data.Schema, stream);
        Assert.Equal(0x00010007u, StageEntry.FormatVersion(stream.ToArray(), "MLNBNORM"));

        stream.Position = 0;
        var loaded = Assert.IsType<BatchNormalizingTransformer>(Ml.Model.Load(stream, out _));

        Assert.Equal(layout, loaded.Columns[0].ChannelLayout);
        Assert.Equal(model.Columns[0].RunningMean, loaded.Columns[0].RunningMean);
        Assert.Equal(Dump(model.Transform(data)), Dump(loaded.Transform(data)));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void PredictionEngine_GivesTheTransformsOutput(ChannelLayout layout)
    {
        var (data, rows, dimensions) = Images(layout, seed: 3, rows: 16, height: 2, width: 4);
        var model = Ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Pixels")],
            new BatchNormalizingEstimator.Options { ChannelLayout = layout, BatchSize = 8 }).Fit(data);
        var schema = SchemaDefinition.Create(typeof(ImageData.FloatRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimensions);
        var outputSchema = SchemaDefinition.Create(typeof(NormalizedRow));
        outputSchema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimensions);
        var engine = Ml.Model.CreatePredictionEngine<ImageData.FloatRow, NormalizedRow>(model, inputSchemaDefinition: schema, outputSchemaDefinition: outputSchema);

        var expected = model.Transform(data).GetColumn<VBuffer<float>>("Normalized").Select(v => v.DenseValues().ToArray()).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            Assert.Equal(expected[i], engine.Predict(new ImageData.FloatRow { Pixels = rows[i] }).Normalized);
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void TrainingPass_WithBatchStatistics_NormalizesEachBatchPerChannel(ChannelLayout layout)
    {
        var (data, rows, _) = Images(layout, seed: 4, rows: 24, height: 3, width: 4);
        var options = new BatchNormalizingEstimator.Options { ChannelLayout = layout, BatchSize = 8, BatchStatisticsInTraining = true, Epsilon = 1e-3f };
        var recorder = new RecordingEstimator(Ml, "Normalized");
        Ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Pixels")], options).Append(recorder).Fit(data);

        var seen = recorder.Seen;
        for (int from = 0; from < rows.Length; from += 8)
        {
            var (mean, variance, _) = ImageData.ChannelMoments(rows, from, from + 8, Channels, 12, layout);
            for (int i = from; i < from + 8; i++)
            {
                for (int c = 0; c < Channels; c++)
                {
                    for (int s = 0; s < 12; s++)
                    {
                        int j = ImageData.SlotOf(layout, Channels, 12, c, s);
                        double expected = (rows[i][j] - mean[c]) / Math.Sqrt(variance[c] + 1e-3f);
                        Assert.InRange(seen[i][j], expected - 1e-5, expected + 1e-5);
                    }
                }
            }
        }
    }

    [Fact]
    public void FromMeanAndStd_IsTorchvisionsNormalize_BitForBit()
    {
        double[] mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
        var random = new Random(5);
        var rows = Enumerable.Range(0, 50).Select(_ => Enumerable.Range(0, Channels * 64).Select(_ => random.Next(256) / 255f).ToArray()).ToArray();
        var data = ImageData.View(Ml, rows, Channels, 8, 8);
        var p = BatchNormalizationParameters.FromMeanAndStd("Input", "Pixels", ChannelLayout.ChannelsFirst, mean, std);

        Assert.Equal(0, p.Epsilon);
        Assert.Equal(std, p.RunningVariance.Select(Math.Sqrt));
        var output = Ml.Transforms.BatchNormalize(p).Fit(data).Transform(data).GetColumn<VBuffer<float>>("Input").Select(v => v.DenseValues().ToArray()).ToArray();
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < rows[i].Length; j++)
            {
                int c = j / 64;
                float torchvision = (rows[i][j] - (float)mean[c]) / (float)std[c]; // float32, as tensor.sub_(mean).div_(std)
                Assert.True(output[i][j] == torchvision, $"row {i} slot {j}: {output[i][j]:R} against {torchvision:R}");
            }
        }
    }

    [Fact]
    public void KnownConstants_ApplyToImagesOfAnySize_WithTheirChannelCount()
    {
        var p = BatchNormalizationParameters.ForChannels("Out", "Pixels", ChannelLayout.ChannelsLast, [1, 2], [4, 9], gamma: [1, 3], beta: [0, 1]);
        var stage = Ml.Transforms.BatchNormalize(p);
        foreach (int[] dimensions in new[] { new[] { 2, 3, 2 }, [5, 7, 2], [8] })
        {
            int size = dimensions.Aggregate(1, (a, b) => a * b);
            var data = ImageData.View(Ml, [Enumerable.Range(0, size).Select(v => (float)v).ToArray()], dimensions);
            var output = stage.Fit(data).Transform(data).GetColumn<VBuffer<float>>("Out").Single().DenseValues().ToArray();
            Assert.Equal((0f - 1f) / MathF.Sqrt(4 + 1e-5f), output[0], 6);
            Assert.Equal((3f * (1f - 2f) / MathF.Sqrt(9 + 1e-5f)) + 1f, output[1], 6);
        }
    }

    [Fact]
    public void KnownConstants_AppendToAnEstimatorChain_AndFitReturnsThemUnchanged()
    {
        var (data, _, _) = Images(ChannelLayout.ChannelsFirst, seed: 6, rows: 4, height: 2, width: 2);
        var stage = Ml.Transforms.BatchNormalize(BatchNormalizationParameters.FromMeanAndStd("Input", "Copy", ChannelLayout.ChannelsFirst, [0.5, 0.4, 0.3], [0.2, 0.2, 0.2]));
        var chain = Ml.Transforms.CopyColumns("Copy", "Pixels").Append(stage);

        var shape = chain.GetOutputSchema(Shapes.Of(data.Schema));
        var model = chain.Fit(data);

        var copied = Ml.Transforms.CopyColumns("Copy", "Pixels").Fit(data).Transform(data);
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, shape.Single(c => c.Name == "Input").Kind);
        Assert.Same(stage.Fit(copied), model.LastTransformer);
        Assert.Equal(Dump(stage.Fit(copied).Transform(copied)), Dump(model.Transform(data)));
        var scalar = Ml.Data.LoadFromEnumerable(new[] { new TestData.ScalarRow { Value = 1 } });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Transforms.BatchNormalize(
            BatchNormalizationParameters.FromMeanAndStd("Out", "Value", ChannelLayout.ChannelsLast, [0.5], [0.2])).GetOutputSchema(Shapes.Of(scalar.Schema)));
        Assert.StartsWith("Schema mismatch for input column 'Value': expected a known-size vector of Single or Double with 1 channels (ChannelsLast), got Single", ex.Message);
    }

    [Fact]
    public void Parameters_RefuseBadConstants_NamingTheArgument()
    {
        Assert.Equal("std", Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormalizationParameters.FromMeanAndStd("o", "i", ChannelLayout.ChannelsFirst, [0.5, 0.5], [0.2, 0])).ParamName);
        Assert.Equal("std", Assert.Throws<ArgumentException>(() => BatchNormalizationParameters.FromMeanAndStd("o", "i", ChannelLayout.ChannelsFirst, [0.5, 0.5], [0.2])).ParamName);
        Assert.Equal("channelLayout", Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormalizationParameters.FromMeanAndStd("o", "i", ChannelLayout.None, [0.5], [0.2])).ParamName);
        Assert.Equal("runningVariance", Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormalizationParameters.ForChannels("o", "i", ChannelLayout.ChannelsFirst, [0, 0], [1, 0], epsilon: 0)).ParamName);
        Assert.Equal("gamma", Assert.Throws<ArgumentException>(() => BatchNormalizationParameters.ForChannels("o", "i", ChannelLayout.ChannelsFirst, [0, 0], [1, 1], gamma: [1, 2, 3])).ParamName);
    }

    private static (IDataView Data, float[][] Rows, int[] Dimensions) Images(ChannelLayout layout, int seed, int rows, int height, int width)
    {
        var values = ImageData.Rows(seed, rows, Channels, height * width, layout);
        int[] dimensions = layout == ChannelLayout.ChannelsFirst ? [Channels, height, width] : [height, width, Channels];
        return (ImageData.View(Ml, values, dimensions), values, dimensions);
    }

    private static string Dump(IDataView view) => Testing.ModelIo.Dump(view);

    private sealed class NormalizedRow
    {
        public float[] Normalized { get; set; } = [];
    }
}
