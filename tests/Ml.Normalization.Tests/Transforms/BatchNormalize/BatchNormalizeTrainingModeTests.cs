using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Layers;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>The opt-in training pass that normalizes each mini-batch with its own statistics.</summary>
public class BatchNormalizeTrainingModeTests
{
    private const int Slots = 9;

    [Fact]
    public void TrainingPass_NormalizesEachMiniBatch_AsTheLayersTrainingForward()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(1, 100, Slots, mean: 3, std: 2); // batches of 32, 32, 32 and 4
        var data = TestData.Vectors(ml, rows, Slots);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 32, BatchStatisticsInTraining = true, Gamma = [1.5f], Beta = [0.5f] };
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], options).Fit(data);
        Assert.Equal(32, model.TrainingBatchSize);

        var output = TestData.ReadVectors(model.TransformForTraining(data), "Out");

        foreach (var batch in Enumerable.Range(0, 4))
        {
            var batchRows = rows.Skip(batch * 32).Take(32).ToArray();
            var layer = new BatchNormLayer(Slots, epsilon: 1e-5f);
            layer.Gamma.AsSpan().Fill(1.5f);
            layer.Beta.AsSpan().Fill(0.5f);
            var expected = new float[batchRows.Length * Slots];
            layer.Forward(batchRows.SelectMany(r => r).ToArray(), expected, batchRows.Length, training: true);
            var actual = output.Skip(batch * 32).Take(32).SelectMany(r => r).ToArray();
            Approx.Equal(expected, actual, 1e-5, 1e-5, $"batch {batch}");
        }
    }

    [Fact]
    public void InEstimatorChain_NextStageSeesBatchNormalizedData_ScoringUsesRunningStatistics()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(2, 64, Slots, mean: 3, std: 2);
        var data = TestData.Vectors(ml, rows, Slots);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 16, BatchStatisticsInTraining = true };
        var recorder = new RecordingEstimator(ml, "Features");
        var chain = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Append(recorder).Fit(data);

        // Each batch the next stage saw has mean 0 and variance ~1 in every slot.
        foreach (var batch in recorder.Seen.Chunk(16))
        {
            for (int j = 0; j < Slots; j++)
            {
                Assert.Equal(0.0, batch.Average(r => (double)r[j]), 4);
                Assert.Equal(1.0, batch.Average(r => (double)r[j] * r[j]), 3);
            }
        }

        var scoring = TestData.ReadVectors(chain.Transform(data), "Features");
        var running = TestData.ReadVectors(((BatchNormalizingTransformer)chain.First()).Transform(data), "Features");
        Assert.Equal(running, scoring);
        Assert.NotEqual(recorder.Seen, scoring);
    }

    [Fact]
    public void TrainingPass_ShuffledCursor_NormalizesTheRowsItReads()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(3, 200, Slots, mean: -4, std: 3);
        var data = ml.Data.Cache(TestData.Vectors(ml, rows, Slots));
        var options = new BatchNormalizingEstimator.Options { BatchSize = 50, BatchStatisticsInTraining = true };
        var view = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], options).Fit(data).TransformForTraining(data);
        var column = view.Schema["Out"];
        using var cursor = view.GetRowCursor([column], new Random(5));
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> buffer = default;
        var seen = new List<float[]>();
        while (cursor.MoveNext())
        {
            getter(ref buffer);
            seen.Add(buffer.DenseValues().ToArray());
        }

        Assert.Equal(200, seen.Count);
        foreach (var batch in seen.Chunk(50))
        {
            Assert.Equal(0.0, batch.Average(r => (double)r[0]), 4);
        }
    }

    [Fact]
    public void TrainingBatchSize_SurvivesSaveAndLoad()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, TestData.Random(4, 40, Slots), Slots);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 8, BatchStatisticsInTraining = true };
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;
        var loaded = ml.Model.Load(stream, out _);
        var stage = Assert.IsType<BatchNormalizingTransformer>(loaded is TransformerChain<ITransformer> c ? c.Single() : loaded);
        Assert.Equal(8, stage.TrainingBatchSize);
        Assert.Equal(TestData.ReadVectors(model.TransformForTraining(data), "Features"), TestData.ReadVectors(stage.TransformForTraining(data), "Features"));
    }
}
