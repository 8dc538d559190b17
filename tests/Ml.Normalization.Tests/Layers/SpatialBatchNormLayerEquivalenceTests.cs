using Ml.Normalization.Layers;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Layers;

/// <summary>
/// The spatial layer against <see cref="BatchNormLayer"/>: NCHW data with spatialSize S is, per channel, the same
/// statistics problem as the (N x S) x C block obtained by moving the channel axis last, so both layers must agree on it.
/// S = 1 needs no transposition at all (NC11 is the 2-D layer's row-major N x C). The spatial sizes cover every vector
/// width's tail (1, 7, 8, 9, 63, 64, 65) and a plane longer than the layer's 1024-value run (1100).
/// </summary>
/// <remarks>
/// The two compute the same formulas in float in different orders (the 2-D kernels sum all N x S rows in float with a
/// per-feature shift and subtract a float mean; this layer sums runs of 1024 in float and the runs in double, and subtracts
/// a shift, then the shifted mean), so they agree to float rounding, not bit for bit. The 2-D layer's float sums lose
/// more as the rows grow (<see cref="Training_IsAsAccurateAsADoubleReference"/> shows this layer stays within a few
/// epsilons of double and no less accurate), so the tolerance is (32 + sqrt(n)) float epsilons of each quantity's scale,
/// n = N x S values per channel: 4.0e-6 relative at S = 1 (n = 3), 1.1e-5 at S = 1100 (n = 3300).
/// </remarks>
public class SpatialBatchNormLayerEquivalenceTests
{
    private const int Batch = 3;
    private const int Channels = 5;
    private const double FloatEpsilon = 1.2e-7;

    public static TheoryData<int> SpatialSizes => new() { 1, 7, 8, 9, 63, 64, 65, 1100 };

    [Theory]
    [MemberData(nameof(SpatialSizes))]
    public void Training_TestAndBackward_EqualTheTwoDimensionalLayer_OnChannelsLast(int spatialSize)
    {
        int length = Batch * Channels * spatialSize;
        int n = Batch * spatialSize;
        var spatial = new SpatialBatchNormLayer(Channels, 0.8f, 1e-4f);
        var flat = new BatchNormLayer(Channels, 0.8f, 1e-4f);
        var gamma = SeededData.Normal(40 + spatialSize, Channels, 1, 0.3);
        var beta = SeededData.Normal(41 + spatialSize, Channels);
        gamma.CopyTo(spatial.Gamma, 0);
        gamma.CopyTo(flat.Gamma, 0);
        beta.CopyTo(spatial.Beta, 0);
        beta.CopyTo(flat.Beta, 0);

        var lastX = Array.Empty<float>();
        for (int step = 0; step < 2; step++)
        {
            var x = ChannelData(50 + step, spatialSize);
            lastX = x;
            var y = new float[length];
            var yFlat = new float[length];
            spatial.Forward(x, y, Batch, spatialSize, training: true);
            flat.Forward(ToChannelsLast(x, spatialSize), yFlat, Batch * spatialSize, training: true);
            AssertClose(ToChannelsLast(y, spatialSize), yFlat, n, $"S={spatialSize} train y[{step}]");
            AssertClose(spatial.RunningMean, flat.RunningMean, n, $"S={spatialSize} running mean[{step}]");
            AssertClose(spatial.RunningVariance, flat.RunningVariance, n, $"S={spatialSize} running variance[{step}]");
        }

        var dy = SeededData.Normal(60, length);
        var dx = new float[length];
        var dxFlat = new float[length];
        var dGamma = new float[Channels];
        var dGammaFlat = new float[Channels];
        var dBeta = new float[Channels];
        var dBetaFlat = new float[Channels];
        spatial.Backward(dy, dx, dGamma, dBeta);
        flat.Backward(ToChannelsLast(dy, spatialSize), dxFlat, dGammaFlat, dBetaFlat);
        // dx is a difference of terms of size gamma * |dy| / std that nearly cancel: scale by the terms.
        double dxTermScale = Enumerable.Range(0, length).Max(i => Math.Abs(dy[i] * gamma[i / spatialSize % Channels])) * MaxInverseStd(lastX, spatialSize);
        AssertClose(ToChannelsLast(dx, spatialSize), dxFlat, n, $"S={spatialSize} dx", dxTermScale);
        AssertClose(dGamma, dGammaFlat, n, $"S={spatialSize} dGamma");
        AssertClose(dBeta, dBetaFlat, n, $"S={spatialSize} dBeta");

        var xTest = ChannelData(70, spatialSize);
        var yTest = new float[length];
        var yTestFlat = new float[length];
        spatial.Forward(xTest, yTest, Batch, spatialSize, training: false);
        flat.Forward(ToChannelsLast(xTest, spatialSize), yTestFlat, Batch * spatialSize, training: false);
        AssertClose(ToChannelsLast(yTest, spatialSize), yTestFlat, n, $"S={spatialSize} test y");
    }

