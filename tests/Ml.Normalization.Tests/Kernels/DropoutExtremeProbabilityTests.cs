using System.Numerics;
using Ml.Normalization.Kernels;
using Ml.Normalization.Layers;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// Inverted dropout keeps the mean for every p in (0, 1), extreme ones included (issue 19, item 7): over a buffer of
/// ones the kept-and-scaled mean is within 1% of 1 and the dropped fraction within a few standard errors of p.
/// </summary>
public class DropoutExtremeProbabilityTests
{
    private const int Chunk = 1 << 20;
    private const ulong Key = 0x0DD5_EED5_1234_5678;

    // p and log2 of the sample. The mean's relative sd is sqrt(p / ((1 - p) n)), the drop rate's sqrt(p (1 - p) / n):
    // 1e-7, 2^28 values: 27 drops expected (sd 5), the 1/65536 resolution dropped none; 2^-17, 2^24: 128 (sd 11), it
    // dropped none; 1e-4, 2^27: the rate's sd is 8.6e-7, the old rate was 6.8e-6 high; 0.5, 2^22: a control (the old
    // resolution was exact there). Near 1, 1% of the mean is 4 sd only from 1.6e9 (0.9999), 1.6e10 and 1.6e11 values
    // on, too many for a test run: 2^28 values bound the mean to 4 sd (2.4%, 7.7%, 24%), which the old means (6.8%, 52%
    // and 15x high) miss by far, and ExpectedMean_OverAllIndices_IsWithinOnePercent shows the exact mean within 1%.
    public static TheoryData<double, int> Cases => new()
    {
        { 1e-7, 28 },
        { 1.0 / (1 << 17), 24 },
        { 1e-4, 27 },
        { 0.5, 22 },
        { 0.9999, 28 },
        { 0.99999, 28 },
        { 0.999999, 28 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void KeptAndScaledMean_IsWithinOnePercent_AndDropRateNearP(double probability, int log2Sample)
    {
        float p = (float)probability;
        double q = p; // the float p the layer and the stage hold
        float scale = 1f / (1f - p); // as DropoutLayer computes it
        long n = 1L << log2Sample;

        var ones = new float[Chunk];
        Array.Fill(ones, 1f);
        var y = new float[Chunk];
        uint threshold = DropoutMask.KeepThreshold(q);
        long kept = 0, dropped = 0;
        for (long first = 0; first < n; first += Chunk)
        {
            NormalizationKernels.Dropout(ones, y, Key, threshold, scale, (uint)first);
            var (k, d) = Count(y, scale);
            kept += k;
            dropped += d;
        }

        Assert.Equal(n, kept + dropped); // every value is the scale or 0
        double mean = kept * (double)scale / n;
        double meanError = Math.Sqrt(q / ((1 - q) * n));
        double tolerance = Math.Max(0.01, 4 * meanError);
        Assert.InRange(mean, 1 - tolerance, 1 + tolerance);

        double rate = (double)dropped / n;
        double rateError = Math.Sqrt(q * (1 - q) / n);
        Assert.InRange(rate, q - (4 * rateError) - (1.0 / (1L << 32)), q + (4 * rateError) + (1.0 / (1L << 32)));
    }

    [Fact]
    public void Layer_AtPNearOne_KeepsTheMean()
    {
        // Through DropoutLayer (a fresh key per call), p = 0.99999: 2^27 ones keep about 1342 (sd 37); the mean is within
        // 4 standard errors (11%) of 1, which the 1/65536 resolution (52% high) missed by 14.
        const float p = 0.99999f;
        var layer = new DropoutLayer(p, seed: 3);
        var ones = new float[1 << 24];
        Array.Fill(ones, 1f);
        var y = new float[ones.Length];
        float scale = 1f / (1f - p);
        long kept = 0, n = 0;
        for (int call = 0; call < 8; call++)
        {
            layer.Forward(ones, y, training: true);
            var (k, d) = Count(y, scale);
            Assert.Equal(y.Length, k + d);
            kept += k;
            n += y.Length;
        }

        double mean = kept * (double)scale / n;
        double meanError = Math.Sqrt(p / ((1.0 - p) * n));
        Assert.InRange(mean, 1 - (4 * meanError), 1 + (4 * meanError));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ExpectedMean_OverAllIndices_IsWithinOnePercent(double probability, int log2Sample)
    {
        // For a fixed key the hash is a bijection of the 32-bit index (checked below on a sample, and true of each
        // step of lowbias32), so over all 2^32 indices exactly the hashes below the threshold are dropped: the
        // kept-and-scaled mean of ones is exactly (1 - threshold / 2^32) * scale.
        _ = log2Sample;
        float p = (float)probability;
        float scale = 1f / (1f - p);
        double keepRate = 1 - (DropoutMask.KeepThreshold(p) / 4294967296.0);
        Assert.InRange(keepRate * scale, 0.99, 1.01);
        Assert.InRange(1 - keepRate, p - (0.5 / 4294967296.0), p + (0.5 / 4294967296.0));
    }

    [Fact]
    public void Hash_IsABijectionOfTheIndex()
    {
        // lowbias32 undone step by step gives back (index + key_lo) ^ key_hi, hence the index.
        for (uint i = 0; i < 1_000_000; i += 7)
        {
            uint h = DropoutMask.Hash(Key, i);
            h ^= h >> 16;
            h = unchecked(h * 0x43021123U); // the inverse of 0x846CA68B mod 2^32
            h ^= (h >> 15) ^ (h >> 30);
            h = unchecked(h * 0x1D69E2A5U); // the inverse of 0x7FEB352D
            h ^= h >> 16;
            Assert.Equal(i, unchecked((h ^ (uint)(Key >> 32)) - (uint)Key));
        }
    }

    [Fact]
    public void KeepThreshold_ResolvesPToTwoToTheMinus32()
    {
        Assert.Equal(0u, DropoutMask.KeepThreshold(0));
        Assert.Equal(1u, DropoutMask.KeepThreshold(1e-12)); // any p > 0 drops something
        Assert.Equal(2u, DropoutMask.KeepThreshold(1.0 / (1L << 31)));
        Assert.Equal(1u << 31, DropoutMask.KeepThreshold(0.5));
        Assert.Equal(uint.MaxValue - 255, DropoutMask.KeepThreshold(BitConverter.Int32BitsToSingle(0x3F7FFFFF))); // 1 - 2^-24
        Assert.Equal(uint.MaxValue, DropoutMask.KeepThreshold(1 - 1e-12)); // any p < 1 keeps something
    }

    private static (long Kept, long Dropped) Count(float[] y, float scale)
    {
        var kept = Vector<int>.Zero;
        var dropped = Vector<int>.Zero;
        var scales = new Vector<float>(scale);
        int i = 0;
        for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            var v = new Vector<float>(y, i);
            kept -= Vector.Equals(v, scales);
            dropped -= Vector.Equals(v, Vector<float>.Zero);
        }

        long k = Vector.Sum(kept), d = Vector.Sum(dropped);
        for (; i < y.Length; i++)
        {
            k += y[i] == scale ? 1 : 0;
            d += y[i] == 0f ? 1 : 0;
        }

        return (k, d);
    }
}
