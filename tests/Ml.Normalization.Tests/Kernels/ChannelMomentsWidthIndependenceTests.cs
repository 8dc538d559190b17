using System.Security.Cryptography;
using Ml.Normalization.Fitting;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// The per-channel statistics of a fit have the same bits on every vector width (see
/// <see cref="VectorWidthIndependenceTests"/>): .ci/run repeats these with AVX-512 off and with hardware intrinsics off.
/// </summary>
public class ChannelMomentsWidthIndependenceTests
{
    public static TheoryData<ChannelLayout, int, int, string> Cases => new()
    {
        // layout, channels, spatial size, the first 16 hex digits of SHA-256 over every batch's mean, variance and count
        // (float rows, then double rows; a NaN in the first row sends it down the general path). Recorded on AVX-512 when the
        // lanes went to 32 a plane and lcm(C, 16) interleaved, squares fused, and the first row's shifts came from the
        // lane kernel; identical with AVX-512 off, FMA off and hardware intrinsics off.
        { ChannelLayout.ChannelsFirst, 3, 7, "240EED06A2DCA448" },
        { ChannelLayout.ChannelsFirst, 3, 65, "810E71485F5E1143" },
        { ChannelLayout.ChannelsFirst, 2, 1024, "A4A9749EE346E06A" },
        { ChannelLayout.ChannelsLast, 3, 7, "884FD36CB9FAE1DD" },
        { ChannelLayout.ChannelsLast, 3, 65, "B7C6254C8D2FEF45" },
        { ChannelLayout.ChannelsLast, 5, 200, "557AF07A58836CE6" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ChannelStatistics_HaveTheSameBits_OnEveryVectorWidth(ChannelLayout layout, int channels, int spatial, string expected)
    {
        var random = new Random((channels * 1000) + spatial);
        var rows = Enumerable.Range(0, 10).Select(_ => Enumerable.Range(0, channels * spatial).Select(_ => (random.NextDouble() * 50) + 100).ToArray()).ToArray();
        rows[0][1] = double.NaN;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var statisticsLayout = new StatisticsLayout(layout, channels, spatial);

        var single = new ChannelBatchMoments<float>("x", statisticsLayout);
        var dbl = new ChannelBatchMoments<double>("x", statisticsLayout);
        var (mean, variance, count) = (new double[channels], new double[channels], new double[channels]);
        for (int batch = 0; batch < 2; batch++)
        {
            foreach (var row in rows.Skip(batch * 5).Take(5))
            {
                single.Add(Array.ConvertAll(row, v => (float)v));
            }

            single.EndBatch(mean, variance, count);
            Add(hash, mean, variance, count);
            foreach (var row in rows.Skip(batch * 5).Take(5))
            {
                dbl.Add(row);
            }

            dbl.EndBatch(mean, variance, count);
            Add(hash, mean, variance, count);
        }

        Assert.Equal(expected, Convert.ToHexString(hash.GetHashAndReset())[..16]);
    }

    private static void Add(IncrementalHash hash, params double[][] values)
    {
        foreach (var v in values)
        {
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()));
        }
    }
}
