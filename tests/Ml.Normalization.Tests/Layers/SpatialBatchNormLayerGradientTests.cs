using Ml.Normalization.Layers;
using Ml.Normalization.Tests.TestSupport;
using static Ml.Normalization.Tests.TestSupport.GoldenVectors;

namespace Ml.Normalization.Tests.Layers;

/// <summary>
/// Numeric gradient checks of <see cref="SpatialBatchNormLayer.Backward"/>: central differences of
/// loss = sum(dy * y), taken (1) in double of an independent double-precision spatial batch norm written here, which the
/// layer's float gradient must match to float accuracy, and (2) in float through the layer's own Forward, which checks
/// that Backward is the derivative of the Forward the layer actually runs.
/// </summary>
public class SpatialBatchNormLayerGradientTests
{
    private const int Batch = 3;
    private const int Channels = 2;
    private const double Epsilon = 1e-5;

    public static TheoryData<int> SpatialSizes => new() { 1, 7, 9 };

    [Theory]
    [MemberData(nameof(SpatialSizes))]
    public void Backward_dx_MatchesNumericGradient_InDouble(int spatialSize)
    {
        var p = Problem.Create(spatialSize);
        var (dx, _, _) = LayerGradients(p);
        var numeric = GradientCheck.Numeric(x => p.Loss(x, p.Gamma, p.Beta), p.X, 1e-5);
        Assert.InRange(GradientCheck.RelativeError(dx, numeric), 0, 1e-5);
    }

    [Theory]
    [MemberData(nameof(SpatialSizes))]
    public void Backward_dGamma_MatchesNumericGradient_InDouble(int spatialSize)
    {
        var p = Problem.Create(spatialSize);
        var (_, dGamma, _) = LayerGradients(p);
        var numeric = GradientCheck.Numeric(g => p.Loss(p.X, g, p.Beta), p.Gamma, 1e-5);
        Assert.InRange(GradientCheck.RelativeError(dGamma, numeric), 0, 1e-5);
    }

    [Theory]
    [MemberData(nameof(SpatialSizes))]
    public void Backward_dBeta_MatchesNumericGradient_InDouble(int spatialSize)
    {
        var p = Problem.Create(spatialSize);
        var (_, _, dBeta) = LayerGradients(p);
        var numeric = GradientCheck.Numeric(b => p.Loss(p.X, p.Gamma, b), p.Beta, 1e-5);
        Assert.InRange(GradientCheck.RelativeError(dBeta, numeric), 0, 1e-5);
    }

    [Fact]
    public void GradientCheck_HasTeeth_PerSampleStatisticsFail()
    {
        // The spatial mistake: a channel's "batch" taken as one sample's H x W values (n = S) instead of N x H x W.
        var p = Problem.Create(9);
        var wrong = p.ClosedFormDx(countPerChannel: 9);
        var numeric = GradientCheck.Numeric(x => p.Loss(x, p.Gamma, p.Beta), p.X, 1e-5);
        Assert.True(GradientCheck.RelativeError(wrong, numeric) > 1e-2, "the check must reject dx with per-sample statistics");
        Assert.InRange(GradientCheck.RelativeError(p.ClosedFormDx(countPerChannel: Batch * 9), numeric), 0, 1e-7);
    }

    [Fact]
    public void GradientCheck_HasTeeth_dxWithoutVarianceTermFails()
    {
        var p = Problem.Create(7);
        var (dx, dGamma, _) = LayerGradients(p);
        var xHat = p.XHat(p.X);
        var inverseStd = p.InverseStd(p.X);
        var wrong = new double[dx.Length];
        int n = Batch * 7;
        for (int i = 0; i < wrong.Length; i++)
        {
            int c = i / 7 % Channels;
            wrong[i] = dx[i] + (p.Gamma[c] * inverseStd[c] * xHat[i] * dGamma[c] / n); // the xHat * dGamma / n term dropped
        }

        var numeric = GradientCheck.Numeric(x => p.Loss(x, p.Gamma, p.Beta), p.X, 1e-5);
        Assert.True(GradientCheck.RelativeError(wrong, numeric) > 1e-2, "the check must reject a dx without the variance term");
    }

    [Theory]
    [MemberData(nameof(SpatialSizes))]
    public void Layer_Backward_MatchesNumericGradientOfItsOwnForward_InFloat(int spatialSize)
    {
        var p = Problem.Create(spatialSize);
        var layer = p.NewLayer();
        var dy = F(p.Dy);

        double FloatLoss(double[] probe)
        {
            var y = new float[probe.Length];
            layer.Forward(F(probe), y, Batch, spatialSize, training: true);
            double loss = 0;
            for (int i = 0; i < y.Length; i++)
            {
                loss += (double)dy[i] * y[i];
            }

            return loss;
        }

        var numeric = GradientCheck.Numeric(FloatLoss, p.X, 1e-2);
        var (dx, _, _) = LayerGradients(p);
        Assert.InRange(GradientCheck.RelativeError(dx, numeric), 0, 2e-3);
    }

