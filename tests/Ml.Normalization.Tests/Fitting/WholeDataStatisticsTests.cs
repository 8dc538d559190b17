using Microsoft.ML;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// <c>WholeDataStatistics</c>: the running mean and variance are the exact statistics of all finite values, whatever the
/// batch size; <c>Momentum = null</c> averages within-batch variances, which a drifting mean makes smaller.
/// </summary>
public class WholeDataStatisticsTests
{
    [Theory]
    [InlineData(2, false)]
    [InlineData(7, false)]
    [InlineData(256, false)]
    [InlineData(1000, true)]
    [InlineData(3, true)]
    public void Fit_GivesTheExactMeanAndVarianceOfAllValues_ForAnyBatchSize(int batchSize, bool unbiased)
    {
        var ml = new MLContext(seed: 1);
        var rows = Drifting(rows: 501, slots: 4);
        rows[10][2] = float.NaN;
        rows[500][3] = float.PositiveInfinity;
        var options = new BatchNormalizingEstimator.Options { BatchSize = batchSize, WholeDataStatistics = true, UnbiasedRunningVariance = unbiased };

        var p = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(TestData.Vectors(ml, rows, 4)).Columns[0];

        for (int j = 0; j < 4; j++)
        {
            var values = rows.Select(r => (double)r[j]).Where(double.IsFinite).ToArray();
            double mean = values.Average();
            double m2 = values.Sum(v => (v - mean) * (v - mean));
            double variance = m2 / (unbiased ? values.Length - 1 : values.Length);
            Assert.Equal(mean, p.RunningMean[j], mean * 1e-14);
            Assert.Equal(variance, p.RunningVariance[j], variance * 1e-12);
        }
    }

    [Fact]
    public void MomentumNull_OnADriftingMean_AveragesWithinBatchVariances_BelowTheWholeDataVariance()
    {
        var ml = new MLContext(seed: 1);
        var rows = Drifting(rows: 2048, slots: 1);
        var data = TestData.Vectors(ml, rows, 1);

        var averaged = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { Momentum = null }).Fit(data).Columns[0];
        var whole = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { WholeDataStatistics = true }).Fit(data).Columns[0];

        // References, two-pass in double: the mean of the 8 batches' biased variances, and the variance of all values.
        var values = rows.Select(r => (double)r[0]).ToArray();
        double averageOfBatchVariances = values.Chunk(256).Select(Variance).Average();
        Assert.Equal(averageOfBatchVariances, averaged.RunningVariance[0], 1e-12 * averageOfBatchVariances);
        Assert.Equal(Variance(values), whole.RunningVariance[0], 1e-12 * Variance(values));
        Assert.True(averaged.RunningVariance[0] < 0.5 * whole.RunningVariance[0], $"average of batch variances {averaged.RunningVariance[0]}, whole-data {whole.RunningVariance[0]}");

        static double Variance(double[] x)
        {
            double mean = x.Average();
            return x.Select(v => (v - mean) * (v - mean)).Average();
        }
    }

    /// <summary>Values around 10 + 0.01 * row with spread 2 (slot j: times j + 1).</summary>
    internal static float[][] Drifting(int rows, int slots)
    {
        var noise = TestData.Random(17, rows, slots, mean: 0, std: 2);
        return Enumerable.Range(0, rows).Select(i => Enumerable.Range(0, slots).Select(j => (float)((10 + (0.01 * i) + noise[i][j]) * (j + 1))).ToArray()).ToArray();
    }
}
