using Microsoft.ML;
using Microsoft.ML.Runtime;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.Dropout;

/// <summary>
/// A chain never skips Dropout silently (issue 20, item 4). A chain appended to as a whole
/// (<c>x.Append(bn.Append(dropout)).Append(trainer)</c>) is fitted into a TransformerChain that the outer chain applies
/// with Transform; before, the trainer then saw undropped features (SDCA weights equal to a run without Dropout).
/// Now the stage gives its training pass when its Transform is called inside EstimatorChain.Fit. A cache right after
/// Dropout, which would freeze one set of masks, is warned of through the MLContext's log.
/// </summary>
public class NestedChainTests
{
    private const int Rows = 200, Size = 9;

    [Fact]
    public void NestedChain_TrainsTheStagesAfterIt_OnDroppedValues_AsAFlatChainDoes()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, TestData.Random(5, Rows, Size, mean: 3), Size);
        var flat = new RecordingEstimator(ml, "Features");
        var nested = new RecordingEstimator(ml, "Features");

        ml.Transforms.CopyColumns("Other", "Features").Append(ml.Transforms.BatchNormalize("Features")).Append(Dropout(ml)).Append(flat).Fit(data);
        var model = ml.Transforms.CopyColumns("Other", "Features").Append(ml.Transforms.BatchNormalize("Features").Append(Dropout(ml))).Append(nested).Fit(data);

        int zeros = nested.Seen.Sum(r => r.Count(v => v == 0));
        Assert.InRange(zeros, Rows * Size * 0.4, Rows * Size * 0.6); // p = 0.5: dropped, not scored
        Assert.Equal(flat.Seen, nested.Seen); // the same masks as the flat chain's
        // Scoring still never drops.
        Assert.DoesNotContain(TestData.ReadVectors(model.Transform(data), "Features"), r => r.Contains(0f));
    }

    [Fact]
    public void NestedChain_SdcaWeights_DifferFromARunWithoutDropout()
    {
        // The shape: a trainer after a nested BatchNormalize + Dropout chain. One SDCA thread and a fresh
        // MLContext per run, so runs of one pipeline give the same weights (asserted first).
        float[] Weights(bool dropout)
        {
            var ml = new MLContext(seed: 1);
            var random = new Random(7);
            var rows = Enumerable.Range(0, 500).Select(_ => Enumerable.Range(0, Size).Select(_ => (float)random.NextDouble()).ToArray()).ToArray();
            var data = ml.Data.LoadFromEnumerable(rows.Select(r => new Labeled { Features = r, Label = r[0] + r[1] > 1 }).ToArray(),
                Microsoft.ML.Data.SchemaDefinition.Create(typeof(Labeled)).WithSize(nameof(Labeled.Features), Size));
            var sdca = ml.BinaryClassification.Trainers.SdcaLogisticRegression(new Microsoft.ML.Trainers.SdcaLogisticRegressionBinaryTrainer.Options { NumberOfThreads = 1, MaximumNumberOfIterations = 5 });
            IEstimator<ITransformer> front = dropout ? ml.Transforms.BatchNormalize("Features").Append(Dropout(ml)) : ml.Transforms.BatchNormalize("Features");
            return [.. ml.Transforms.CopyColumns("Other", "Features").Append(front).Append(sdca).Fit(data).LastTransformer.Model.SubModel.Weights];
        }

        Assert.Equal(Weights(dropout: false), Weights(dropout: false));
        Assert.NotEqual(Weights(dropout: false), Weights(dropout: true));
    }

    [Fact]
    public void CacheRightAfterDropout_IsWarnedOf_ACacheBeforeItIsNot()
    {
        var ml = new MLContext(seed: 1);
        var warnings = new List<string>();
        ml.Log += (_, e) =>
        {
            if (e.Kind == ChannelMessageKind.Warning)
            {
                lock (warnings)
                {
                    warnings.Add(e.Message);
                }
            }
        };
        var data = TestData.Vectors(ml, TestData.Random(5, Rows, Size), Size);

        ml.Transforms.BatchNormalize("Features").AppendCacheCheckpoint(ml).Append(Dropout(ml)).Append(new RecordingEstimator(ml, "Features")).Fit(data);
        Assert.DoesNotContain(warnings, w => w.Contains("AppendCacheCheckpoint"));

        ml.Transforms.BatchNormalize("Features").Append(Dropout(ml)).AppendCacheCheckpoint(ml).Append(new RecordingEstimator(ml, "Features")).Fit(data);
        var warning = Assert.Single(warnings, w => w.Contains("AppendCacheCheckpoint"));
        Assert.Contains("'Features'", warning);
    }

    private static DropoutEstimator Dropout(MLContext ml) => ml.Transforms.Dropout("Features", dropProbability: 0.5f, seed: 11);

    private sealed class Labeled
    {
        public float[] Features { get; set; } = [];

        public bool Label { get; set; }
    }
}

internal static class SchemaDefinitionExtensions
{
    public static Microsoft.ML.Data.SchemaDefinition WithSize(this Microsoft.ML.Data.SchemaDefinition schema, string column, int size)
    {
        schema[column].ColumnType = new Microsoft.ML.Data.VectorDataViewType(Microsoft.ML.Data.NumberDataViewType.Single, size);
        return schema;
    }
}
