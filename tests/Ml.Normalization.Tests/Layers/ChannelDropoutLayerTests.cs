using Ml.Normalization.Layers;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Layers;

/// <summary>
/// <see cref="ChannelDropoutLayer"/> against PyTorch's <c>Dropout2d</c> semantics (its random stream differs, so the
/// semantics are tested, not its bits): in training every (sample, channel) plane is either all zero or all
/// x / (1 - p); a channel is kept at rate 1 - p; samples and calls draw independent masks; the same seed repeats them;
/// test mode is the identity; and the gradient is the same scaled mask times the upstream gradient, checked against
/// central differences.
/// </summary>
public class ChannelDropoutLayerTests
{
    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    [InlineData(0.8f)]
    public void Forward_EveryPlaneIsAllZeroOrAllXOverOneMinusP_AndEachChannelKeepsNearOneMinusP(float p)
    {
        const int batch = 50, channels = 8, spatialSize = 9, calls = 40;
        var layer = new ChannelDropoutLayer(channels, p, seed: 21);
        var kept = new int[channels];
        float scale = 1f / (1f - p);
        for (int call = 0; call < calls; call++)
        {
            // Offset from 0 so that no input value is itself 0 and a zero can only be a drop.
            var x = SeededData.Normal(100 + call, batch * channels * spatialSize, mean: 5, std: 1);
            var y = new float[x.Length];
            layer.Forward(x, y, batch, spatialSize, training: true);
            for (int plane = 0; plane < batch * channels; plane++)
            {
                var xs = x.AsSpan(plane * spatialSize, spatialSize);
                var ys = y.AsSpan(plane * spatialSize, spatialSize);
                bool planeKept = ys[0] != 0f;
                for (int s = 0; s < spatialSize; s++)
                {
                    Assert.Equal(planeKept ? xs[s] * scale : 0f, ys[s]);
                }

                kept[plane % channels] += planeKept ? 1 : 0;
            }
        }

        // Per channel, batch x calls = 2000 draws: the keep rate within 4.5 standard errors of 1 - p.
        double n = batch * calls, standardError = Math.Sqrt(p * (1 - p) / n);
        foreach (int k in kept)
        {
            Assert.InRange(k / n, 1 - p - (4.5 * standardError), 1 - p + (4.5 * standardError));
        }
    }

    [Fact]
    public void Forward_SameSeed_RepeatsTheMasks_AnotherSeedDoesNot()
    {
        var x = SeededData.Normal(1, 16 * 4 * 25, mean: 3);
        float[] Run(int seed, int calls)
        {
            var layer = new ChannelDropoutLayer(channels: 4, 0.5f, seed);
            var y = new float[x.Length];
            for (int call = 0; call < calls; call++)
            {
                layer.Forward(x, y, batch: 16, spatialSize: 25, training: true);
            }

            return y;
        }

        Assert.Equal(Run(42, 1), Run(42, 1));
        Assert.Equal(Run(42, 3), Run(42, 3));
        Assert.NotEqual(Run(42, 1), Run(43, 1));
        Assert.NotEqual(Run(42, 1), Run(42, 2)); // each call draws a fresh mask
    }

