using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

public class ModelPersistenceTests
{
    private static readonly float[][] Rows = TestData.Random(seed: 3, rows: 100, size: 5, mean: 4, std: 2);

    [Fact]
    public void SaveLoad_InProcess_GivesBitIdenticalOutputs_AndParameters()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, Rows, 5);
        var model = ml.Transforms.BatchNormalize("Normalized", "Features", batchSize: 16).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;

        var loaded = new MLContext(seed: 2).Model.Load(stream, out var schema);

        var stage = Assert.IsType<BatchNormalizingTransformer>(Unwrap(loaded));
        Assert.Equal(model.Columns[0].RunningMean, stage.Columns[0].RunningMean);
        Assert.Equal(model.Columns[0].RunningVariance, stage.Columns[0].RunningVariance);
        Assert.Equal(model.Columns[0].BatchCount, stage.Columns[0].BatchCount);
        Assert.Equal(data.Schema.Select(c => c.Name), schema.Select(c => c.Name));
        var expected = TestData.ReadVectors(model.Transform(data), "Normalized");
        var actual = TestData.ReadVectors(loaded.Transform(data), "Normalized");
        Assert.Equal(expected.Select(Bits), actual.Select(Bits));
    }

    [Fact]
    public void Dropout_SaveLoad_KeepsSeedPAndKind_AndTheTrainingMasks()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, Rows, 5);
        var options = new DropoutEstimator.Options { DropProbability = 0.4f, Seed = 123, Kind = DropoutKind.Standard };
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Out", "Features")], options).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;

        var stage = Assert.IsType<DropoutTransformer>(Unwrap(new MLContext(seed: 2).Model.Load(stream, out _)));

        Assert.Equal((0.4f, 123, DropoutKind.Standard), (stage.DropProbability, stage.Seed, stage.Kind));
        Assert.Equal(TestData.ReadVectors(model.TransformForTraining(data), "Out"), TestData.ReadVectors(stage.TransformForTraining(data), "Out"));
        Assert.Equal(TestData.ReadVectors(model.Transform(data), "Out"), TestData.ReadVectors(stage.Transform(data), "Out"));
    }

    private static ITransformer Unwrap(ITransformer loaded) =>
        loaded is TransformerChain<ITransformer> chain ? chain.Single() : loaded;

    private static string Bits(float[] row) => string.Join(",", row.Select(v => BitConverter.SingleToInt32Bits(v).ToString("X8")));
}
