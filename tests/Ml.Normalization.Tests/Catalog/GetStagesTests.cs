using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Catalog;

/// <summary>
/// <c>model.GetStages&lt;T&gt;()</c>: the stages of a fitted or loaded model in pipeline order, through nested chains,
/// which is what continue and merge need from a saved model (a loaded model is an <see cref="ITransformer"/>, so
/// <c>loaded.First()</c> does not compile and a flat <c>OfType</c> misses a nested chain's stages).
/// </summary>
public class GetStagesTests
{
    private static readonly float[][] Rows = TestData.Random(3, 200, 4, mean: 5, std: 2);

    [Fact]
    public void FittedModel_WithANestedChain_GivesEveryStageInPipelineOrder()
    {
        var ml = new MLContext(seed: 1);
        var model = NestedPipeline(ml).Fit(ModelIo.ToView(ml, Rows));

        var normalizers = model.GetStages<BatchNormalizingTransformer>().ToList();

        Assert.Equal(["First", "Second"], normalizers.Select(t => t.Columns[0].OutputColumnName));
        Assert.Equal(["BatchNormalizingTransformer", "DropoutTransformer", "BatchNormalizingTransformer", "ColumnCopyingTransformer"],
            model.GetStages<ITransformer>().Select(t => t.GetType().Name));
        // The flat form this replaces sees the nested chain as one stage, and so misses "Second".
        Assert.Single(((IEnumerable<ITransformer>)model).OfType<BatchNormalizingTransformer>());
    }

    [Fact]
    public void LoadedModel_WithANestedChain_GivesTheSameStagesWithTheirFittedParameters()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows);
        var model = NestedPipeline(ml).Fit(data);

        var loaded = SaveAndLoad(ml, model, data.Schema);

        var fitted = model.GetStages<BatchNormalizingTransformer>().ToList();
        var found = loaded.GetStages<BatchNormalizingTransformer>().ToList();
        Assert.Equal(2, found.Count);
        for (int i = 0; i < fitted.Count; i++)
        {
            Assert.Equal(fitted[i].Columns[0].OutputColumnName, found[i].Columns[0].OutputColumnName);
            Assert.Equal(fitted[i].Columns[0].RunningMean, found[i].Columns[0].RunningMean);
            Assert.Equal(fitted[i].Columns[0].RunningVariance, found[i].Columns[0].RunningVariance);
        }

        Assert.Single(loaded.GetStages<DropoutTransformer>());
    }

    [Fact]
    public void LoadedModel_GivesAStageThatContinuesTheFit_AsTheFittedOneDoes()
    {
        // The documented way to continue from a saved pipeline: load, take the stage, Fit(newData, previous).
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows);
        var newData = ModelIo.ToView(ml, TestData.Random(4, 128, 4, mean: 7, std: 3));
        var estimator = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { BatchSize = 50 });
        var model = ml.Transforms.CopyColumns("Raw", "Features").Append(estimator).Fit(data);

        var previous = SaveAndLoad(ml, model, data.Schema).GetStages<BatchNormalizingTransformer>().Single();
        var continued = estimator.Fit(newData, previous);

        var expected = estimator.Fit(newData, model.LastTransformer);
        Assert.Equal(expected.Columns[0].RunningMean, continued.Columns[0].RunningMean);
        Assert.Equal(expected.Columns[0].RunningVariance, continued.Columns[0].RunningVariance);
        Assert.Equal(7, continued.Columns[0].BatchCount); // 4 batches of 50 rows, then 2 of 50 and one of 28
    }

    [Fact]
    public void ModelWithoutTheStage_GivesNone()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows);
        var model = ml.Transforms.NormalizeMeanVariance("Features")
            .Append(ml.Transforms.CopyColumns("Copy", "Features"))
            .Fit(data);

        Assert.Empty(model.GetStages<BatchNormalizingTransformer>());
        Assert.Empty(SaveAndLoad(ml, model, data.Schema).GetStages<BatchNormalizingTransformer>());
        Assert.Equal(2, model.GetStages<ITransformer>().Count()); // the walk itself sees the stages
    }

    [Fact]
    public void SingleTransformer_FittedOrLoaded_IsItsOwnOnlyStage()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows);
        var fitted = ml.Transforms.BatchNormalize("Features", batchSize: 32).Fit(data);
        var loaded = SaveAndLoad(ml, fitted, data.Schema);

        Assert.Same(fitted, Assert.Single(fitted.GetStages<BatchNormalizingTransformer>()));
        Assert.IsType<BatchNormalizingTransformer>(loaded); // a single saved transformer loads as itself, not as a chain
        Assert.Same(loaded, Assert.Single(loaded.GetStages<BatchNormalizingTransformer>()));
        Assert.Same(fitted, Assert.Single(fitted.GetStages<ITransformer>()));
        Assert.Empty(fitted.GetStages<DropoutTransformer>());
    }

    [Fact]
    public void ChainsAreContainers_NotStages()
    {
        var ml = new MLContext(seed: 1);
        var model = NestedPipeline(ml).Fit(ModelIo.ToView(ml, Rows));

        Assert.Empty(model.GetStages<TransformerChain<BatchNormalizingTransformer>>());
        Assert.Empty(model.GetStages<TransformerChain<ColumnCopyingTransformer>>());
        Assert.Empty(new TransformerChain<ITransformer>().GetStages<ITransformer>());
    }

    [Fact]
    public void DeeplyNestedChains_AreWalkedInOrder()
    {
        var ml = new MLContext(seed: 1);
        var data = ModelIo.ToView(ml, Rows);
        var stages = Enumerable.Range(0, 5).Select(i => ml.Transforms.BatchNormalize($"N{i}", "Features", batchSize: 32).Fit(data)).ToArray();
        // (s0, (s1, (s2, (s3, (s4))))): every stage but the first one chain deeper than the one before.
        ITransformer model = new TransformerChain<ITransformer>(stages[4]);
        for (int i = 3; i >= 0; i--)
        {
            model = new TransformerChain<ITransformer>(stages[i], model);
        }

        Assert.Equal(stages, model.GetStages<BatchNormalizingTransformer>());
    }

    [Fact]
    public void NullModel_ThrowsAtTheCall_NotAtEnumeration()
    {
        Assert.Throws<ArgumentNullException>("model", () => ((ITransformer)null!).GetStages<ITransformer>());
    }

    /// <summary>BatchNormalize "First", then a chain appended as one estimator: Dropout, BatchNormalize "Second", CopyColumns.</summary>
    private static EstimatorChain<TransformerChain<ColumnCopyingTransformer>> NestedPipeline(MLContext ml) =>
        ml.Transforms.BatchNormalize("First", "Features", batchSize: 32)
            .Append(ml.Transforms.Dropout("Dropped", "First", dropProbability: 0.1f, seed: 3)
                .Append(ml.Transforms.BatchNormalize("Second", "Dropped", batchSize: 32))
                .Append(ml.Transforms.CopyColumns("Copy", "Second")));

    private static ITransformer SaveAndLoad(MLContext ml, ITransformer model, DataViewSchema schema)
    {
        using var stream = new MemoryStream();
        ml.Model.Save(model, schema, stream);
        stream.Position = 0;
        return new MLContext(seed: 2).Model.Load(stream, out _);
    }
}