    [Fact]
    public void Forward_SamplesAndCalls_DrawIndependentMasks()
    {
        // p = 0.5: two independent masks agree on a channel half the time. Compare sample n with sample n + 1 (same
        // call), and call k with call k + 1 (same sample), over 8 channels x 500 samples.
        const int batch = 500, channels = 8;
        var layer = new ChannelDropoutLayer(channels, 0.5f, seed: 3);
        var ones = Enumerable.Repeat(1f, batch * channels).ToArray();
        var first = new float[ones.Length];
        var second = new float[ones.Length];
        layer.Forward(ones, first, batch, spatialSize: 1, training: true);
        layer.Forward(ones, second, batch, spatialSize: 1, training: true);

        int sampleAgreements = 0, callAgreements = 0;
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                int i = (n * channels) + c;
                sampleAgreements += n + 1 < batch && first[i] == first[i + channels] ? 1 : 0;
                callAgreements += first[i] == second[i] ? 1 : 0;
            }
        }

        double pairs = (batch - 1) * channels;
        Assert.InRange(sampleAgreements, (pairs / 2) - (4 * Math.Sqrt(pairs / 4)), (pairs / 2) + (4 * Math.Sqrt(pairs / 4)));
        pairs = batch * channels;
        Assert.InRange(callAgreements, (pairs / 2) - (4 * Math.Sqrt(pairs / 4)), (pairs / 2) + (4 * Math.Sqrt(pairs / 4)));
    }

    [Fact]
    public void Forward_SpatialSizeOne_IsDropoutLayer_WithTheSameSeed()
    {
        // One value per channel: channel dropout is element dropout, with DropoutLayer's very masks, call after call.
        var channelDropout = new ChannelDropoutLayer(channels: 13, 0.3f, seed: 5);
        var dropout = new DropoutLayer(0.3f, seed: 5);
        var x = SeededData.Normal(2, 7 * 13);
        for (int call = 0; call < 3; call++)
        {
            var expected = new float[x.Length];
            var actual = new float[x.Length];
            dropout.Forward(x, expected, training: true);
            channelDropout.Forward(x, actual, batch: 7, spatialSize: 1, training: true);
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void Forward_TestMode_IsTheIdentity_AndZeroPIsTheIdentityInTraining()
    {
        var x = SeededData.Normal(4, 3 * 5 * 7);
        var y = new float[x.Length];
        new ChannelDropoutLayer(5, 0.9f, seed: 1).Forward(x, y, batch: 3, spatialSize: 7, training: false);
        Assert.Equal(x, y);

        new ChannelDropoutLayer(5, 0f, seed: 1).Forward(x, y, batch: 3, spatialSize: 7, training: true);
        Assert.Equal(x, y);
    }

    [Fact]
    public void Forward_InPlace_GivesTheSameAsIntoAnotherBuffer()
    {
        var x = SeededData.Normal(6, 4 * 3 * 65);
        var y = new float[x.Length];
        new ChannelDropoutLayer(3, 0.4f, seed: 8).Forward(x, y, batch: 4, spatialSize: 65, training: true);
        new ChannelDropoutLayer(3, 0.4f, seed: 8).Forward(x, x, batch: 4, spatialSize: 65, training: true);
        Assert.Equal(y, x);
    }

    [Fact]
    public void Backward_IsDyTimesTheLastTrainingMask_BroadcastOverEachPlane()
    {
        const int batch = 6, channels = 3, spatialSize = 10;
        var layer = new ChannelDropoutLayer(channels, 0.4f, seed: 9);
        var ones = Enumerable.Repeat(1f, batch * channels * spatialSize).ToArray();
        var mask = new float[ones.Length];
        layer.Forward(ones, mask, batch, spatialSize, training: true); // the mask itself: 0 or 1/(1-p) per plane
        layer.Forward(ones, new float[ones.Length], batch, spatialSize, training: false); // test mode changes nothing

        var dy = SeededData.Normal(10, ones.Length);
        var dx = new float[ones.Length];
        layer.Backward(dy, dx);

        Assert.Contains(0f, mask);
        Assert.Contains(1f / 0.6f, mask);
        for (int i = 0; i < dy.Length; i++)
        {
            Assert.Equal(mask[i - (i % spatialSize)], mask[i]);
            Assert.Equal(dy[i] * mask[i], dx[i]);
        }
    }

    [Fact]
    public void Backward_MatchesNumericGradient_OfTheLayersOwnForward()
    {
        // For a fixed mask the layer is linear: d sum(dy * y) / dx, the mask held fixed by a fresh layer of the same
        // seed per probe (its first call draws the same mask).
        const int batch = 3, channels = 4, spatialSize = 5, seed = 17;
        var x = SeededData.Normal(20, batch * channels * spatialSize);
        var dy = SeededData.Normal(21, x.Length);
        var numeric = GradientCheck.Numeric(probe => Loss(probe, dy, batch, channels, spatialSize, seed), SeededData.ToDouble(x), 1e-2);

        var layer = new ChannelDropoutLayer(channels, 0.5f, seed);
        layer.Forward(x, new float[x.Length], batch, spatialSize, training: true);
        var dx = new float[x.Length];
        layer.Backward(dy, dx);

        Assert.InRange(GradientCheck.RelativeError(SeededData.ToDouble(dx), numeric), 0, 1e-4);
    }

    [Fact]
    public void GradientCheck_HasTeeth_AnElementWiseMaskFails()
    {
        // The mistake the check must catch: one draw per value instead of per plane (DropoutLayer's gradient).
        const int batch = 3, channels = 4, spatialSize = 5, seed = 17;
        var x = SeededData.Normal(20, batch * channels * spatialSize);
        var dy = SeededData.Normal(21, x.Length);
        var numeric = GradientCheck.Numeric(probe => Loss(probe, dy, batch, channels, spatialSize, seed), SeededData.ToDouble(x), 1e-2);

        var elementWise = new DropoutLayer(0.5f, seed);
        elementWise.Forward(x, new float[x.Length], training: true);
        var wrong = new float[x.Length];
        elementWise.Backward(dy, wrong);

        Assert.True(GradientCheck.RelativeError(SeededData.ToDouble(wrong), numeric) > 1e-1, "the check must reject an element-wise mask");
    }

    [Fact]
    public void Backward_BeforeTrainingForward_Throws()
    {
        var layer = new ChannelDropoutLayer(2, 0.5f, seed: 1);
        layer.Forward(new float[8], new float[8], batch: 2, spatialSize: 2, training: false);
        var ex = Assert.Throws<InvalidOperationException>(() => layer.Backward(new float[8], new float[8]));
        Assert.Contains("Forward(training: true)", ex.Message);
    }

    [Fact]
    public void Backward_LengthOfAnotherPass_NamesTheSpan()
    {
        var layer = new ChannelDropoutLayer(2, 0.5f, seed: 1);
        layer.Forward(new float[8], new float[8], batch: 2, spatialSize: 2, training: true);
        Assert.Equal("dy", Assert.Throws<ArgumentException>(() => layer.Backward(new float[6], new float[8])).ParamName);
        Assert.Equal("dx", Assert.Throws<ArgumentException>(() => layer.Backward(new float[8], new float[6])).ParamName);
    }

    [Theory]
    [InlineData(0, 0.5f, "channels", "'channels' must be at least 1, got 0.")]
    [InlineData(2, -0.1f, "dropProbability", "'dropProbability' must be in [0, 1), got -0.1.")]
    [InlineData(2, 1f, "dropProbability", "'dropProbability' must be in [0, 1), got 1.")]
    [InlineData(2, float.NaN, "dropProbability", "'dropProbability' must be in [0, 1), got NaN.")]
    public void Constructor_RejectsBadArguments_NamingThem(int channels, float p, string paramName, string start)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ChannelDropoutLayer(channels, p));
        Assert.Equal(paramName, ex.ParamName);
        Assert.StartsWith(start, ex.Message);
    }

    [Theory]
    [InlineData(0, 2, 8, 8, "batch")]
    [InlineData(2, 0, 8, 8, "spatialSize")]
    [InlineData(2, 2, 7, 8, "x")]
    [InlineData(2, 2, 8, 9, "y")]
    public void Forward_BadShape_NamesTheArgument(int batch, int spatialSize, int xLength, int yLength, string paramName)
    {
        var layer = new ChannelDropoutLayer(2, 0.5f, seed: 1);
        var ex = Assert.ThrowsAny<ArgumentException>(() => layer.Forward(new float[xLength], new float[yLength], batch, spatialSize, training: true));
        Assert.Equal(paramName, ex.ParamName);
    }

    [Fact]
    public void Forward_BlockBeyondInt32_IsRefused()
    {
        var layer = new ChannelDropoutLayer(3, 0.5f, seed: 1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward([], [], batch: 1 << 20, spatialSize: 1 << 10, training: true));
        Assert.Equal("batch", ex.ParamName);
    }

    private static double Loss(double[] probe, float[] dy, int batch, int channels, int spatialSize, int seed)
    {
        var y = new float[probe.Length];
        new ChannelDropoutLayer(channels, 0.5f, seed).Forward(GoldenVectors.F(probe), y, batch, spatialSize, training: true);
        return y.Select((v, i) => (double)v * dy[i]).Sum();
    }
}
