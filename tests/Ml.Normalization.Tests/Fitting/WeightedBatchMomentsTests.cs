using Ml.Normalization.Fitting;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// One batch's weighted moments: per slot and per channel the two-pass weighted mean and biased variance, the weight
/// sum as the count; a weight of 2 is the row twice, 0 leaves the row out, sparse rows equal their dense form.
/// </summary>
public class WeightedBatchMomentsTests
{
    [Theory]
    [InlineData(0.0, 700)]
    [InlineData(1e9, 700)]
    [InlineData(1e6, 5000)]
    public void PerSlot_WeightTwo_IsTheRowTwice_AndMatchesTheTwoPassWeightedMoments(double offset, int rows)
    {
        const int slots = 5;
        var data = Data(seed: 1, rows, slots, offset);
        data[3][2] = double.NaN;
        data[100][4] = double.PositiveInfinity;
        var random = new Random(2);
        var weights = Enumerable.Range(0, rows).Select(_ => (double)random.Next(3)).ToArray(); // 0, 1 or 2
        weights[0] = 0; // the batch's first row, at weight 0, gives no shift

        var weight = new RowWeight();
        var weighted = new WeightedBatchMoments<double>("x", StatisticsLayout.PerSlot(slots), weight);
        var repeated = new MiniBatchMoments<double>("x", slots);
        for (int i = 0; i < rows; i++)
        {
            weight.Value = weights[i];
            weighted.Add(data[i]);
            for (int k = 0; k < weights[i]; k++)
            {
                repeated.Add(data[i]);
            }
        }

        var (mean, variance, count) = Close(weighted, slots);
        var (mean2, variance2, count2) = Close(repeated, slots);

        for (int j = 0; j < slots; j++)
        {
            var (m, v, w) = TwoPass(data, weights, s => s, slots, j);
            Assert.Equal(w, count[j]);
            Assert.Equal(count2[j], count[j]);
            Assert.Equal(m, mean[j], 1e-14 * Math.Max(1, Math.Abs(m)));
            Assert.Equal(mean2[j], mean[j], 1e-14 * Math.Max(1, Math.Abs(m)));
            Assert.Equal(v, variance[j], 1e-12 * v);
            Assert.Equal(variance2[j], variance[j], 1e-12 * v);
        }
    }

    [Theory]
    [InlineData(ChannelLayout.ChannelsFirst)]
    [InlineData(ChannelLayout.ChannelsLast)]
    public void PerChannel_MatchesTheTwoPassWeightedMoments_OfEveryValueOfTheChannel(ChannelLayout channelLayout)
    {
        const int channels = 3, spatial = 40, rows = 90;
        var layout = new StatisticsLayout(channelLayout, channels, spatial);
        var data = Data(seed: 3, rows, channels * spatial, offset: 1e5);
        data[7][11] = double.NaN;
        var random = new Random(4);
        var weights = Enumerable.Range(0, rows).Select(_ => 2.5 * random.NextDouble()).ToArray();

        var weight = new RowWeight();
        var moments = new WeightedBatchMoments<double>("x", layout, weight);
        for (int i = 0; i < rows; i++)
        {
            weight.Value = weights[i];
            moments.Add(data[i]);
        }

        var (mean, variance, count) = Close(moments, channels);

        for (int c = 0; c < channels; c++)
        {
            var (m, v, w) = TwoPass(data, weights, layout.UnitOf, channels * spatial, c);
            Assert.Equal(w, count[c], 1e-13 * w);
            Assert.Equal(m, mean[c], 1e-14 * Math.Abs(m));
            Assert.Equal(v, variance[c], 1e-12 * v);
        }
    }

    [Fact]
    public void AUnitWithWeightSumZero_GetsNaNStatistics_AndCountZero()
    {
        var weight = new RowWeight { Value = 0 };
        var moments = new WeightedBatchMoments<float>("x", StatisticsLayout.PerSlot(2), weight);
        moments.Add([1f, 2f]);
        weight.Value = 3;
        moments.Add([5f, float.NaN]);

        var (mean, variance, count) = Close(moments, 2);

        Assert.Equal([3.0, 0.0], count);
        Assert.Equal(5.0, mean[0]);
        Assert.Equal(0.0, variance[0]);
        Assert.True(double.IsNaN(mean[1]) && double.IsNaN(variance[1]));
    }

    [Fact]
    public void SparseRows_GiveWhatTheirDenseFormGives_TheImplicitZerosCarryingTheRowsWeight()
    {
        const int slots = 6, rows = 50;
        var random = new Random(5);
        var weight = new RowWeight();
        var sparse = new WeightedBatchMoments<float>("x", StatisticsLayout.PerSlot(slots), weight);
        var dense = new WeightedBatchMoments<float>("x", StatisticsLayout.PerSlot(slots), weight);
        for (int i = 0; i < rows; i++)
        {
            var indices = Enumerable.Range(0, slots).Where(_ => random.NextDouble() < 0.3).ToArray();
            var values = indices.Select(_ => (float)(100 + random.NextDouble())).ToArray();
            var row = new float[slots];
            for (int k = 0; k < indices.Length; k++)
            {
                row[indices[k]] = values[k];
            }

            weight.Value = 2 * random.NextDouble();
            sparse.Add(values, indices);
            dense.Add(row);
        }

        var (denseMean, denseVariance, denseCount) = Close(dense, slots);
        var (sparseMean, sparseVariance, sparseCount) = Close(sparse, slots);
        Assert.Equal(denseMean, sparseMean);
        Assert.Equal(denseVariance, sparseVariance);
        Assert.Equal(denseCount, sparseCount);
    }

    private static (double[] Mean, double[] Variance, double[] Count) Close(MomentAccumulator<double> moments, int units) => Close<double>(moments, units);

    private static (double[] Mean, double[] Variance, double[] Count) Close<T>(MomentAccumulator<T> moments, int units)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var (mean, variance, count) = (new double[units], new double[units], new double[units]);
        moments.EndBatch(mean, variance, count);
        return (mean, variance, count);
    }

    // Two-pass in double: the weight sum, weighted mean and weighted biased variance of unit u's finite values. The mean is
    // summed relative to the first value: summed whole, values near 1e9 would leave it ~1e-6 off, and the variance 1e-12.
    private static (double Mean, double Variance, double Weight) TwoPass(double[][] data, double[] weights, Func<int, int> unitOf, int slots, int u)
    {
        var pairs = data.SelectMany((row, i) => Enumerable.Range(0, slots).Where(s => unitOf(s) == u && double.IsFinite(row[s])).Select(s => (X: row[s], W: weights[i]))).ToArray();
        double w = pairs.Sum(p => p.W);
        double first = pairs[0].X;
        double mean = first + (pairs.Sum(p => p.W * (p.X - first)) / w);
        return (mean, pairs.Sum(p => p.W * (p.X - mean) * (p.X - mean)) / w, w);
    }

    private static double[][] Data(int seed, int rows, int slots, double offset)
    {
        var noise = TestData.Random(seed, rows, slots);
        return [.. noise.Select(r => r.Select((v, j) => offset + ((j + 1) * (double)v)).ToArray())];
    }
}
