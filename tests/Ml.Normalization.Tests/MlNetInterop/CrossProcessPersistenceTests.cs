using Microsoft.ML;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>Model.Save here, Model.Load in a fresh process with no registration call: bit-identical outputs.</summary>
public sealed class CrossProcessPersistenceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mlnorm-xproc-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void BatchNormalizeAlone_LoadsInAFreshProcess_BitIdentical()
    {
        var ml = new MLContext(seed: 1);
        var train = ModelIo.ToView(ml, TestData.Random(1, 300, 6, mean: 10, std: 4));
        var model = ml.Transforms.BatchNormalize("Normalized", "Features", batchSize: 32).Fit(train);
        AssertFreshProcessMatches(ml, model, train.Schema, "BatchNormalizingTransformer");
    }

    [Fact]
    public void BatchNormalizeThenSdca_LoadsInAFreshProcess_BitIdentical()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(2, 400, 6, mean: 3, std: 5);
        var train = ModelIo.ToView(ml, rows);
        var model = ml.Transforms.BatchNormalize("Features", batchSize: 64)
            .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(labelColumnName: "Label", featureColumnName: "Features", maximumNumberOfIterations: 20))
            .Fit(train);
        AssertFreshProcessMatches(ml, model, train.Schema, "BatchNormalizingTransformer");
    }

    [Theory]
    [InlineData(ChannelLayout.ChannelsFirst)]
    [InlineData(ChannelLayout.ChannelsLast)]
    public void BatchNormalizePerChannel_LoadsInAFreshProcess_BitIdentical(ChannelLayout layout)
    {
        var ml = new MLContext(seed: 1);
        var train = ModelIo.ToView(ml, TestData.Random(4, 300, 6, mean: 10, std: 4));
        var options = new BatchNormalizingEstimator.Options { ChannelLayout = layout, ChannelCount = 3, BatchSize = 32, Gamma = [1f, 2f, 3f] };
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Features")], options).Fit(train);
        AssertFreshProcessMatches(ml, model, train.Schema, "BatchNormalizingTransformer");
    }

    [Theory]
    [InlineData(ChannelLayout.None)]
    [InlineData(ChannelLayout.ChannelsLast)]
    public void BatchNormalizeThenItsInverse_LoadsInAFreshProcess_BitIdentical(ChannelLayout layout)
    {
        var ml = new MLContext(seed: 1);
        var train = ModelIo.ToView(ml, TestData.Random(5, 300, 6, mean: 1e4, std: 40));
        var options = new BatchNormalizingEstimator.Options { ChannelLayout = layout, ChannelCount = layout == ChannelLayout.None ? 0 : 3, BatchSize = 32, Gamma = [-2.0], Beta = [0.5] };
        var normalize = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Features")], options).Fit(train);
        var model = normalize.Append(normalize.GetInverse("Restored", "Normalized"));
        AssertFreshProcessMatches(ml, model, train.Schema, "InverseBatchNormalizingTransformer");
    }

    [Fact]
    public void DropoutThenSdca_LoadsInAFreshProcess_BitIdentical()
    {
        var ml = new MLContext(seed: 1);
        var train = ModelIo.ToView(ml, TestData.Random(3, 400, 6, mean: 1, std: 2));
        var options = new DropoutEstimator.Options { DropProbability = 0.3f, Seed = 17, Kind = DropoutKind.Standard };
        var model = ml.Transforms.Dropout([new InputOutputColumnPair("Features")], options)
            .Append(ml.Transforms.BatchNormalize("Features"))
            .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression(labelColumnName: "Label", featureColumnName: "Features", maximumNumberOfIterations: 20))
            .Fit(train);
        AssertFreshProcessMatches(ml, model, train.Schema, "DropoutTransformer");
    }

    [Fact]
    public void NestedChains_LoadInAFreshProcess_WhereGetStagesFindsEveryStageInOrder()
    {
        var ml = new MLContext(seed: 1);
        var train = ModelIo.ToView(ml, TestData.Random(5, 300, 6, mean: 2, std: 3));
        var model = ml.Transforms.BatchNormalize("First", "Features", batchSize: 32)
            .Append(ml.Transforms.Dropout("Dropped", "First", dropProbability: 0.2f, seed: 5)
                .Append(ml.Transforms.BatchNormalize("Second", "Dropped", batchSize: 32)))
            .Fit(train);
        AssertFreshProcessMatches(ml, model, train.Schema, "stages: BatchNormalizingTransformer, DropoutTransformer, BatchNormalizingTransformer");
    }

    private void AssertFreshProcessMatches(MLContext ml, ITransformer model, DataViewSchema schema, string expectedStage)
    {
        var modelPath = Path.Combine(_dir, "model.zip");
        var rowsPath = Path.Combine(_dir, "rows.bin");
        var dumpPath = Path.Combine(_dir, "dump.txt");
        ml.Model.Save(model, schema, modelPath);
        var scoring = TestData.Random(99, 50, 6, mean: 3, std: 5);
        ModelIo.WriteRows(rowsPath, scoring);

        var (exitCode, output) = ModelRunnerProcess.Run(modelPath, rowsPath, dumpPath);

        Assert.True(exitCode == 0, output);
        Assert.Contains("Ml.Normalization loaded before Model.Load: False", output);
        Assert.Contains(expectedStage, output);
        var expected = ModelIo.Dump(model.Transform(ModelIo.ToView(ml, scoring)));
        Assert.Equal(expected, File.ReadAllText(dumpPath));
    }
}
