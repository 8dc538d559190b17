using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.Dropout;

/// <summary>
/// Channel dropout in the stage (<see cref="DropoutEstimator.Options.ChannelLayout"/>) against PyTorch's
/// <c>Dropout2d</c> semantics (its random stream differs, so the semantics are tested, not its bits): in the training pass
/// every channel of a row is all zero or all x / (1 - p); each channel is kept at rate 1 - p; rows and passes draw
/// independent masks; the same seed repeats them; scoring (and ONNX) is the identity. The channel options resolve as
/// BatchNormalize's, are refused as BatchNormalize's, and are saved with the model.
/// </summary>
public class ChannelDropoutStageTests
{
    private const int Channels = 4, Height = 2, Width = 3, Spatial = Height * Width;

    public static TheoryData<ChannelLayout> Layouts => new() { ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast };

    [Theory]
    [MemberData(nameof(Layouts))]
    public void TrainingPass_EveryChannelOfARowIsAllZeroOrAllXOverOneMinusP_AndEachChannelKeepsNearOneMinusP(ChannelLayout layout)
    {
        const int rows = 2000;
        const float p = 0.3f;
        var ml = new MLContext(seed: 1);
        var values = ImageData.Rows(1, rows, Channels, Spatial, layout); // channel c around 10c + 5: never 0
        var data = ImageData.View(ml, values, Dimensions(layout));
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], Options(layout, p, seed: 11)).Fit(data);

        var output = TestData.ReadVectors(model.TransformForTraining(data), "Out");

        float scale = (float)(1.0 / (1.0 - p));
        var kept = new int[Channels];
        for (int i = 0; i < rows; i++)
        {
            for (int c = 0; c < Channels; c++)
            {
                bool channelKept = output[i][ImageData.SlotOf(layout, Channels, Spatial, c, 0)] != 0f;
                for (int s = 0; s < Spatial; s++)
                {
                    int slot = ImageData.SlotOf(layout, Channels, Spatial, c, s);
                    Assert.Equal(channelKept ? values[i][slot] * scale : 0f, output[i][slot]);
                }

                kept[c] += channelKept ? 1 : 0;
            }
        }

        double standardError = Math.Sqrt(p * (1 - p) / rows);
        Assert.All(kept, k => Assert.InRange(k / (double)rows, 1 - p - (4.5 * standardError), 1 - p + (4.5 * standardError)));
    }

    [Fact]
    public void TrainingPass_DoubleColumn_DropsWholeChannels_ScaledInDouble()
    {
        var ml = new MLContext(seed: 1);
        var values = ImageData.Rows(2, 200, Channels, Spatial, ChannelLayout.ChannelsFirst).Select(r => r.Select(v => (double)v).ToArray()).ToArray();
        var data = ImageData.DoubleView(ml, values, Channels, Height, Width);
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], Options(ChannelLayout.ChannelsFirst, 0.5f, seed: 3)).Fit(data);

        var output = model.TransformForTraining(data).GetColumn<VBuffer<double>>("Out").Select(v => v.DenseValues().ToArray()).ToArray();

        int dropped = 0;
        for (int i = 0; i < values.Length; i++)
        {
            for (int c = 0; c < Channels; c++)
            {
                bool channelKept = output[i][c * Spatial] != 0;
                dropped += channelKept ? 0 : 1;
                for (int s = 0; s < Spatial; s++)
                {
                    Assert.Equal(channelKept ? values[i][(c * Spatial) + s] * 2.0 : 0.0, output[i][(c * Spatial) + s]);
                }
            }
        }

        Assert.InRange(dropped, 400 - (4 * 20), 400 + (4 * 20)); // 800 channels at p = 0.5: sd 14.1
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void TrainingPass_SameSeedRepeats_RowsAndPassesDrawIndependentMasks(ChannelLayout layout)
    {
        const int rows = 1000;
        var values = ImageData.Rows(3, rows, Channels, Spatial, layout);
        List<float[]> Pass(int seed, int passes)
        {
            var ml = new MLContext(seed: 1);
            var data = ImageData.View(ml, values, Dimensions(layout));
            var view = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], Options(layout, 0.5f, seed)).Fit(data).TransformForTraining(data);
            List<float[]> last = [];
            for (int k = 0; k < passes; k++)
            {
                last = TestData.ReadVectors(view, "Out");
            }

            return last;
        }

        bool[][] Masks(List<float[]> output) =>
            [.. output.Select(r => Enumerable.Range(0, Channels).Select(c => r[ImageData.SlotOf(layout, Channels, Spatial, c, 0)] != 0f).ToArray())];

        var first = Masks(Pass(5, 1));
        Assert.Equal(first, Masks(Pass(5, 1)));                      // same seed, same pass: same masks
        Assert.NotEqual(first, Masks(Pass(6, 1)));                   // another seed: others

        // p = 0.5: two independent masks agree on a channel half the time.
        var secondPass = Masks(Pass(5, 2));
        int rowAgreements = 0, passAgreements = 0;
        for (int i = 0; i < rows; i++)
        {
            for (int c = 0; c < Channels; c++)
            {
                rowAgreements += i + 1 < rows && first[i][c] == first[i + 1][c] ? 1 : 0;
                passAgreements += first[i][c] == secondPass[i][c] ? 1 : 0;
            }
        }

        double pairs = (rows - 1) * Channels, sd = Math.Sqrt(pairs / 4);
        Assert.InRange(rowAgreements, (pairs / 2) - (4 * sd), (pairs / 2) + (4 * sd));
        pairs = rows * Channels;
        sd = Math.Sqrt(pairs / 4);
        Assert.InRange(passAgreements, (pairs / 2) - (4 * sd), (pairs / 2) + (4 * sd));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void TrainingPass_OneValuePerChannel_IsPerSlotDropout_WithTheSameSeed(ChannelLayout layout)
    {
        // [C, 1, 1] or [1, 1, C]: channel c is slot c, and its draw is slot c's.
        var ml = new MLContext(seed: 1);
        var values = TestData.Random(4, 300, 8, mean: 3, std: 1);
        int[] dimensions = layout == ChannelLayout.ChannelsFirst ? [8, 1, 1] : [1, 1, 8];
        var channelData = ImageData.View(ml, values, dimensions);
        var slotData = ImageData.View(ml, values, 8);

        var channelDropout = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], Options(layout, 0.4f, seed: 9)).Fit(channelData);
        var slotDropout = ml.Transforms.Dropout("Out", "Pixels", 0.4f, seed: 9).Fit(slotData);

        Assert.Equal(TestData.ReadVectors(slotDropout.TransformForTraining(slotData), "Out"), TestData.ReadVectors(channelDropout.TransformForTraining(channelData), "Out"));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ChannelCountOption_OnAColumnWithoutDimensions_DropsAsTheDimensionsWould(ChannelLayout layout)
    {
        var ml = new MLContext(seed: 1);
        var values = ImageData.Rows(5, 100, Channels, Spatial, layout);
        var withDimensions = ImageData.View(ml, values, Dimensions(layout));
        var flat = ImageData.View(ml, values, Channels * Spatial);

        var fromDimensions = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], Options(layout, 0.5f, seed: 2)).Fit(withDimensions);
        var options = Options(layout, 0.5f, seed: 2);
        options.ChannelCount = Channels;
        var fromOption = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], options).Fit(flat);

        Assert.Equal(TestData.ReadVectors(fromDimensions.TransformForTraining(withDimensions), "Out"), TestData.ReadVectors(fromOption.TransformForTraining(flat), "Out"));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void SparseRows_KeepTheirIndices_AndEachValueFollowsItsChannelsDraw(ChannelLayout layout)
    {
        var ml = new MLContext(seed: 1);
        int size = Channels * Spatial;
        var dense = ImageData.Rows(6, 300, Channels, Spatial, layout);
        int[][] indices = [.. dense.Select((_, i) => Enumerable.Range(0, size).Where(j => (i + j) % 3 == 0).ToArray())];
        var sparseRows = dense.Select((r, i) => new SparseRow { Pixels = new VBuffer<float>(size, indices[i].Length, [.. indices[i].Select(j => r[j])], indices[i]) }).ToArray();
        var schema = SchemaDefinition.Create(typeof(SparseRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Dimensions(layout));
        var sparseData = ml.Data.LoadFromEnumerable(sparseRows, schema);
        // The same rows densified: zeros where the sparse rows have none.
        var denseData = ImageData.View(ml, [.. dense.Select((r, i) => r.Select((v, j) => indices[i].Contains(j) ? v : 0f).ToArray())], Dimensions(layout));

        var sparseOut = Dropped(ml, sparseData, layout);
        var denseOut = TestData.ReadVectors(ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], Options(layout, 0.5f, seed: 7)).Fit(denseData).TransformForTraining(denseData), "Out");

        int droppedValues = 0;
        for (int i = 0; i < dense.Length; i++)
        {
            Assert.False(sparseOut[i].IsDense);
            Assert.Equal(indices[i], sparseOut[i].GetIndices().ToArray());
            var sparseValues = sparseOut[i].GetValues();
            for (int k = 0; k < indices[i].Length; k++)
            {
                Assert.Equal(denseOut[i][indices[i][k]], sparseValues[k]);
                droppedValues += sparseValues[k] == 0f ? 1 : 0;
            }
        }

        Assert.True(droppedValues > 0 && droppedValues < indices.Sum(ix => ix.Length), "both dropped and kept values were compared");
    }

    [Theory]
    [InlineData(DropoutKind.Inverted, 1f)]
    [InlineData(DropoutKind.Standard, 0.75f)]
    public void Scoring_IsUnchangedByChannels_TheIdentityOrXTimesOneMinusP(DropoutKind kind, float factor)
    {
        var ml = new MLContext(seed: 1);
        var values = ImageData.Rows(7, 50, Channels, Spatial, ChannelLayout.ChannelsLast);
        var data = ImageData.View(ml, values, Dimensions(ChannelLayout.ChannelsLast));
        var options = Options(ChannelLayout.ChannelsLast, 0.25f, seed: 1);
        options.Kind = kind;
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], options).Fit(data);

        Assert.Equal(values.Select(r => r.Select(v => v * factor).ToArray()), TestData.ReadVectors(model.Transform(data), "Out"));
        Assert.Equal(Dimensions(ChannelLayout.ChannelsLast), ((VectorDataViewType)model.Transform(data).Schema["Out"].Type).Dimensions.ToArray());
    }

    [Fact]
    public void StandardDropout_TrainingPass_KeepsWholeChannelsUnscaled()
    {
        var ml = new MLContext(seed: 1);
        var values = ImageData.Rows(8, 100, Channels, Spatial, ChannelLayout.ChannelsFirst);
        var data = ImageData.View(ml, values, Dimensions(ChannelLayout.ChannelsFirst));
        var options = Options(ChannelLayout.ChannelsFirst, 0.5f, seed: 4);
        options.Kind = DropoutKind.Standard;

        var output = TestData.ReadVectors(ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], options).Fit(data).TransformForTraining(data), "Out");

        for (int i = 0; i < values.Length; i++)
        {
            for (int c = 0; c < Channels; c++)
            {
                var channel = output[i].AsSpan(c * Spatial, Spatial).ToArray();
                Assert.True(channel.All(v => v == 0f) || channel.SequenceEqual(values[i].AsSpan(c * Spatial, Spatial).ToArray()), $"row {i}, channel {c}");
            }
        }

        Assert.Contains(output, r => r.Contains(0f));
    }

    [Fact]
    public void SaveAndLoad_KeepTheChannelOptions_AndTheLoadedStageDropsTheSameChannels()
    {
        var ml = new MLContext(seed: 1);
        var values = ImageData.Rows(9, 100, Channels, Spatial, ChannelLayout.ChannelsLast);
        var data = ImageData.View(ml, values, Channels * Spatial); // no dimensions: the count comes from the option
        var options = Options(ChannelLayout.ChannelsLast, 0.5f, seed: 12);
        options.ChannelCount = Channels;
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], options).Fit(data);

        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var loaded = new MLContext(seed: 2).Model.Load(stream, out _);
        var stage = Assert.IsType<DropoutTransformer>(loaded is TransformerChain<ITransformer> chain ? chain.Single() : loaded);

        Assert.Equal((ChannelLayout.ChannelsLast, Channels, 12), (stage.ChannelLayout, stage.ChannelCount, stage.Seed));
        Assert.Equal(TestData.ReadVectors(model.TransformForTraining(data), "Out"), TestData.ReadVectors(stage.TransformForTraining(data), "Out"));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Onnx_ExportsTheIdentity_InTheInputsDimensions(ChannelLayout layout)
    {
        var ml = new MLContext(seed: 1);
        const int rows = 6;
        var values = ImageData.Rows(10, rows, Channels, Spatial, layout);
        var data = ImageData.View(ml, values, Dimensions(layout));
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], Options(layout, 0.5f, seed: 1)).Fit(data);

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        using var session = new InferenceSession(stream.ToArray());
        var shape = new[] { rows }.Concat(Dimensions(layout)).ToArray();
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Pixels", new DenseTensor<float>(values.SelectMany(r => r).ToArray(), shape))]);
        var tensor = results.Single(r => r.Name == "Out.output").AsTensor<float>();

        Assert.Equal(shape, tensor.Dimensions.ToArray());
        Assert.Equal(values.SelectMany(r => r).ToArray(), tensor.ToArray());
    }

    [Theory]
    [InlineData(ChannelLayout.ChannelsFirst, 5, new[] { 12 }, "Schema mismatch for input column 'Pixels': expected a vector whose size is a multiple of its 5 channels, got Vector<Single, 12> of 12 slots")]
    [InlineData(ChannelLayout.ChannelsFirst, 0, new[] { 12 }, "Schema mismatch for input column 'Pixels': expected a vector with dimensions ([C, H, W] or [H, W, C]) to take the channel count from, or set ChannelCount, got Vector<Single, 12>")]
    [InlineData(ChannelLayout.ChannelsFirst, 4, new[] { 3, 2, 2 }, "Schema mismatch for input column 'Pixels': expected 4 channels as the first dimension (ChannelsFirst), got Vector<Single, 3, 2, 2>, whose first dimension is 3")]
    [InlineData(ChannelLayout.ChannelsLast, 3, new[] { 3, 2, 2 }, "Schema mismatch for input column 'Pixels': expected 3 channels as the last dimension (ChannelsLast), got Vector<Single, 3, 2, 2>, whose last dimension is 2")]
    public void Fit_ColumnTheChannelsDoNotDescribe_ThrowsSchemaMismatch_NamingTheColumn(ChannelLayout layout, int channelCount, int[] dimensions, string message)
    {
        var ml = new MLContext(seed: 1);
        int size = dimensions.Aggregate(1, (a, b) => a * b);
        var data = ImageData.View(ml, ImageData.Rows(1, 4, 1, size, ChannelLayout.ChannelsFirst), dimensions);
        var options = Options(layout, 0.5f, seed: 1);
        options.ChannelCount = channelCount;

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], options).Fit(data));

        Assert.Equal("input", ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void GetOutputSchema_ScalarOrVariableSizeColumn_WithChannels_ThrowsSchemaMismatch()
    {
        var ml = new MLContext(seed: 1);
        var scalar = ml.Data.LoadFromEnumerable(new[] { new TestData.ScalarRow { Value = 1 } });
        var variable = TestData.Vectors(ml, [[1f, 2f]], size: 0);
        var options = Options(ChannelLayout.ChannelsLast, 0.5f, seed: 1);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Value")], options).GetOutputSchema(Shapes.Of(scalar.Schema)));
        Assert.Equal("inputSchema", ex.ParamName);
        Assert.StartsWith("Schema mismatch for input column 'Value': expected a known-size vector of Single or Double with channels (ChannelsLast), got Single", ex.Message);

        ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Features")], options).GetOutputSchema(Shapes.Of(variable.Schema)));
        Assert.StartsWith("Schema mismatch for input column 'Features': expected a known-size vector of Single or Double with channels (ChannelsLast), got VarVector<Single>", ex.Message);

        // Fit refuses them too (without channels, Dropout takes both).
        Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Features")], options).Fit(variable));
        Assert.NotNull(ml.Transforms.Dropout("Out", "Features", 0.5f, seed: 1).Fit(variable));
    }

    [Fact]
    public void Transformer_ColumnWithOtherChannelCount_ThrowsSchemaMismatch_AtGetOutputSchema()
    {
        var ml = new MLContext(seed: 1);
        var options = Options(ChannelLayout.ChannelsFirst, 0.5f, seed: 1);
        options.ChannelCount = 3;
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], options)
            .Fit(ImageData.View(ml, ImageData.Rows(1, 2, 3, 4, ChannelLayout.ChannelsFirst), 3, 2, 2));
        var other = ImageData.View(ml, ImageData.Rows(1, 2, 4, 4, ChannelLayout.ChannelsFirst), 4, 2, 2);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => model.GetOutputSchema(other.Schema));

        Assert.Equal("inputSchema", ex.ParamName);
        Assert.StartsWith("Schema mismatch for input column 'Pixels': expected 3 channels as the first dimension (ChannelsFirst), got Vector<Single, 4, 2, 2>, whose first dimension is 4", ex.Message);
    }

    [Theory]
    [InlineData(ChannelLayout.None, 3, "ChannelCount")]
    [InlineData(ChannelLayout.ChannelsFirst, -1, "ChannelCount")]
    [InlineData((ChannelLayout)7, 0, "ChannelLayout")]
    public void Options_Inconsistent_ThrowAtConstruction_NamingTheOption(ChannelLayout layout, int channelCount, string paramName)
    {
        var options = Options(layout, 0.5f, seed: 1);
        options.ChannelCount = channelCount;
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext().Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], options));
        Assert.Equal(paramName, ex.ParamName);
    }

    private static DropoutEstimator.Options Options(ChannelLayout layout, float p, int seed) =>
        new() { DropProbability = p, Seed = seed, ChannelLayout = layout };

    private static int[] Dimensions(ChannelLayout layout) =>
        layout == ChannelLayout.ChannelsFirst ? [Channels, Height, Width] : [Height, Width, Channels];

    private static List<VBuffer<float>> Dropped(MLContext ml, IDataView data, ChannelLayout layout)
    {
        var view = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Pixels")], Options(layout, 0.5f, seed: 7)).Fit(data).TransformForTraining(data);
        var column = view.Schema["Out"];
        using var cursor = view.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        var result = new List<VBuffer<float>>();
        while (cursor.MoveNext())
        {
            VBuffer<float> buffer = default;
            getter(ref buffer);
            result.Add(buffer);
        }

        return result;
    }

    private sealed class SparseRow
    {
        public VBuffer<float> Pixels { get; set; }
    }
}
