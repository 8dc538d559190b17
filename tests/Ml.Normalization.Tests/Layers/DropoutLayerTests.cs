using Ml.Normalization.Kernels;
using Ml.Normalization.Layers;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Layers;

public class DropoutLayerTests
{
    [Fact]
    public void Forward_SameSeed_RepeatsExactly()
    {
        var x = SeededData.Normal(1, 1000);
        var a = new DropoutLayer(0.3f, seed: 42);
        var b = new DropoutLayer(0.3f, seed: 42);
        for (int call = 0; call < 3; call++)
        {
            var ya = new float[x.Length];
            var yb = new float[x.Length];
            a.Forward(x, ya, training: true);
            b.Forward(x, yb, training: true);
            Assert.Equal(ya, yb);
        }
    }

    [Fact]
    public void Forward_EachCall_DrawsAFreshMask()
    {
        var x = Enumerable.Repeat(1f, 1000).ToArray();
        var layer = new DropoutLayer(0.5f, seed: 7);
        var first = new float[x.Length];
        var second = new float[x.Length];
        layer.Forward(x, first, training: true);
        layer.Forward(x, second, training: true);
        int differing = first.Zip(second).Count(p => p.First != p.Second);
        // Two independent masks at p = 0.5 differ in half the places: 500 +- 4 standard errors (sd 15.8).
        Assert.InRange(differing, 437, 563);
    }

    [Theory]
    [InlineData(0.1f)]
    [InlineData(0.5f)]
    [InlineData(0.9f)]
    public void Forward_DroppedFraction_IsNearP_AndKeptValuesAreXOverOneMinusP(float p)
    {
        const int n = 200_000;
        var x = SeededData.Normal(3, n, 1, 1);
        var y = new float[n];
        new DropoutLayer(p, seed: 5).Forward(x, y, training: true);

        int dropped = 0;
        double sumX = 0, sumY = 0;
        for (int i = 0; i < n; i++)
        {
            if (y[i] == 0f)
            {
                dropped++;
            }
            else
            {
                Assert.Equal(x[i] * (1f / (1f - p)), y[i]);
            }

            sumX += x[i];
            sumY += y[i];
        }

        double standardError = Math.Sqrt(p * (1 - p) / n);
        Assert.InRange((double)dropped / n, p - (4 * standardError), p + (4 * standardError));

        // Inverted dropout keeps the mean in expectation: mean(y) - mean(x) has sd ~ sqrt(p/(1-p) * E[x^2] / n).
        double meanError = Math.Sqrt(p / (1 - p) * 2 / n);
        Assert.InRange((sumY - sumX) / n, -4 * meanError, 4 * meanError);
    }

    [Fact]
    public void Forward_ZeroP_IsIdentity()
    {
        var x = SeededData.Normal(4, 129);
        var y = new float[x.Length];
        new DropoutLayer(0f, seed: 1).Forward(x, y, training: true);
        Assert.Equal(x, y);
    }

    [Fact]
    public void Forward_TestMode_IsIdentity()
    {
        var x = SeededData.Normal(4, 129);
        var y = new float[x.Length];
        new DropoutLayer(0.5f, seed: 1).Forward(x, y, training: false);
        Assert.Equal(x, y);
    }

    [Fact]
    public void Backward_IsDyTimesTheLastTrainingMask()
    {
        var layer = new DropoutLayer(0.4f, seed: 9);
        var ones = Enumerable.Repeat(1f, 257).ToArray();
        var mask = new float[ones.Length];
        layer.Forward(ones, mask, training: true); // the mask itself: 0 or 1/(1-p)
        var dy = SeededData.Normal(10, ones.Length);
        var dx = new float[ones.Length];
        layer.Backward(dy, dx);
        for (int i = 0; i < dy.Length; i++)
        {
            Assert.Equal(dy[i] * mask[i], dx[i]);
        }
    }

    [Fact]
    public void Backward_MatchesNumericGradient()
    {
        // Dropout is linear for a fixed mask: check d sum(dy * dropout(x)) / dx with that mask held fixed.
        const ulong key = 12345;
        uint threshold = DropoutMask.KeepThreshold(0.3);
        float scale = 1f / 0.7f;
        var x = SeededData.Normal(20, 33);
        var dy = SeededData.Normal(21, 33);

        double Loss(double[] probe)
        {
            var y = new float[probe.Length];
            NormalizationKernels.Dropout(GoldenVectors.F(probe), y, key, threshold, scale);
            return y.Select((v, i) => (double)v * dy[i]).Sum();
        }

        var numeric = GradientCheck.Numeric(Loss, SeededData.ToDouble(x), 1e-2);
        var dx = new float[x.Length];
        NormalizationKernels.Dropout(dy, dx, key, threshold, scale);
        Assert.InRange(GradientCheck.RelativeError(SeededData.ToDouble(dx), numeric), 0, 1e-4);
    }

    [Fact]
    public void Backward_BeforeTrainingForward_Throws()
    {
        var layer = new DropoutLayer(0.5f, seed: 1);
        layer.Forward(new float[4], new float[4], training: false);
        var ex = Assert.Throws<InvalidOperationException>(() => layer.Backward(new float[4], new float[4]));
        Assert.Contains("Forward(training: true)", ex.Message);
    }

    [Theory]
    [InlineData(-0.1f)]
    [InlineData(1f)]
    [InlineData(float.NaN)]
    public void Constructor_RejectsPOutsideZeroOne(float p)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new DropoutLayer(p));
        Assert.Equal("dropProbability", ex.ParamName);
        Assert.StartsWith("'dropProbability' must be in [0, 1)", ex.Message);
    }

    [Fact]
    public void Forward_LengthMismatch_NamesY()
    {
        var ex = Assert.Throws<ArgumentException>(() => new DropoutLayer(0.5f, 1).Forward(new float[4], new float[3], true));
        Assert.Equal("y", ex.ParamName);
        Assert.StartsWith("Length of 'y' must be 4, got 3.", ex.Message);
    }
}
