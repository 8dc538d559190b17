using Ml.Normalization.Layers;

namespace Ml.Normalization.Tests.Layers;

public class BatchNormLayerValidationTests
{
    [Theory]
    [InlineData(0, 0.9f, 1e-5f, "features", "'features' must be at least 1, got 0.")]
    [InlineData(3, -0.1f, 1e-5f, "momentum", "'momentum' must be in [0, 1), got -0.1.")]
    [InlineData(3, 1f, 1e-5f, "momentum", "'momentum' must be in [0, 1), got 1.")]
    [InlineData(3, float.NaN, 1e-5f, "momentum", "'momentum' must be in [0, 1), got NaN.")]
    [InlineData(3, 0.9f, 0f, "epsilon", "'epsilon' must be positive and finite, got 0.")]
    [InlineData(3, 0.9f, float.NaN, "epsilon", "'epsilon' must be positive and finite, got NaN.")]
    public void Constructor_RejectsOutOfRange(int features, float momentum, float epsilon, string param, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormLayer(features, momentum, epsilon));
        Assert.Equal(param, ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void Forward_RowsBelowOne_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormLayer(2).Forward([], [], 0, true));
        Assert.Equal("rows", ex.ParamName);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forward_RowsTimesFeaturesBeyondInt32_IsRefused_NotWrapped(bool training)
    {
        // 65537 x 65536 wraps to 65536 in Int32 arithmetic, which would pass the length checks and be read past x.
        var layer = new BatchNormLayer(65536);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward(new float[65536], new float[65536], 65537, training));
        Assert.Equal("rows", ex.ParamName);
        Assert.Contains("65536 features", ex.Message);
    }

    [Fact]
    public void Kernels_RowsTimesFeaturesBeyondInt32_AreRefused()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Ml.Normalization.Kernels.NormalizationKernels.Normalize<float>(new float[65536], 65537, new float[65536], new float[65536], new float[65536], new float[65536]));
        Assert.Equal("rows", ex.ParamName);
    }

    [Theory]
    [InlineData(5, 6, "x", "Length of 'x' must be 6, got 5.")]
    [InlineData(6, 7, "y", "Length of 'y' must be 6, got 7.")]
    public void Forward_WrongLengths_NameTheSpan(int xLength, int yLength, string param, string message)
    {
        var ex = Assert.Throws<ArgumentException>(() => new BatchNormLayer(2).Forward(new float[xLength], new float[yLength], 3, true));
        Assert.Equal(param, ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Fact]
    public void Backward_BeforeTrainingForward_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => new BatchNormLayer(2).Backward(new float[2], new float[2], new float[2], new float[2]));
        Assert.Contains("Forward(training: true)", ex.Message);
    }

    [Fact]
    public void Backward_AfterTestModeForward_UsesTheLastTrainingPass()
    {
        var layer = new BatchNormLayer(2);
        float[] x = [1f, 2f, 3f, 5f, 4f, 9f];
        float[] dy = [0.5f, -1f, 2f, 0.25f, -0.75f, 1f];
        layer.Forward(x, new float[6], 3, training: true);
        var expected = new float[6];
        layer.Backward(dy, expected, new float[2], new float[2]);
        layer.Forward(new float[2], new float[2], 1, training: false);
        var actual = new float[6];
        layer.Backward(dy, actual, new float[2], new float[2]);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Backward_WrongGradientLength_NamesIt()
    {
        var layer = new BatchNormLayer(2);
        layer.Forward(new float[4], new float[4], 2, training: true);
        var ex = Assert.Throws<ArgumentException>(() => layer.Backward(new float[4], new float[4], new float[3], new float[2]));
        Assert.Equal("dGamma", ex.ParamName);
    }

    [Fact]
    public void Forward_Training_AllocatesNothing_AfterTheFirstBatch()
    {
        var layer = new BatchNormLayer(65);
        var x = new float[32 * 65];
        var y = new float[x.Length];
        layer.Forward(x, y, 32, training: true);
        layer.Backward(y, y, new float[65], new float[65]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        layer.Forward(x, y, 32, training: true);
        layer.Forward(x.AsSpan(0, 16 * 65), y.AsSpan(0, 16 * 65), 16, training: true);
        layer.Forward(x.AsSpan(0, 16 * 65), y.AsSpan(0, 16 * 65), 16, training: false);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
