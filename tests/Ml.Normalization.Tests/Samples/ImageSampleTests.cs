using System.Xml.Linq;
using Ml.Normalization.Samples;

namespace Ml.Normalization.Tests.Samples;

/// <summary>
/// Runs the samples' images scenario in-process, into a temporary folder: image patches read with ImageAnalytics,
/// normalized per colour channel, classified by the photo they come from.
/// </summary>
public sealed class ImageSampleTests : IDisposable
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly XNamespace XlinkNamespace = "http://www.w3.org/1999/xlink";

    private readonly string _output = Directory.CreateTempSubdirectory("ml-normalization-images-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Fact]
    public void Images_PerChannelStatisticsAreTheDirectOnes_TheChannelsComeOutStandardized_AndTheModelBeatsChance()
    {
        var options = new ImagePipeline.Options();
        var report = ImagePipeline.Run(_output, options);
        int plane = options.Size * options.Size;

        Assert.Equal(["astronaut", "chelsea", "coffee", "rocket"], report.Classes);
        Assert.Equal(200, report.TrainingRows + report.TestRows);
        Assert.Equal(report.TrainingRows, report.TrainingPixels.Count);
        Assert.All(report.TrainingPixels, row => Assert.Equal(3 * plane, row.Length));
        Assert.All(report.TrainingPixels, row => Assert.All(row, v => Assert.InRange(v, 0f, 1f)));

        // The fitted stage keeps one mean and one variance per channel, over all rows and pixels of the fit.
        var fitted = report.FittedStatistics;
        Assert.Equal(ChannelLayout.ChannelsFirst, fitted.ChannelLayout);
        Assert.Equal(3, fitted.RunningMean.Count);
        Assert.Equal(report.TrainingRows, fitted.RowCount);
        Assert.Equal((report.TrainingRows + options.BatchSize - 1) / options.BatchSize, fitted.BatchCount);

        // They are a direct computation, in double, over the same pixels in the same mini-batches: per batch and channel
        // the mean and biased variance of all rows x H x W values, running = m * running + (1 - m) * batch from 0, divided
        // by 1 - m^t (bias correction, the default), with m the option's default, 0.9 as written. Tolerance 1e-9 relative: both sides sum ~16,000 values of at most
        // 1 per batch and channel in double (rounding ~1e-12 at most, whatever the order), while any difference in what
        // is computed is far larger (n / (n - 1) on the variance alone is 6e-5).
        var (replayedMean, replayedVariance) = ReplayRunningStatistics(report.TrainingPixels, plane, options.BatchSize, momentum: BatchNormalizingEstimator.Defaults.Momentum);
        for (int c = 0; c < 3; c++)
        {
            AssertRelative(replayedMean[c], fitted.RunningMean[c], 1e-9, $"running mean of channel {c}");
            AssertRelative(replayedVariance[c], fitted.RunningVariance[c], 1e-9, $"running variance of channel {c}");
        }

        foreach (var s in report.Channels)
        {
            // The moving average of three batches is near the whole training set's statistics: within 0.01 on means of
            // 0.3 to 0.5, and within 4 % on the std (3.3 % on blue: the last, partial batch of 23 patches weighs as much
            // as a full one).
            Assert.True(Math.Abs(s.FittedMean - s.DirectMean) < 0.01, $"{s.Channel}: fitted mean {s.FittedMean}, direct {s.DirectMean}");
            AssertRelative(s.DirectStd, s.FittedStd, 0.04, $"{s.Channel}: std");

            // After the fitted stage each channel is centred and scaled: the running statistics are not the whole set's,
            // so mean ~0 and std ~1 up to that difference.
            Assert.True(Math.Abs(s.MeanAfterFitted) < 0.05, $"{s.Channel}: mean after BatchNormalize {s.MeanAfterFitted}");
            Assert.True(Math.Abs(s.StdAfterFitted - 1) < 0.05, $"{s.Channel}: std after BatchNormalize {s.StdAfterFitted}");
        }

        // The ImageNet stage is exactly (x - mean[c]) / std[c]: its output statistics follow from the input's.
        for (int c = 0; c < 3; c++)
        {
            var s = report.Channels[c];
            double mean = ImagePipeline.ImageNetMean[c], std = ImagePipeline.ImageNetStd[c];
            Assert.Equal((s.DirectMean - mean) / std, s.MeanAfterImageNet, 1e-5);
            Assert.Equal(s.DirectStd / std, s.StdAfterImageNet, 1e-5);
        }

        // Four photos, about a quarter of the test patches each: chance is ~25 %.
        Assert.Equal(["no normalization", "BatchNormalize per channel", "ImageNet constants"], report.Metrics.Select(m => m.Name));
        Assert.All(report.Metrics, m => Assert.True(m.MicroAccuracy > 0.5 && double.IsFinite(m.LogLoss), $"{m.Name}: accuracy {m.MicroAccuracy:P1}, log-loss {m.LogLoss}"));

        // The histograms: nine panels, each with its title. The patches: 4 photos x 3 groups x 4 patches, each an
        // embedded PNG of 16 x 16 pixels drawn 6 x 6 (PictureTests checks the pixels reach the PNG).
        var channels = SamplesTests.AssertSvg(Assert.Single(report.Files, f => Path.GetFileName(f) == "image-channels.svg"), minimumBytes: 10_000);
        Assert.Equal(9, channels.Descendants(SamplesTests.SvgNamespace + "text").Count(t => t.Value.Contains(": mean ", StringComparison.Ordinal)));
        var patches = SamplesTests.AssertSvg(Assert.Single(report.Files, f => Path.GetFileName(f) == "image-patches.svg"), minimumBytes: 10_000);
        var images = patches.Descendants(SamplesTests.SvgNamespace + "image").ToList();
        Assert.Equal(4 * 3 * 4, images.Count);
        foreach (var image in images)
        {
            string href = (string)image.Attribute(XlinkNamespace + "href")!;
            Assert.StartsWith("data:image/png;base64,", href, StringComparison.Ordinal);
            var png = Convert.FromBase64String(href["data:image/png;base64,".Length..]);
            Assert.Equal(PngSignature, png[..8]);
            Assert.Equal(options.Size * 6, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16))); // IHDR width
        }
    }

    private static (double[] Mean, double[] Variance) ReplayRunningStatistics(IReadOnlyList<float[]> rows, int plane, int batchSize, double momentum)
    {
        var mean = new double[3];
        var variance = new double[3];
        int batches = 0;
        for (int start = 0; start + 2 <= rows.Count; start += batchSize)
        {
            var batch = rows.Skip(start).Take(batchSize).ToList();
            batches++;
            for (int c = 0; c < 3; c++)
            {
                var values = batch.SelectMany(r => r.Skip(c * plane).Take(plane)).Select(v => (double)v).ToList();
                double batchMean = values.Average();
                double batchVariance = values.Average(v => (v - batchMean) * (v - batchMean));
                mean[c] = (momentum * mean[c]) + ((1 - momentum) * batchMean);
                variance[c] = (momentum * variance[c]) + ((1 - momentum) * batchVariance);
            }
        }

        double correction = 1 - Math.Pow(momentum, batches);
        return ([.. mean.Select(m => m / correction)], [.. variance.Select(v => v / correction)]);
    }

    private static void AssertRelative(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected), $"{what}: expected {expected:R}, got {actual:R}");
}
