using Ml.Normalization.Layers;

namespace Ml.Normalization.Tests.Layers;

/// <summary>
/// The layers' training-mode batch statistics on batches whose first value, the sums' shift, is far from the rest:
/// within 1e-6 relative of a two-pass double reference (docs/layers.md, batch statistics precision). The statistics are
/// read through the running statistics with Momentum 0, which then equal the batch's.
/// </summary>
public class BatchStatisticsPrecisionTests
{
    private const double Tolerance = 1e-6;

    public static TheoryData<int, double, int> DenseCases()
    {
        var cases = new TheoryData<int, double, int>();
        foreach (double outlier in new[] { 1e3, 1e5, 1e7 })
        {
            foreach (int threads in new[] { 1, 2 })
            {
                cases.Add(1, outlier, threads);
                cases.Add(64, outlier, threads);
            }
        }

        cases.Add(9, 1e3, 2);
        return cases;
    }

    [Theory]
    [MemberData(nameof(DenseCases))]
    public void BatchNormLayer_OutlierFirstRow_KeepsTheTwoPassStatistics(int features, double outlier, int threads)
    {
        const int rows = 65536;
        var x = Batch(seed: 3, rows * features, outlier, Enumerable.Range(0, features).ToArray());
        var layer = new BatchNormLayer(features, momentum: 0f) { MaxDegreeOfParallelism = threads };
        layer.Forward(x, new float[x.Length], rows, training: true);

        for (int j = 0; j < features; j++)
        {
            var (mean, variance) = TwoPass(x, start: j, stride: features, count: rows);
            AssertStatistics(mean, variance, layer.RunningMean[j], layer.RunningVariance[j], $"feature {j}");
        }
    }

    [Theory]
    [InlineData(1e3)]
    [InlineData(1e5)]
    [InlineData(1e7)]
    public void SpatialBatchNormLayer_OutlierFirstValue_KeepsTheTwoPassStatistics(double outlier)
    {
        const int batch = 64, channels = 2, spatialSize = 1024;
        var x = Batch(seed: 5, batch * channels * spatialSize, outlier, [0, spatialSize]);
        var layer = new SpatialBatchNormLayer(channels, momentum: 0f);
        var y = new float[x.Length];
        layer.Forward(x, y, batch, spatialSize, training: true);

        for (int c = 0; c < channels; c++)
        {
            var values = new List<float>();
            for (int n = 0; n < batch; n++)
            {
                values.AddRange(x.AsSpan(((n * channels) + c) * spatialSize, spatialSize).ToArray());
            }

            var (mean, variance) = TwoPass(values.ToArray(), start: 0, stride: 1, count: values.Count);
            AssertStatistics(mean, variance, layer.RunningMean[c], layer.RunningVariance[c], $"channel {c}");

            // The normalized values too: x-hat of the first value and of an ordinary one, against the reference's.
            double std = Math.Sqrt(variance + 1e-5);
            foreach (int i in new[] { 0, 777 })
            {
                int at = (c * spatialSize) + i;
                double expected = (x[at] - mean) / std;
                Assert.True(Math.Abs(y[at] - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"channel {c}, value {i}: y {y[at]}, expected {expected}");
            }
        }
    }

    // Values 5000 + U(-1, 1), except 5000 + outlier at the given positions (row 0 of each feature, or each channel's
    // first value).
    private static float[] Batch(int seed, int length, double outlier, int[] outlierPositions)
    {
        var random = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++)
        {
            x[i] = (float)(5000 + ((random.NextDouble() * 2) - 1));
        }

        foreach (int at in outlierPositions)
        {
            x[at] = (float)(5000 + outlier);
        }

        return x;
    }

    private static (double Mean, double Variance) TwoPass(float[] x, int start, int stride, int count)
    {
        double sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += x[start + (i * stride)];
        }

        double mean = sum / count, squares = 0;
        for (int i = 0; i < count; i++)
        {
            double d = x[start + (i * stride)] - mean;
            squares += d * d;
        }

        return (mean, squares / count);
    }

    private static void AssertStatistics(double mean, double variance, float actualMean, float actualVariance, string what)
    {
        Assert.True(
            Math.Abs(actualVariance - variance) <= Tolerance * variance,
            $"{what}: variance {actualVariance}, two-pass {variance} (relative error {(actualVariance - variance) / variance:E2})");
        Assert.True(
            Math.Abs(actualMean - mean) <= Tolerance * (Math.Abs(mean) + Math.Sqrt(variance)),
            $"{what}: mean {actualMean}, two-pass {mean}");
    }
}
