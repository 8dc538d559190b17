using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;
using static Ml.Normalization.Tests.TestSupport.GoldenVectors;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Channels;

/// <summary>
/// BatchNormalize with channels fits one mean and variance per channel, over each batch's rows x spatial positions:
/// against a direct two-pass computation in double, and against PyTorch's <c>BatchNorm2d</c>.
/// </summary>
public class BatchNormalizeChannelFitTests
{
    private const int Rows = 40;
    private const int BatchSize = 16; // batches of 16, 16 and 8 rows

    /// <summary>Spatial sizes around the 16 lanes per channel and the vector widths; channel counts that 16 does and does not divide.</summary>
    public static TheoryData<ChannelLayout, int, int> Shapes()
    {
        var data = new TheoryData<ChannelLayout, int, int>();
        foreach (var layout in new[] { ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast })
        {
            foreach (var (channels, spatial) in new[] { (1, 1), (1, 16), (3, 1), (3, 7), (3, 8), (3, 16), (3, 17), (2, 33), (5, 63), (4, 64), (3, 65), (16, 9), (6, 129) })
            {
                data.Add(layout, channels, spatial);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Fit_WithoutMomentum_AveragesEachBatchsChannelStatistics(ChannelLayout layout, int channels, int spatial)
    {
        var ml = new MLContext(seed: 1);
        var rows = ImageData.Rows(7, Rows, channels, spatial, layout);
        var options = new BatchNormalizingEstimator.Options { ChannelLayout = layout, ChannelCount = channels, BatchSize = BatchSize, Momentum = null };

        var p = Fit(ml, ImageData.View(ml, rows, channels * spatial), options);

        var (mean, variance) = ReferenceAverage(rows, channels, spatial, layout, momentum: null);
        Assert.Equal(layout, p.ChannelLayout);
        Approx.Equal(mean, [.. p.RunningMean], 1e-13, 1e-13, "running mean");
        Approx.Equal(variance, [.. p.RunningVariance], 1e-11, 1e-13, "running variance");
        Assert.Equal(3, p.BatchCount);
        Assert.Equal(Rows, p.RowCount);
    }

    [Theory]
    [InlineData(ChannelLayout.ChannelsFirst)]
    [InlineData(ChannelLayout.ChannelsLast)]
    public void Fit_WithMomentumAndBiasCorrection_FollowsTheRunningAverage(ChannelLayout layout)
    {
        var ml = new MLContext(seed: 1);
        var rows = ImageData.Rows(8, Rows, 3, 25, layout);
        var options = new BatchNormalizingEstimator.Options { ChannelLayout = layout, BatchSize = BatchSize, Momentum = 0.8f, BiasCorrection = true, UnbiasedRunningVariance = true };
        int[] dimensions = layout == ChannelLayout.ChannelsFirst ? [3, 5, 5] : [5, 5, 3];

        var p = Fit(ml, ImageData.View(ml, rows, dimensions), options);

        var (mean, variance) = ReferenceAverage(rows, 3, 25, layout, momentum: 0.8f, unbiased: true);
        Approx.Equal(mean, [.. p.RunningMean], 1e-13, 1e-13, "running mean");
        Approx.Equal(variance, [.. p.RunningVariance], 1e-11, 1e-13, "running variance");
    }

    [Theory]
    [InlineData(ChannelLayout.ChannelsFirst)]
    [InlineData(ChannelLayout.ChannelsLast)]
    public void Fit_SkipsNaNAndInfinity_InChannelStatistics(ChannelLayout layout)
    {
        var ml = new MLContext(seed: 1);
        const int channels = 3, spatial = 20;
        var rows = ImageData.Rows(9, Rows, channels, spatial, layout);
        rows[0][ImageData.SlotOf(layout, channels, spatial, 0, 0)] = float.NaN; // before channel 0 has its shift
        rows[5][ImageData.SlotOf(layout, channels, spatial, 1, 3)] = float.PositiveInfinity;
        rows[21][ImageData.SlotOf(layout, channels, spatial, 2, 19)] = float.NegativeInfinity;
        for (int s = 0; s < spatial; s++)
        {
            rows[30][ImageData.SlotOf(layout, channels, spatial, 2, s)] = float.NaN;
        }

        var options = new BatchNormalizingEstimator.Options { ChannelLayout = layout, ChannelCount = channels, BatchSize = BatchSize, Momentum = null };
        var p = Fit(ml, ImageData.View(ml, rows, channels * spatial), options);

        var (mean, variance) = ReferenceAverage(rows, channels, spatial, layout, momentum: null);
        Assert.All(mean, m => Assert.True(double.IsFinite(m)));
        Approx.Equal(mean, [.. p.RunningMean], 1e-13, 1e-13, "running mean");
        Approx.Equal(variance, [.. p.RunningVariance], 1e-11, 1e-13, "running variance");
    }

    [Fact]
    public void Fit_ChannelsLast_EqualsChannelsFirst_OnTheSameImages()
    {
        var ml = new MLContext(seed: 1);
        const int channels = 3, spatial = 49;
        var first = ImageData.Rows(10, Rows, channels, spatial, ChannelLayout.ChannelsFirst);
        var last = first.Select(r => Transpose(r, channels, spatial)).ToArray();

        var a = Fit(ml, ImageData.View(ml, first, channels, 7, 7), new BatchNormalizingEstimator.Options { ChannelLayout = ChannelLayout.ChannelsFirst, BatchSize = BatchSize });
        var b = Fit(ml, ImageData.View(ml, last, 7, 7, channels), new BatchNormalizingEstimator.Options { ChannelLayout = ChannelLayout.ChannelsLast, BatchSize = BatchSize });

        Approx.Equal([.. a.RunningMean], [.. b.RunningMean], 1e-14, 1e-14, "running mean");
        Approx.Equal([.. a.RunningVariance], [.. b.RunningVariance], 1e-12, 1e-14, "running variance");
    }

    public static TheoryData<string> TorchCases => Torch2dNames();

    [Theory]
    [MemberData(nameof(TorchCases))]
    public void Fit_WithPyTorchConventions_GivesBatchNorm2dsRunningStatistics_AndEvalOutput(string name)
    {
        var c = Torch2dCase(name);
        foreach (var layout in new[] { ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast })
        {
            var ml = new MLContext(seed: 1);
            int[] dimensions = layout == ChannelLayout.ChannelsFirst ? [c.C, c.H, c.W] : [c.H, c.W, c.C];
            var rows = Images(c.Batches.SelectMany(b => Split(b, c.C * c.SpatialSize)), c.C, c.SpatialSize, layout);
            var options = new BatchNormalizingEstimator.Options
            {
                ChannelLayout = layout,
                BatchSize = c.N,
                Momentum = 1 - c.Torch_Momentum,
                Epsilon = c.Eps,
                BiasCorrection = false,
                UnbiasedRunningVariance = true,
                InitialRunningVariance = 1,
                Gamma = c.Weight,
                Beta = c.Bias,
            };

            var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Pixels")], options).Fit(ImageData.DoubleView(ml, rows, dimensions));

            // The reference's own double momentum and epsilon: only the accumulation order differs from torch's.
            var p = model.Columns[0];
            Approx.Equal(c.Running_Mean_After[^1], [.. p.RunningMean], 1e-6, 1e-9, $"{name} {layout} running_mean");
            Approx.Equal(c.Running_Var_After[^1], [.. p.RunningVariance], 1e-6, 1e-9, $"{name} {layout} running_var");
            var test = Images(Split(c.Test_X, c.C * c.SpatialSize), c.C, c.SpatialSize, layout);
            var output = model.Transform(ImageData.DoubleView(ml, test, dimensions)).GetColumn<VBuffer<double>>("Normalized").Select(v => v.DenseValues().ToArray()).ToArray();
            var expected = Images(Split(c.Eval_Out, c.C * c.SpatialSize), c.C, c.SpatialSize, layout);
            Approx.Equal(expected.SelectMany(r => r).ToArray(), output.SelectMany(r => r).ToArray(), 1e-5, 1e-6, $"{name} {layout} eval_out");
        }
    }

    internal static BatchNormalizationParameters Fit(MLContext ml, IDataView data, BatchNormalizingEstimator.Options options) =>
        ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Pixels")], options).Fit(data).Columns[0];

    /// <summary>The running statistics of the batches' per-channel statistics: a plain average, or momentum with bias correction.</summary>
    private static (double[] Mean, double[] Variance) ReferenceAverage(float[][] rows, int channels, int spatial, ChannelLayout layout, float? momentum, bool unbiased = false)
    {
        var mean = new double[channels];
        var variance = new double[channels];
        var batches = new long[channels];
        for (int from = 0; from < rows.Length; from += BatchSize)
        {
            int to = Math.Min(rows.Length, from + BatchSize);
            var (m, v, n) = ImageData.ChannelMoments(rows, from, to, channels, spatial, layout);
            for (int c = 0; c < channels; c++)
            {
                if (n[c] < 2)
                {
                    continue;
                }

                double vc = unbiased ? v[c] * n[c] / (n[c] - 1) : v[c];
                long t = ++batches[c];
                if (momentum is float mo)
                {
                    mean[c] = (mo * mean[c]) + ((1 - (double)mo) * m[c]);
                    variance[c] = (mo * variance[c]) + ((1 - (double)mo) * vc);
                }
                else
                {
                    mean[c] += (m[c] - mean[c]) / t;
                    variance[c] += (vc - variance[c]) / t;
                }
            }
        }

        if (momentum is float mom)
        {
            for (int c = 0; c < channels; c++)
            {
                double decay = Math.Pow(mom, batches[c]);
                mean[c] /= 1 - decay;
                variance[c] /= 1 - decay;
            }
        }

        return (mean, variance);
    }

    private static float[] Transpose(float[] channelsFirst, int channels, int spatial)
    {
        var result = new float[channelsFirst.Length];
        for (int c = 0; c < channels; c++)
        {
            for (int s = 0; s < spatial; s++)
            {
                result[(s * channels) + c] = channelsFirst[(c * spatial) + s];
            }
        }

        return result;
    }

    private static IEnumerable<double[]> Split(double[] flat, int rowLength) => flat.Chunk(rowLength);

    /// <summary>NCHW rows re-laid out in <paramref name="layout"/>.</summary>
    private static double[][] Images(IEnumerable<double[]> nchwRows, int channels, int spatial, ChannelLayout layout) =>
        nchwRows.Select(r =>
        {
            var result = new double[r.Length];
            for (int c = 0; c < channels; c++)
            {
                for (int s = 0; s < spatial; s++)
                {
                    result[ImageData.SlotOf(layout, channels, spatial, c, s)] = r[(c * spatial) + s];
                }
            }

            return result;
        }).ToArray();
}
