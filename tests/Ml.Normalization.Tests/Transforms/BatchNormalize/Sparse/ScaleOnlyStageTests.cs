using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

/// <summary>Scale-only BatchNormalize (<c>Center = false</c>): sparse rows stay sparse, persistence, PredictionEngine, channels, options.</summary>
public class ScaleOnlyStageTests
{
    private const int Slots = 40;

    private static readonly BatchNormalizingEstimator.Options ScaleOnly = new() { Center = false, BatchSize = 16, Gamma = [1.5f] };

    [Fact]
    public void SparseRows_StaySparse_WithTheSameIndices_AndScaledValues()
    {
        var ml = new MLContext(seed: 1);
        var rows = SparseData.Make(3, 100, Slots, withNaN: true);
        var data = SparseData.Floats(ml, rows, Slots, sparse: true);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], ScaleOnly).Fit(data);
        var p = model.Columns[0];
        Assert.False(p.Centered);
        Assert.All(p.Beta, b => Assert.Equal(0, b));

        var inputs = SparseData.Read<float>(data, "Features");
        var outputs = SparseData.Read<float>(model.Transform(data), "Out");
        for (int r = 0; r < inputs.Length; r++)
        {
            Assert.False(outputs[r].IsDense);
            Assert.Equal(inputs[r].GetIndices().ToArray(), outputs[r].GetIndices().ToArray());
            var x = inputs[r].GetValues();
            var y = outputs[r].GetValues();
            for (int i = 0; i < x.Length; i++)
            {
                int j = inputs[r].GetIndices()[i];
                float scale = (float)(p.Gamma[j] / Math.Sqrt(p.RunningVariance[j] + p.Epsilon));
                Assert.Equal(x[i] * scale, y[i]); // NaN stays NaN (xUnit's Equal treats NaN as equal to NaN)
            }
        }
    }

    [Fact]
    public void DenseRows_StayDense_AndZerosStayZero_ForDouble()
    {
        var ml = new MLContext(seed: 1);
        var rows = SparseData.Make(4, 80, Slots, withNaN: false);
        var data = SparseData.Doubles(ml, rows, Slots, sparse: false);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], ScaleOnly).Fit(data);
        var p = model.Columns[0];
        var inputs = SparseData.Read<double>(data, "Features");
        var outputs = SparseData.Read<double>(model.Transform(data), "Out");
        for (int r = 0; r < inputs.Length; r++)
        {
            Assert.True(outputs[r].IsDense);
            var x = inputs[r].GetValues();
            var y = outputs[r].GetValues();
            for (int j = 0; j < Slots; j++)
            {
                Assert.Equal(x[j] * (p.Gamma[j] / Math.Sqrt(p.RunningVariance[j] + p.Epsilon)), y[j]);
            }
        }
    }

    [Fact]
    public void ScaleOnly_FitsTheSameStatistics_AsCentering()
    {
        var ml = new MLContext(seed: 1);
        var data = SparseData.Floats(ml, SparseData.Make(5, 90, Slots, withNaN: true), Slots, sparse: true);
        var scaled = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { Center = false }).Fit(data).Columns[0];
        var centered = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options()).Fit(data).Columns[0];
        Assert.True(centered.Centered);
        Assert.Equal(centered.RunningMean, scaled.RunningMean);
        Assert.Equal(centered.RunningVariance, scaled.RunningVariance);
    }

    [Fact]
    public void ScaleOnlyModel_KeepsNoRunningMean_NorGammaAndBetaPerSlot_AndListsTheSameValues()
    {
        // Issue 19, item 5: what scoring does not use is not held per slot (docs/sparse.md#memory), and reads the same.
        var ml = new MLContext(seed: 1);
        var data = SparseData.Floats(ml, SparseData.Make(5, 90, Slots, withNaN: true), Slots, sparse: true);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], ScaleOnly).Fit(data);
        var scaled = model.Columns[0];
        var centered = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { BatchSize = 16, Gamma = [1.5f] }).Fit(data).Columns[0];
        Assert.True(scaled.GammaValues.IsUniform);
        Assert.True(scaled.BetaValues.IsUniform);
        Assert.Equal(Enumerable.Repeat(1.5, Slots), scaled.Gamma);
        Assert.Equal(Enumerable.Repeat(0.0, Slots), scaled.Beta);

        SparseData.Read<float>(model.Transform(data), "Features");
        using var before = new MemoryStream();
        ml.Model.Save(model, data.Schema, before);
        Assert.False(scaled.HoldsRunningMean); // neither scoring nor saving made it
        Assert.Equal(centered.RunningMean, scaled.RunningMean); // bit for bit: the same finish of the same state
        Assert.True(scaled.HoldsRunningMean);
        using var after = new MemoryStream();
        ml.Model.Save(model, data.Schema, after);
        Assert.Equal(StageEntry.Contents(before.ToArray()), StageEntry.Contents(after.ToArray()));

        before.Position = 0;
        var loaded = Assert.IsType<BatchNormalizingTransformer>(ml.Model.Load(before, out _)).Columns[0];
        Assert.False(loaded.HoldsRunningMean);
        Assert.True(loaded.GammaValues.IsUniform);
        Assert.Equal(centered.RunningMean, loaded.RunningMean);
    }

    [Fact]
    public void Scalar_IsScaledWithoutCentering()
    {
        var ml = new MLContext(seed: 1);
        var values = new[] { 3f, 5f, -1f, 0f, float.NaN, 8f, 2f, 2f };
        var data = ml.Data.LoadFromEnumerable(values.Select(v => new TestData.ScalarRow { Value = v }));
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Value")], new BatchNormalizingEstimator.Options { Center = false, BatchSize = 4 }).Fit(data);
        var p = model.Columns[0];
        float scale = (float)(1 / Math.Sqrt(p.RunningVariance[0] + p.Epsilon));
        Assert.Equal(values.Select(v => v * scale), model.Transform(data).GetColumn<float>("Out"));
    }

    [Fact]
    public void SavesAndLoads_InThe10Format_ScaleOnly_WithTheSameSparseOutputs()
    {
        var ml = new MLContext(seed: 1);
        var data = SparseData.Floats(ml, SparseData.Make(6, 70, Slots, withNaN: true), Slots, sparse: true);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], ScaleOnly).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        Assert.Equal(0x00010007u, StageEntry.FormatVersion(stream.ToArray(), "MLNBNORM"));

        stream.Position = 0;
        var loaded = Assert.IsType<BatchNormalizingTransformer>(ml.Model.Load(stream, out _));
        Assert.False(loaded.Columns[0].Centered);
        Assert.Equal(model.Columns[0].RunningVariance, loaded.Columns[0].RunningVariance);
        var expected = SparseData.Read<float>(model.Transform(data), "Out");
        var actual = SparseData.Read<float>(loaded.Transform(data), "Out");
        for (int r = 0; r < expected.Length; r++)
        {
            Assert.False(actual[r].IsDense);
            Assert.Equal(expected[r].GetIndices().ToArray(), actual[r].GetIndices().ToArray());
            Assert.Equal(expected[r].GetValues().ToArray(), actual[r].GetValues().ToArray());
        }
    }

    [Fact]
    public void PredictionEngine_GivesTheTransformsOutput()
    {
        var ml = new MLContext(seed: 1);
        var rows = SparseData.Make(7, 50, Slots, withNaN: false);
        var data = SparseData.Floats(ml, rows, Slots, sparse: true);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], ScaleOnly).Fit(data);
        var schema = SchemaDefinition.Create(typeof(SparseData.FloatRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Slots);
        var outputSchema = SchemaDefinition.Create(typeof(OutRow));
        outputSchema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Slots);
        var engine = ml.Model.CreatePredictionEngine<SparseData.FloatRow, OutRow>(model, inputSchemaDefinition: schema, outputSchemaDefinition: outputSchema);
        var expected = SparseData.Read<float>(model.Transform(data), "Out");
        for (int r = 0; r < rows.Length; r++)
        {
            var output = engine.Predict(new SparseData.FloatRow { Features = SparseData.Vector(rows[r], Slots, sparse: true, v => (float)v) });
            Assert.Equal(expected[r].DenseValues(), output.Out.DenseValues());
        }
    }

    [Fact]
    public void Channels_ScaleEachChannel_WithoutCentering()
    {
        var ml = new MLContext(seed: 1);
        var images = Enumerable.Range(0, 12).Select(r => Enumerable.Range(0, 3 * 4).Select(k => (float)((r * 7 + k * 3) % 11) - 2f).ToArray()).ToArray();
        var schema = SchemaDefinition.Create(typeof(TestData.VectorRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 3, 2, 2);
        var data = ml.Data.LoadFromEnumerable(images.Select(x => new TestData.VectorRow { Features = x }), schema);
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")],
            new BatchNormalizingEstimator.Options { Center = false, ChannelLayout = ChannelLayout.ChannelsFirst, BatchSize = 4 }).Fit(data);
        var p = model.Columns[0];
        Assert.Equal(3, p.RunningVariance.Count);
        var outputs = model.Transform(data).GetColumn<VBuffer<float>>("Out").Select(v => v.DenseValues().ToArray()).ToArray();
        for (int r = 0; r < images.Length; r++)
        {
            for (int k = 0; k < images[r].Length; k++)
            {
                int c = k / 4;
                Assert.Equal(images[r][k] * (float)(1 / Math.Sqrt(p.RunningVariance[c] + p.Epsilon)), outputs[r][k]);
            }
        }
    }

    [Fact]
    public void TrainingPass_ScalesEachMiniBatch_ByItsOwnVariance_KeepingRowsSparse()
    {
        var ml = new MLContext(seed: 1);
        var rows = SparseData.Make(12, 48, Slots, withNaN: false);
        var data = SparseData.Floats(ml, rows, Slots, sparse: true);
        var options = new BatchNormalizingEstimator.Options { Center = false, BatchSize = 16, BatchStatisticsInTraining = true };
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], options).Fit(data);

        var outputs = SparseData.Read<float>(model.TransformForTraining(data), "Out");
        var dense = rows.Select(r => SparseData.Vector(r, Slots, sparse: false, v => v).DenseValues().ToArray()).ToArray();
        for (int r = 0; r < rows.Length; r++)
        {
            Assert.False(outputs[r].IsDense);
            Assert.Equal(rows[r].Indices, outputs[r].GetIndices().ToArray());
            var batch = dense.Skip(r / 16 * 16).Take(16).ToArray();
            for (int i = 0; i < rows[r].Indices.Length; i++)
            {
                int j = rows[r].Indices[i];
                double mean = batch.Average(x => x[j]);
                double variance = batch.Average(x => (x[j] - mean) * (x[j] - mean));
                float expected = (float)rows[r].Values[i] * (float)(1 / Math.Sqrt(variance + 1e-5));
                Assert.Equal(expected, outputs[r].GetValues()[i], 5);
            }
        }
    }

    [Fact]
    public void Options_ScaleOnlyWithANonZeroBeta_IsRefused_NamingBeta()
    {
        var ml = new MLContext(seed: 1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { Center = false, Beta = [0f, 0.5f] }));
        Assert.Equal("Beta", ex.ParamName);
        Assert.Contains("Center", ex.Message, StringComparison.Ordinal);

        // Zeros are fine.
        ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { Center = false, Beta = [0f] });
    }

    [Fact]
    public void ForScaleOnly_GivesKnownScaleOnlyParameters()
    {
        var ml = new MLContext(seed: 1);
        var p = BatchNormalizationParameters.ForScaleOnly("Out", "Features", [4.0, 0.25, 1.0], gamma: [2.0], epsilon: 0);
        Assert.False(p.Centered);
        Assert.Equal([0.0, 0.0, 0.0], p.RunningMean);
        Assert.Equal([0.0, 0.0, 0.0], p.Beta);
        var data = SparseData.Floats(ml, [([0, 2], [3.0, -1.0]), ([1], [8.0])], 3, sparse: true);
        var outputs = SparseData.Read<float>(ml.Transforms.BatchNormalize(p).Fit(data).Transform(data), "Out");
        Assert.Equal([3f, -2f], outputs[0].GetValues().ToArray());
        Assert.Equal([32f], outputs[1].GetValues().ToArray());
        Assert.Equal([1], outputs[1].GetIndices().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormalizationParameters.ForScaleOnly("Out", null, [0.0], epsilon: 0));
    }

    private sealed class OutRow
    {
        public VBuffer<float> Out { get; set; }
    }
}
