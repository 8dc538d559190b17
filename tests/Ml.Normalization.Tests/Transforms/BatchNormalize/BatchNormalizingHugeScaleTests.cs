using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// A scale gamma / sqrt(variance + epsilon) beyond the column type's range (a large gamma over a zero variance) still
/// maps a constant slot to beta, as documented, and other values to their true product where it is representable.
/// </summary>
public class BatchNormalizingHugeScaleTests
{
    private static readonly float[][] Train = [[4f, 1f], [4f, 2f], [4f, 3f], [4f, 6f]];

    [Fact]
    public void SingleColumn_Gamma1e37_OnAConstantSlot_MapsTheConstantToBeta()
    {
        var ml = new MLContext(seed: 1);
        var model = Fit(ml, batchStatisticsInTraining: false);
        Assert.Equal(0.0, model.Columns[0].RunningVariance[0]);

        // 4 + 2^-21: one float step above the constant. Its true output, 2^-21 * 1e37 / sqrt(1e-5) + 0.25 ~ 1.5e33, is a float.
        float[][] rows = [[4f, 2f], [4.0000005f, 3f]];
        var output = TestData.ReadVectors(model.Transform(TestData.Vectors(ml, rows, 2)), "Features");

        Assert.Equal(0.25f, output[0][0]);
        double expected = (4.0000005f - 4.0) * 1e37f / Math.Sqrt(1e-5); // the default epsilon, exactly 1e-5
        Assert.Equal(expected, output[1][0], 1e-6 * expected);
        Assert.All(output, r => Assert.True(float.IsFinite(r[1]), $"slot 1 gave {r[1]}"));
    }

    [Fact]
    public void SingleColumn_Gamma1e37_TrainingPassWithBatchStatistics_MapsTheConstantToBeta()
    {
        var ml = new MLContext(seed: 1);
        var model = Fit(ml, batchStatisticsInTraining: true);

        var output = TestData.ReadVectors(model.TransformForTraining(TestData.Vectors(ml, Train, 2)), "Features");

        Assert.All(output, r => Assert.Equal(0.25f, r[0]));
    }

    [Fact]
    public void DoubleColumn_ScaleBeyondDoublesRange_MapsTheMeanToBeta()
    {
        // gamma / sqrt(0 + 1e-300) = 1e450: beyond double. Only the double constructor can express it.
        var ml = new MLContext(seed: 1);
        var data = TestData.DoubleVectors(ml, [[0.0, 1.0], [1e-300, 1.0]], 2);
        var model = ml.Transforms.BatchNormalize(new BatchNormalizationParameters("Features", null, [0.0, 5.0], [0.0, 1.0], gamma: [1e300, 1.0], beta: [-3.0, 0.0], epsilon: 1e-300)).Fit(data);

        var output = model.Transform(data)
            .GetColumn<VBuffer<double>>("Features").Select(v => v.DenseValues().ToArray()).ToArray();

        Assert.Equal(-3.0, output[0][0]);
        Assert.Equal(1e150, output[1][0], 1e-12 * 1e150); // 1e-300 * 1e450: the true product, not infinity
    }

    [Fact]
    public void SingleColumn_ScaleWhoseSquareRootIsBeyondFloat_StillMapsTheMeanToBeta()
    {
        // 1e300 / sqrt(1e-300) = 1e450: even its square root, 1e225, is no float; the factors saturate at float.MaxValue.
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, [[2f, 1f], [3f, 1f]], 2);
        var model = ml.Transforms.BatchNormalize(new BatchNormalizationParameters("Features", null, [2.0, 0.0], [0.0, 1.0], gamma: [1e300, 1.0], beta: [0.5, 0.0], epsilon: 1e-300)).Fit(data);

        var output = TestData.ReadVectors(model.Transform(data), "Features");

        Assert.Equal(0.5f, output[0][0]);
        Assert.Equal(float.PositiveInfinity, output[1][0]);
    }

    private static BatchNormalizingTransformer Fit(MLContext ml, bool batchStatisticsInTraining)
    {
        var options = new BatchNormalizingEstimator.Options { BatchSize = 4, Gamma = [1e37f], Beta = [0.25f], BatchStatisticsInTraining = batchStatisticsInTraining };
        return ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(TestData.Vectors(ml, Train, 2));
    }
}
