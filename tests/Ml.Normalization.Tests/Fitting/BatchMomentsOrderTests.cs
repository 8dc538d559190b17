using Ml.Normalization.Fitting;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// One batch's moments, whatever the order of its values: within 1e-13 relative of a compensated two-pass reference,
/// dense (per slot and per channel) and sparse alike, so the sparse fit and the dense fit agree within 1e-12. Before,
/// the sums were shifted by the batch's first value for the whole batch, and a first value far from the rest (one
/// non-zero, then zeros: the normal case of a zero-inflated slot) left the variance 1.8e-12 off at 256 rows and 7e-8
/// at 65,536 (issue 19, item 2). The mean is held to the same 1e-13, relative to |mean| + std: its rounding is that of
/// values of the spread's size, so a mean near 0 (one non-zero among zeros) is not held to its own few digits.
/// </summary>
public class BatchMomentsOrderTests
{
    private const double Tolerance = 1e-13;

    /// <summary>The orders and shapes: each is one slot's values in a batch of <c>n</c>.</summary>
    public static readonly string[] Shapes =
    [
        "outlier first",      // 3.9974885, then zeros (the case)
        "outlier last",       // zeros, then 3.9974885
        "zero-inflated",      // a few non-zeros at random rows
        "offset ascending",   // 1e6 plus noise, sorted ascending
        "offset descending",  // the same, descending
        "offset shuffled",    // the same, in random order
        "two clusters",       // half at 0, then half near 1e3
        "outlier in offset",  // 1e6 plus noise, but the first value is 0
        "tiny spread",        // 1 + 1e-9 noise
    ];

    public static TheoryData<int> Sizes() => [2, 7, 8, 9, 63, 64, 65, 256, 513, 4096, 65536];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MiniBatchMoments_AreWithin1e13OfTwoPass_WhateverTheOrder(int n)
    {
        var columns = Columns(n);
        var moments = new MiniBatchMoments<double>("x", columns.Length);
        var row = new double[columns.Length];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < columns.Length; j++)
            {
                row[j] = columns[j][i];
            }

