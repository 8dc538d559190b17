using Ml.Normalization.Layers;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Layers;

public class SpatialBatchNormLayerValidationTests
{
    [Theory]
    [InlineData(0, 0.9f, 1e-5f, "channels", "'channels' must be at least 1, got 0.")]
    [InlineData(3, -0.1f, 1e-5f, "momentum", "'momentum' must be in [0, 1), got -0.1.")]
    [InlineData(3, 1f, 1e-5f, "momentum", "'momentum' must be in [0, 1), got 1.")]
    [InlineData(3, float.NaN, 1e-5f, "momentum", "'momentum' must be in [0, 1), got NaN.")]
    [InlineData(3, 0.9f, 0f, "epsilon", "'epsilon' must be positive and finite, got 0.")]
    [InlineData(3, 0.9f, -1f, "epsilon", "'epsilon' must be positive and finite, got -1.")]
    public void Constructor_RejectsOutOfRange(int channels, float momentum, float epsilon, string param, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SpatialBatchNormLayer(channels, momentum, epsilon));
        Assert.Equal(param, ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Theory]
    [InlineData(0, 4, true, "batch", "'batch' must be at least 1, got 0.")]
    [InlineData(2, 0, true, "spatialSize", "'spatialSize' must be at least 1, got 0.")]
    [InlineData(2, -1, false, "spatialSize", "'spatialSize' must be at least 1, got -1.")]
    [InlineData(65536, 65536, false, "batch", "'batch' must be such that batch x channels x spatialSize fits an Int32 (channels 2, spatialSize 65536), got 65536.")]
    public void Forward_BadShape_NamesTheParameter(int batch, int spatialSize, bool training, string param, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new SpatialBatchNormLayer(2).Forward([], [], batch, spatialSize, training));
        Assert.Equal(param, ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Theory]
    [InlineData(23, 24, "x", "Length of 'x' must be 24, got 23.")]
    [InlineData(24, 25, "y", "Length of 'y' must be 24, got 25.")]
    public void Forward_WrongLengths_NameTheSpan(int xLength, int yLength, string param, string message)
    {
        // 3 samples x 2 channels x 4 positions.
        var ex = Assert.Throws<ArgumentException>(() => new SpatialBatchNormLayer(2).Forward(new float[xLength], new float[yLength], 3, 4, true));
        Assert.Equal(param, ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void Forward_UnbiasedRunningVariance_OneValuePerChannel_Throws()
    {
        var layer = new SpatialBatchNormLayer(2) { UnbiasedRunningVariance = true };
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(new float[2], new float[2], 1, 1, training: true));
        Assert.Equal("batch", ex.ParamName);
        Assert.StartsWith("'batch' must be such that batch x spatialSize is at least 2 when UnbiasedRunningVariance is set, got 1.", ex.Message);
        Assert.Equal(new float[2], layer.RunningMean); // nothing was updated
        layer.Forward(new float[2], new float[2], 1, 1, training: false); // test mode needs no batch variance
    }

    [Fact]
    public void Forward_UnbiasedRunningVariance_FeedsNOverNMinusOne_ButNormalizesWithTheBiasedVariance()
    {
        // One channel, values 0, 2 (n = 2): biased variance 1, unbiased 2.
        var biased = new SpatialBatchNormLayer(1, momentum: 0.5f);
        var unbiased = new SpatialBatchNormLayer(1, momentum: 0.5f) { UnbiasedRunningVariance = true };
        var y = new float[2];
        var yUnbiased = new float[2];
        biased.Forward([0f, 2f], y, 2, 1, training: true);
        unbiased.Forward([0f, 2f], yUnbiased, 2, 1, training: true);
        Assert.Equal(0.5f, biased.RunningVariance[0]);
        Assert.Equal(1f, unbiased.RunningVariance[0]);
        Assert.Equal(y, yUnbiased);
    }

    [Fact]
    public void Backward_BeforeTrainingForward_Throws()
    {
        var layer = new SpatialBatchNormLayer(2);
        layer.Forward(new float[4], new float[4], 1, 2, training: false);
        var ex = Assert.Throws<InvalidOperationException>(() => layer.Backward(new float[4], new float[4], new float[2], new float[2]));
        Assert.Equal("Backward needs a preceding Forward(training: true); there was none since the layer was created.", ex.Message);
    }

    [Theory]
    [InlineData(11, 12, 2, 2, "dy", "Length of 'dy' must be 12, got 11.")]
    [InlineData(12, 13, 2, 2, "dx", "Length of 'dx' must be 12, got 13.")]
    [InlineData(12, 12, 3, 2, "dGamma", "Length of 'dGamma' must be 2, got 3.")]
    [InlineData(12, 12, 2, 1, "dBeta", "Length of 'dBeta' must be 2, got 1.")]
    public void Backward_WrongLengths_NameTheSpan(int dyLength, int dxLength, int dGammaLength, int dBetaLength, string param, string message)
    {
        var layer = new SpatialBatchNormLayer(2);
        layer.Forward(SeededData.Normal(1, 12), new float[12], 2, 3, training: true);
        var ex = Assert.Throws<ArgumentException>(() => layer.Backward(new float[dyLength], new float[dxLength], new float[dGammaLength], new float[dBetaLength]));
        Assert.Equal(param, ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void Backward_AfterTestModeForward_UsesTheLastTrainingPass()
    {
        var layer = new SpatialBatchNormLayer(2);
        var x = SeededData.Normal(2, 2 * 2 * 5);
        var dy = SeededData.Normal(3, x.Length);
        layer.Forward(x, new float[x.Length], 2, 5, training: true);
        var expected = new float[x.Length];
        layer.Backward(dy, expected, new float[2], new float[2]);
        layer.Forward(new float[2 * 7], new float[2 * 7], 1, 7, training: false);
        var actual = new float[x.Length];
        layer.Backward(dy, actual, new float[2], new float[2]);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Forward_Training_LargeMean_KeepsVarianceAccurate()
    {
        // x = 1e4 + N(0, 1): float sums of x would lose the variance; the shifted sums keep it (biased, to 1e-4 relative).
        var x = SeededData.Normal(4, 8 * 3 * 1100, 1e4, 1);
        var layer = new SpatialBatchNormLayer(3, momentum: 0f);
        layer.Forward(x, new float[x.Length], 8, 1100, training: true);
        for (int c = 0; c < 3; c++)
        {
            var values = Enumerable.Range(0, 8).SelectMany(n => x.Skip(((n * 3) + c) * 1100).Take(1100)).Select(v => (double)v).ToArray();
            double mean = values.Average();
            double variance = values.Average(v => (v - mean) * (v - mean));
            Assert.InRange(layer.RunningMean[c], mean - 1e-3, mean + 1e-3);
            Assert.InRange(layer.RunningVariance[c], variance * (1 - 1e-4), variance * (1 + 1e-4));
        }
    }

    [Fact]
    public void Forward_NaNInOneChannel_StaysInThatChannel()
    {
        var x = SeededData.Normal(5, 2 * 3 * 4);
        x[4 + 1] = float.NaN; // sample 0, channel 1
        var layer = new SpatialBatchNormLayer(3);
        var y = new float[x.Length];
        layer.Forward(x, y, 2, 4, training: true);
        Assert.True(float.IsNaN(layer.RunningMean[1]));
        Assert.False(float.IsNaN(layer.RunningMean[0]) || float.IsNaN(layer.RunningMean[2]));
        for (int i = 0; i < y.Length; i++)
        {
            Assert.Equal(i / 4 % 3 == 1, float.IsNaN(y[i]));
        }
    }

    [Fact]
    public void Forward_And_Backward_AllocateNothing_AfterTheFirstBatch()
    {
        var layer = new SpatialBatchNormLayer(3);
        var x = SeededData.Normal(6, 8 * 3 * 1100);
        var y = new float[x.Length];
        var dGamma = new float[3];
        var dBeta = new float[3];
        // Every path once (the first calls may initialise runtime and library statics), then the same again, measured.
        RunEveryPath(layer, x, y, dGamma, dBeta);
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunEveryPath(layer, x, y, dGamma, dBeta);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void RunEveryPath(SpatialBatchNormLayer layer, float[] x, float[] y, float[] dGamma, float[] dBeta)
    {
        layer.Forward(x, y, 8, 1100, training: true);
        layer.Backward(y, y, dGamma, dBeta);
        layer.Forward(x.AsSpan(0, 4 * 3 * 65), y.AsSpan(0, 4 * 3 * 65), 4, 65, training: true);
        layer.Backward(y.AsSpan(0, 4 * 3 * 65), y.AsSpan(0, 4 * 3 * 65), dGamma, dBeta);
        layer.Forward(x.AsSpan(0, 4 * 3 * 65), y.AsSpan(0, 4 * 3 * 65), 4, 65, training: false);
    }
}
