using Ml.Normalization.Layers;
using Ml.Normalization.Tests.TestSupport;
using static Ml.Normalization.Tests.TestSupport.GoldenVectors;

namespace Ml.Normalization.Tests.Layers;

/// <summary>The layer against the seed article's numpy code (Golden/seed_batchnorm.json).</summary>
public class BatchNormLayerGoldenTests
{
    private const double FloatEpsilon = 6e-8;

    public static TheoryData<string> Cases => SeedNames();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_Training_MatchesReference_ForEveryBatch(string name)
    {
        var c = SeedCase(name);
        var layer = NewLayer(c);
        for (int b = 0; b < c.Batches.Length; b++)
        {
            var y = new float[c.Rows * c.Features];
            layer.Forward(F(c.Batches[b]), y, c.Rows, training: true);
            Approx.Equal(c.Train_Out[b], y, 1e-5, OutputTolerance(c, c.Batches[b]), $"{name} train_out[{b}]");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_Training_UpdatesRunningStatistics_AsReference(string name)
    {
        var c = SeedCase(name);
        var layer = NewLayer(c);
        for (int b = 0; b < c.Batches.Length; b++)
        {
            layer.Forward(F(c.Batches[b]), new float[c.Rows * c.Features], c.Rows, training: true);
            double scale = c.Batches[b].Max(Math.Abs);
            Approx.Equal(c.Running_Mean_After[b], layer.RunningMean, 1e-6, 4 * FloatEpsilon * scale, $"{name} running_mean[{b}]");
            Approx.Equal(c.Running_Var_After[b], layer.RunningVariance, 1e-4, 1e-6, $"{name} running_var[{b}]");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_Test_UsesRunningStatistics_AsReference(string name)
    {
        var c = SeedCase(name);
        var layer = NewLayer(c);
        foreach (var batch in c.Batches)
        {
            layer.Forward(F(batch), new float[c.Rows * c.Features], c.Rows, training: true);
        }

        var y = new float[c.Test_Rows * c.Features];
        layer.Forward(F(c.Test_X), y, c.Test_Rows, training: false);
        // Running variances are small after three batches from a zero start, so the outputs are large; scale the tolerance.
        Approx.Equal(c.Test_Out, y, 1e-4, OutputTolerance(c, c.Test_X), $"{name} test_out");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesReference_dx_dGamma_dBeta(string name) => AssertBackwardMatchesReference(name, keepNormalizedInput: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_GivenTheInput_WithoutKeptXHat_MatchesReference(string name) => AssertBackwardMatchesReference(name, keepNormalizedInput: false);

    private static void AssertBackwardMatchesReference(string name, bool keepNormalizedInput)
    {
        var c = SeedCase(name);
        var layer = NewLayer(c, keepNormalizedInput);
        foreach (var batch in c.Batches)
        {
            layer.Forward(F(batch), new float[c.Rows * c.Features], c.Rows, training: true);
        }

        var dx = new float[c.Rows * c.Features];
        var dGamma = new float[c.Features];
        var dBeta = new float[c.Features];
        if (keepNormalizedInput)
        {
            layer.Backward(F(c.Dout), dx, dGamma, dBeta);
        }
        else
        {
            layer.Backward(F(c.Batches[^1]), F(c.Dout), dx, dGamma, dBeta);
        }

        // dx is a difference of terms of size gamma * dy / std that nearly cancel for tiny batches: scale by the terms.
        double dxScale = c.Gamma.Max(Math.Abs) * c.Dout.Max(Math.Abs) / MinStd(c, c.Batches[^1]);
        double relativeInput = RelativeInputPrecision(c, c.Batches[^1]);
        Approx.Equal(c.Dx, dx, 1e-4, (1e-4 + relativeInput) * dxScale, $"{name} dx");
        Approx.Equal(c.Dgamma, dGamma, 1e-4, (1e-5 + relativeInput) * c.Rows, $"{name} dgamma");
        Approx.Equal(c.Dbeta, dBeta, 1e-5, 1e-5 * c.Rows, $"{name} dbeta");
    }

    [Fact]
    public void Forward_Training_LargeMean_KeepsVarianceAccurate()
    {
        var c = SeedCase("large_mean_N32_D9");
        var layer = NewLayer(c);
        layer.Forward(F(c.Batches[0]), new float[c.Rows * c.Features], c.Rows, training: true);
        for (int j = 0; j < c.Features; j++)
        {
            // After one batch from a zero start, running_var = 0.1 * batch variance: check it to 0.1%.
            double expected = c.Running_Var_After[0][j];
            Assert.InRange(layer.RunningVariance[j], expected * 0.999, expected * 1.001);
        }
    }

    private static BatchNormLayer NewLayer(SeedBatchNormCase c, bool keepNormalizedInput = true)
    {
        var layer = new BatchNormLayer(c.Features, (float)c.Momentum, (float)c.Eps) { KeepNormalizedInput = keepNormalizedInput };
        F(c.Gamma).CopyTo(layer.Gamma, 0);
        F(c.Beta).CopyTo(layer.Beta, 0);
        return layer;
    }

    // x is rounded to float, and the batch mean is stored as a float: both cost about one ulp of |x|,
    // which normalization divides by the standard deviation and multiplies by gamma.
    private static double OutputTolerance(SeedBatchNormCase c, double[] x) =>
        1e-5 + (RelativeInputPrecision(c, x) * c.Gamma.Max(Math.Abs));

    private static double RelativeInputPrecision(SeedBatchNormCase c, double[] x) =>
        4 * FloatEpsilon * x.Max(Math.Abs) / MinStd(c, x);

    private static double MinStd(SeedBatchNormCase c, double[] x)
    {
        double minStd = double.MaxValue;
        for (int j = 0; j < c.Features; j++)
        {
            double mean = 0, sq = 0;
            for (int i = 0; i < x.Length / c.Features; i++)
            {
                mean += x[(i * c.Features) + j];
            }

            mean /= x.Length / c.Features;
            for (int i = 0; i < x.Length / c.Features; i++)
            {
                sq += Math.Pow(x[(i * c.Features) + j] - mean, 2);
            }

            minStd = Math.Min(minStd, Math.Sqrt((sq / (x.Length / c.Features)) + c.Eps));
        }

        return minStd;
    }
}