            moments.Add(row);
        }

        AssertBatch(columns, moments);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void MiniBatchMoments_WithNaNRows_AreWithin1e13OfTwoPassOfTheFiniteValues(int n)
    {
        // Every third row has a NaN in slot 0: the rows take the general path, whose counts differ per slot.
        var columns = Columns(n);
        var moments = new MiniBatchMoments<double>("x", columns.Length);
        var row = new double[columns.Length];
        var finite = columns.Select(c => new List<double>()).ToArray();
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < columns.Length; j++)
            {
                row[j] = j == 0 && i % 3 == 1 ? double.NaN : columns[j][i];
                if (!double.IsNaN(row[j]))
                {
                    finite[j].Add(row[j]);
                }
            }

            moments.Add(row);
        }

        AssertBatch(finite.Select(f => f.ToArray()).ToArray(), moments);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void SparseBatchMoments_AreWithin1e13OfTwoPass_AndOfTheDenseMoments(int n)
    {
        var columns = Columns(n);
        using var sparse = new SparseBatchMoments<double>("x", columns.Length);
        var dense = new MiniBatchMoments<double>("x", columns.Length);
        var row = new double[columns.Length];
        var (values, indices) = (new List<double>(), new List<int>());
        for (int i = 0; i < n; i++)
        {
            values.Clear();
            indices.Clear();
            for (int j = 0; j < columns.Length; j++)
            {
                row[j] = columns[j][i];
                if (row[j] != 0)
                {
                    values.Add(row[j]);
                    indices.Add(j);
                }
            }

            sparse.Add(values.ToArray(), indices.ToArray());
            dense.Add(row);
        }

        var sparseStatistics = AssertBatch(columns, sparse);
        var denseStatistics = AssertBatch(columns, dense);
        for (int j = 0; j < columns.Length; j++)
        {
            AssertClose(denseStatistics.Variance[j], sparseStatistics.Variance[j], 1e-12, $"slot {j} ({Shapes[j]}): sparse against dense");
        }
    }

    [Theory]
    [InlineData(ChannelLayout.ChannelsFirst, 1)]
    [InlineData(ChannelLayout.ChannelsFirst, 8)]
    [InlineData(ChannelLayout.ChannelsFirst, 65)]
    [InlineData(ChannelLayout.ChannelsFirst, 600)]
    [InlineData(ChannelLayout.ChannelsLast, 1)]
    [InlineData(ChannelLayout.ChannelsLast, 8)]
    [InlineData(ChannelLayout.ChannelsLast, 65)]
    [InlineData(ChannelLayout.ChannelsLast, 600)]
    public void ChannelBatchMoments_AreWithin1e13OfTwoPass_WhateverTheOrder(ChannelLayout layout, int rows)
    {
        // Each channel's values over the batch (rows x 37 spatial positions) in one of the shapes' orders, so an outlier
        // can be the first value of the first row (a single row already holds many values per channel).
        const int spatial = 37;
        int channels = Shapes.Length;
        var columns = Columns(rows * spatial);
        var statisticsLayout = new StatisticsLayout(layout, channels, spatial);
        var moments = new ChannelBatchMoments<double>("x", statisticsLayout);
        var row = new double[channels * spatial];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int k = 0; k < spatial; k++)
                {
                    row[layout == ChannelLayout.ChannelsFirst ? (c * spatial) + k : (k * channels) + c] = columns[c][(r * spatial) + k];
                }
            }

            moments.Add(row);
        }

        AssertBatch(columns, moments);
    }

    private static (double[] Mean, double[] Variance) AssertBatch(double[][] columns, MomentAccumulator<double> moments)
    {
        var (mean, variance, count) = (new double[columns.Length], new double[columns.Length], new double[columns.Length]);
        moments.EndBatch(mean, variance, count);
        for (int j = 0; j < columns.Length; j++)
        {
            var (referenceMean, referenceVariance) = ReferenceStatistics.Moments(columns[j]);
            string what = $"{Shapes[j]}, {columns[j].Length} values";
            Assert.Equal(columns[j].Length, count[j]);
            double std = Math.Sqrt(referenceVariance);
            Assert.True(Math.Abs(mean[j] - referenceMean) <= Tolerance * (Math.Abs(referenceMean) + std), $"{what}: mean {mean[j]:R}, two-pass {referenceMean:R}");
            AssertClose(referenceVariance, variance[j], Tolerance, what);
        }

        return (mean, variance);
    }

    private static void AssertClose(double expected, double actual, double tolerance, string what)
    {
        double error = expected == 0 ? Math.Abs(actual) : Math.Abs(actual - expected) / expected;
        Assert.True(error <= tolerance, $"{what}: variance {actual:R}, expected {expected:R}: relative error {error:E2}");
    }

    // One array of n values per shape; seeded.
    private static double[][] Columns(int n)
    {
        var random = new Random(n);
        double Noise() => random.NextDouble() - 0.5;
        var offset = Enumerable.Range(0, n).Select(_ => 1e6 + Noise()).ToArray();
        var columns = new double[Shapes.Length][];
        columns[0] = Enumerable.Range(0, n).Select(i => i == 0 ? 3.9974885 : 0).ToArray();
        columns[1] = Enumerable.Range(0, n).Select(i => i == n - 1 ? 3.9974885 : 0).ToArray();
        columns[2] = Enumerable.Range(0, n).Select(i => i == 0 || random.Next(50) == 0 ? 1 + (10 * random.NextDouble()) : 0).ToArray();
        columns[3] = offset.Order().ToArray();
        columns[4] = offset.OrderDescending().ToArray();
        columns[5] = offset;
        columns[6] = Enumerable.Range(0, n).Select(i => i < n / 2 ? 0 : 1e3 + Noise()).ToArray();
        columns[7] = Enumerable.Range(0, n).Select(i => i == 0 ? 0 : offset[i]).ToArray();
        columns[8] = Enumerable.Range(0, n).Select(_ => 1 + (1e-9 * Noise())).ToArray();
        return columns;
    }
}