    [Theory]
    [MemberData(nameof(SpatialSizes))]
    public void Training_IsAsAccurateAsADoubleReference(int spatialSize)
    {
        // Both layers against per-channel statistics, y and the closed-form dx computed in double from the same floats.
        int length = Batch * Channels * spatialSize;
        int n = Batch * spatialSize;
        var x = ChannelData(50, spatialSize);
        var dy = SeededData.Normal(60, length);
        var spatial = new SpatialBatchNormLayer(Channels, 0.8f, 1e-4f);
        var flat = new BatchNormLayer(Channels, 0.8f, 1e-4f);
        var y = new float[length];
        var yFlat = new float[length];
        var dx = new float[length];
        var dxFlat = new float[length];
        spatial.Forward(x, y, Batch, spatialSize, training: true);
        spatial.Backward(dy, dx, new float[Channels], new float[Channels]);
        flat.Forward(ToChannelsLast(x, spatialSize), yFlat, n, training: true);
        flat.Backward(ToChannelsLast(dy, spatialSize), dxFlat, new float[Channels], new float[Channels]);

        var yRef = new double[length];
        var dxRef = new double[length];
        double dxTermScale = 0;
        for (int c = 0; c < Channels; c++)
        {
            var indices = Enumerable.Range(0, Batch).SelectMany(b => Enumerable.Range(((b * Channels) + c) * spatialSize, spatialSize)).ToArray();
            double mean = indices.Average(i => (double)x[i]);
            double inverseStd = 1 / Math.Sqrt(indices.Average(i => (x[i] - mean) * (x[i] - mean)) + 1e-4);
            double dBeta = indices.Sum(i => (double)dy[i]);
            double dGamma = indices.Sum(i => dy[i] * (x[i] - mean) * inverseStd);
            foreach (int i in indices)
            {
                double xHat = (x[i] - mean) * inverseStd;
                yRef[i] = xHat;
                dxRef[i] = inverseStd / n * ((n * dy[i]) - dBeta - (xHat * dGamma));
                dxTermScale = Math.Max(dxTermScale, inverseStd * Math.Abs(dy[i]));
            }
        }

        double yScale = yRef.Max(Math.Abs);
        var spatialError = (Y: MaxError(yRef, y) / yScale, Dx: MaxError(dxRef, dx) / dxTermScale);
        var flatError = (Y: MaxError(yRef, ToChannelsFirst(yFlat, spatialSize)) / yScale, Dx: MaxError(dxRef, ToChannelsFirst(dxFlat, spatialSize)) / dxTermScale);
        // TensorPrimitives' vector path sums each run in several lanes; its scalar fallback (DOTNET_EnableHWIntrinsic=0,
        // a CI leg) sums a run of up to 1024 values one by one, about sqrt(1024) / 2 times the rounding error. Measured
        // here: 20.7 and 11.4 epsilons at S = 1100 (the 2-D layer: 56 and 14), against at most 8 and 16 when vectorised.
        double bound = System.Numerics.Vector.IsHardwareAccelerated ? 1 : 4;
        Assert.True(spatialError.Y < 8 * bound * FloatEpsilon && spatialError.Dx < 16 * bound * FloatEpsilon, $"S={spatialSize}: spatial {spatialError}, 2-D {flatError}");
        Assert.True(spatialError.Y <= 2 * Math.Max(flatError.Y, FloatEpsilon), $"S={spatialSize}: spatial {spatialError}, 2-D {flatError}");
    }