    private static (double[] Dx, double[] DGamma, double[] DBeta) LayerGradients(Problem p)
    {
        var layer = p.NewLayer();
        layer.Forward(F(p.X), new float[p.X.Length], Batch, p.SpatialSize, training: true);
        var dx = new float[p.X.Length];
        var dGamma = new float[Channels];
        var dBeta = new float[Channels];
        layer.Backward(F(p.Dy), dx, dGamma, dBeta);
        return (SeededData.ToDouble(dx), SeededData.ToDouble(dGamma), SeededData.ToDouble(dBeta));
    }

    private sealed record Problem(int SpatialSize, double[] X, double[] Gamma, double[] Beta, double[] Dy)
    {
        // Float-exact data, so the float layer and the double reference see the same input.
        public static Problem Create(int spatialSize) => new(
            spatialSize,
            SeededData.ToDouble(SeededData.Normal(21 + spatialSize, Batch * Channels * spatialSize, 2, 3)),
            SeededData.ToDouble(SeededData.Normal(22, Channels, 1, 0.3)),
            SeededData.ToDouble(SeededData.Normal(23, Channels)),
            SeededData.ToDouble(SeededData.Normal(24 + spatialSize, Batch * Channels * spatialSize)));

        public SpatialBatchNormLayer NewLayer()
        {
            var layer = new SpatialBatchNormLayer(Channels, epsilon: (float)Epsilon);
            F(Gamma).CopyTo(layer.Gamma, 0);
            F(Beta).CopyTo(layer.Beta, 0);
            return layer;
        }

        // sum(dy * y) of y = gamma * x_hat + beta with per-channel statistics over N x S, all in double.
        public double Loss(double[] x, double[] gamma, double[] beta)
        {
            var xHat = XHat(x);
            double loss = 0;
            for (int i = 0; i < x.Length; i++)
            {
                int c = i / SpatialSize % Channels;
                loss += Dy[i] * ((gamma[c] * xHat[i]) + beta[c]);
            }

            return loss;
        }

        public double[] XHat(double[] x)
        {
            var (mean, inverseStd) = Statistics(x);
            var xHat = new double[x.Length];
            for (int i = 0; i < x.Length; i++)
            {
                int c = i / SpatialSize % Channels;
                xHat[i] = (x[i] - mean[c]) * inverseStd[c];
            }

            return xHat;
        }

        public double[] InverseStd(double[] x) => Statistics(x).InverseStd;

        // The closed form with a chosen count of values per channel statistic: Batch x S is right; S is the
        // per-sample mistake (statistics, sums and the 1/n all taken over one sample's plane).
        public double[] ClosedFormDx(int countPerChannel)
        {
            var dx = new double[X.Length];
            int groups = X.Length / countPerChannel;
            for (int g = 0; g < groups; g++)
            {
                var indices = Members(g, countPerChannel);
                int c = indices[0] / SpatialSize % Channels;
                double mean = indices.Average(i => X[i]);
                double inverseStd = 1 / Math.Sqrt(indices.Average(i => (X[i] - mean) * (X[i] - mean)) + Epsilon);
                double dBeta = indices.Sum(i => Dy[i]);
                double dGamma = indices.Sum(i => Dy[i] * (X[i] - mean) * inverseStd);
                foreach (int i in indices)
                {
                    double xHat = (X[i] - mean) * inverseStd;
                    dx[i] = Gamma[c] * inverseStd / countPerChannel * ((countPerChannel * Dy[i]) - dBeta - (xHat * dGamma));
                }
            }

            return dx;
        }

        // Group g of countPerChannel values: a channel's N x S values, or one plane (sample n, channel c).
        private int[] Members(int g, int countPerChannel) => countPerChannel == SpatialSize
            ? [.. Enumerable.Range(g * SpatialSize, SpatialSize)]
            : [.. Enumerable.Range(0, Batch).SelectMany(n => Enumerable.Range(((n * Channels) + g) * SpatialSize, SpatialSize))];

        private (double[] Mean, double[] InverseStd) Statistics(double[] x)
        {
            var mean = new double[Channels];
            var inverseStd = new double[Channels];
            for (int c = 0; c < Channels; c++)
            {
                var indices = Members(c, Batch * SpatialSize);
                mean[c] = indices.Average(i => x[i]);
                double m = mean[c];
                inverseStd[c] = 1 / Math.Sqrt(indices.Average(i => (x[i] - m) * (x[i] - m)) + Epsilon);
            }

            return (mean, inverseStd);
        }
    }
}
