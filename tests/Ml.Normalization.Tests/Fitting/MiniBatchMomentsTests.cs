using Ml.Normalization.Fitting;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>The per-batch arithmetic of the fit: sums that float could not hold.</summary>
public class MiniBatchMomentsTests
{
    [Fact]
    public void SinglesOfMagnitude1e18_WhoseSquaresOverflowFloat_GiveFiniteStatistics()
    {
        // Nanosecond timestamps are ~1.7e18; deviations of ~1e18 square to ~1e36, and a few hundred of them overflow a float sum.
        const int rows = 1000;
        var values = Enumerable.Range(0, rows).Select(i => (float)(1.7e18 + ((i % 7) - 3) * 4e17 + (i * 1e15))).ToArray();
        var moments = new MiniBatchMoments<float>("x", 1);
        foreach (var v in values)
        {
            moments.Add([v]);
        }

        var (mean, variance, count) = (new double[1], new double[1], new double[1]);
        moments.EndBatch(mean, variance, count);

        double exactMean = values.Average(v => (double)v);
        double exactVariance = values.Average(v => Math.Pow(v - exactMean, 2));
        Assert.Equal(rows, count[0]);
        Assert.Equal(exactMean, mean[0], 1e-12 * Math.Abs(exactMean));
        Assert.Equal(exactVariance, variance[0], 1e-12 * exactVariance);
    }
}
