using Ml.Normalization.Kernels;
using Ml.Normalization.Layers;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Layers;

/// <summary>Numeric gradient checks of the batch-norm backward pass (the kernels in double, the layer in float).</summary>
public class BatchNormGradientTests
{
    private const int Rows = 6;
    private const int Features = 9; // a SIMD tail in float and double
    private const double Epsilon = 1e-5;

    private static readonly double[] X = SeededData.ToDouble(SeededData.Normal(11, Rows * Features, 2, 3));
    private static readonly double[] Gamma = SeededData.ToDouble(SeededData.Normal(12, Features, 1, 0.3));
    private static readonly double[] Beta = SeededData.ToDouble(SeededData.Normal(13, Features));
    private static readonly double[] Dy = SeededData.ToDouble(SeededData.Normal(14, Rows * Features));

    [Fact]
    public void Backward_dx_MatchesNumericGradient()
    {
        var (dx, _, _) = Analytic(X, Gamma);
        var numeric = GradientCheck.Numeric(x => Loss(x, Gamma, Beta), X, 1e-5);
        Assert.InRange(GradientCheck.RelativeError(dx, numeric), 0, 1e-7);
    }

    [Fact]
    public void Backward_dGamma_MatchesNumericGradient()
    {
        var (_, dGamma, _) = Analytic(X, Gamma);
        var numeric = GradientCheck.Numeric(g => Loss(X, g, Beta), Gamma, 1e-5);
        Assert.InRange(GradientCheck.RelativeError(dGamma, numeric), 0, 1e-7);
    }

    [Fact]
    public void Backward_dBeta_MatchesNumericGradient()
    {
        var (_, _, dBeta) = Analytic(X, Gamma);
        var numeric = GradientCheck.Numeric(b => Loss(X, Gamma, b), Beta, 1e-5);
        Assert.InRange(GradientCheck.RelativeError(dBeta, numeric), 0, 1e-7);
    }

    [Fact]
    public void GradientCheck_HasTeeth_dxWithoutVarianceTermFails()
    {
        // The common mistake: drop the variance path, keeping only dx = gamma * invStd * (dy - mean(dy)).
        var (_, _, dBeta) = Analytic(X, Gamma);
        var (_, variance) = Moments(X);
        var wrong = new double[X.Length];
        for (int i = 0; i < Rows; i++)
        {
            for (int j = 0; j < Features; j++)
            {
                wrong[(i * Features) + j] = Gamma[j] / Math.Sqrt(variance[j] + Epsilon) * (Dy[(i * Features) + j] - (dBeta[j] / Rows));
            }
        }

        var numeric = GradientCheck.Numeric(x => Loss(x, Gamma, Beta), X, 1e-5);
        Assert.True(GradientCheck.RelativeError(wrong, numeric) > 1e-2, "the check must reject a dx without the variance term");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Layer_Backward_MatchesNumericGradient_InFloat(bool keepNormalizedInput)
    {
        var layer = new BatchNormLayer(Features) { KeepNormalizedInput = keepNormalizedInput };
        GoldenVectors.F(Gamma).CopyTo(layer.Gamma, 0);
        GoldenVectors.F(Beta).CopyTo(layer.Beta, 0);
        var x = GoldenVectors.F(X);
        var dy = GoldenVectors.F(Dy);

        double FloatLoss(double[] probe)
        {
            var y = new float[probe.Length];
            layer.Forward(GoldenVectors.F(probe), y, Rows, training: true);
            double loss = 0;
            for (int i = 0; i < y.Length; i++)
            {
                loss += (double)dy[i] * y[i];
            }

            return loss;
        }

        var numeric = GradientCheck.Numeric(FloatLoss, SeededData.ToDouble(x), 1e-2);
        layer.Forward(x, new float[x.Length], Rows, training: true);
        var dx = new float[x.Length];
        if (keepNormalizedInput)
        {
            layer.Backward(dy, dx, new float[Features], new float[Features]);
        }
        else
        {
            layer.Backward(x, dy, dx, new float[Features], new float[Features]);
        }

        Assert.InRange(GradientCheck.RelativeError(SeededData.ToDouble(dx), numeric), 0, 2e-3);
    }

    private static double Loss(double[] x, double[] gamma, double[] beta)
    {
        var (mean, variance) = Moments(x);
        var inverseStd = variance.Select(v => 1 / Math.Sqrt(v + Epsilon)).ToArray();
        var xHat = new double[Features];
        var y = new double[Features];
        double loss = 0;
        for (int i = 0; i < Rows; i++)
        {
            NormalizationKernels.NormalizeTraining<double>(x.AsSpan(i * Features, Features), 1, mean, inverseStd, gamma, beta, xHat, y);
            for (int j = 0; j < Features; j++)
            {
                loss += Dy[(i * Features) + j] * y[j];
            }
        }

        return loss;
    }

    private static (double[] Mean, double[] Variance) Moments(double[] x)
    {
        var mean = new double[Features];
        var variance = new double[Features];
        NormalizationKernels.BatchMoments<double>(x, Rows, mean, variance);
        return (mean, variance);
    }

    private static (double[] Dx, double[] DGamma, double[] DBeta) Analytic(double[] x, double[] gamma)
    {
        var (mean, variance) = Moments(x);
        var inverseStd = variance.Select(v => 1 / Math.Sqrt(v + Epsilon)).ToArray();
        var xHat = new double[x.Length];
        var y = new double[x.Length];
        for (int i = 0; i < Rows; i++)
        {
            NormalizationKernels.NormalizeTraining<double>(x.AsSpan(i * Features, Features), 1, mean, inverseStd, gamma, Beta, xHat.AsSpan(i * Features, Features), y.AsSpan(i * Features, Features));
        }

        var dx = new double[x.Length];
        var dGamma = new double[Features];
        var dBeta = new double[Features];
        NormalizationKernels.BatchNormBackward<double>(Dy, xHat, Rows, gamma, inverseStd, dx, dGamma, dBeta);
        return (dx, dGamma, dBeta);
    }
}