    [Theory]
    [MemberData(nameof(SpatialSizes))]
    public void InPlace_GivesTheSameResults(int spatialSize)
    {
        int length = Batch * Channels * spatialSize;
        var x = ChannelData(80, spatialSize);
        var dy = SeededData.Normal(81, length);
        var separate = new SpatialBatchNormLayer(Channels);
        var inPlace = new SpatialBatchNormLayer(Channels);

        var y = new float[length];
        separate.Forward(x, y, Batch, spatialSize, training: true);
        var buffer = (float[])x.Clone();
        inPlace.Forward(buffer, buffer, Batch, spatialSize, training: true);
        Assert.Equal(y, buffer);

        var dx = new float[length];
        separate.Backward(dy, dx, new float[Channels], new float[Channels]);
        var gradient = (float[])dy.Clone();
        inPlace.Backward(gradient, gradient, new float[Channels], new float[Channels]);
        Assert.Equal(dx, gradient);
    }

    // Channels with different means and scales, so a mix-up of channels or planes shows.
    private static float[] ChannelData(int seed, int spatialSize)
    {
        var x = SeededData.Normal(seed, Batch * Channels * spatialSize);
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / spatialSize % Channels;
            x[i] = (x[i] * (0.5f + c)) + (3f * c) - 4f;
        }

        return x;
    }

    private static double MaxInverseStd(float[] x, int spatialSize)
    {
        double max = 0;
        for (int c = 0; c < Channels; c++)
        {
            var values = Enumerable.Range(0, Batch).SelectMany(b => x.Skip(((b * Channels) + c) * spatialSize).Take(spatialSize)).Select(v => (double)v).ToArray();
            double mean = values.Average();
            max = Math.Max(max, 1 / Math.Sqrt(values.Average(v => (v - mean) * (v - mean)) + 1e-4));
        }

        return max;
    }

    private static double MaxError(double[] expected, float[] actual) => expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();

    private static float[] ToChannelsFirst(float[] channelsLast, int spatialSize)
    {
        var result = new float[channelsLast.Length];
        for (int n = 0; n < Batch; n++)
        {
            for (int c = 0; c < Channels; c++)
            {
                for (int s = 0; s < spatialSize; s++)
                {
                    result[(((n * Channels) + c) * spatialSize) + s] = channelsLast[(((n * spatialSize) + s) * Channels) + c];
                }
            }
        }

        return result;
    }

    // NCHW (S = H x W) -> (N x S) x C, the 2-D layer's rows of channels.
    private static float[] ToChannelsLast(float[] nchw, int spatialSize)
    {
        var result = new float[nchw.Length];
        for (int n = 0; n < Batch; n++)
        {
            for (int c = 0; c < Channels; c++)
            {
                for (int s = 0; s < spatialSize; s++)
                {
                    result[(((n * spatialSize) + s) * Channels) + c] = nchw[(((n * Channels) + c) * spatialSize) + s];
                }
            }
        }

        return result;
    }

    private static void AssertClose(float[] actual, float[] expected, int n, string what, double? scale = null) =>
        Approx.Equal(expected, actual, 0, (32 + Math.Sqrt(n)) * FloatEpsilon * (scale ?? Math.Max(1, expected.Max(Math.Abs))), what);
}
