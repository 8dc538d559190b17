using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.MlNetInterop;

/// <summary>
/// Model files saved by earlier versions of the format keep loading. Fixtures/ holds one file per format version; the
/// float-format files below can no longer be written by this code and are never rewritten.
/// </summary>
public class ModelFormatFixtureTests
{

    private static readonly BatchNormalizationParameters KnownParameters =
        new("Normalized", "Features", runningMean: [1f, -2f, 0.5f, 100f], runningVariance: [4f, 0.25f, 1f, 9f], gamma: [1f, 2f, 0.5f, 1f], beta: [0f, 1f, -1f, 0.25f], epsilon: 1e-3f);

    [Theory]
    [InlineData("batchnormalize-format-00010001.zip")]
    [InlineData("batchnormalize-format-00010002.zip")]
    public void BatchNormalize_EveryFormatVersion_StillLoads_WithItsParameters(string fixture)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture);
        var ml = new MLContext(seed: 1);
        var loaded = ml.Model.Load(path, out var schema);
        var stage = Assert.IsType<BatchNormalizingTransformer>(loaded is TransformerChain<ITransformer> chain ? chain.Single() : loaded);
        var p = Assert.Single(stage.Columns);
        Assert.Equal(KnownParameters.RunningMean, p.RunningMean);
        Assert.Equal(KnownParameters.RunningVariance, p.RunningVariance);
        Assert.Equal(KnownParameters.Gamma, p.Gamma);
        Assert.Equal(KnownParameters.Beta, p.Beta);
        Assert.Equal(KnownParameters.Epsilon, p.Epsilon);
        Assert.Equal(0, stage.TrainingBatchSize);
        Assert.Contains(schema, c => c.Name == "Features");

        var output = TestData.ReadVectors(loaded.Transform(ModelIo.ToView(ml, [[3f, -1f, 0.5f, 97f]])), "Normalized")[0];
        Assert.Equal(2 / Math.Sqrt(4.001), output[0], 5);
        Assert.Equal((2 / Math.Sqrt(0.251)) + 1, output[1], 5);
        Assert.Equal(-1.0, output[2], 5);
        Assert.Equal((-3 / Math.Sqrt(9.001)) + 0.25, output[3], 5);
    }
}
