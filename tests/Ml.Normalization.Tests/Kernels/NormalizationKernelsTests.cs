using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>The kernels' properties beyond matching the references: accuracy, non-finite values, counts, NaN, the mask.</summary>
public class NormalizationKernelsTests
{
    public static TheoryData<int> Lengths => SeededData.Lengths();

    public static TheoryData<int> NonEmptyLengths => SeededData.Lengths(minimum: 1);

    [Fact]
    public void BatchMoments_LargeOffset_StaysAccurate_WhereTheNaiveFormulaFails()
    {
        const int rows = 4096;
        var x = SeededData.Normal(2, rows, 1e4, 1); // one feature
        var mean = new float[1];
        var variance = new float[1];
        NormalizationKernels.BatchMoments<float>(x, rows, mean, variance);

        double exactMean = x.Average(v => (double)v);
        double exactVariance = x.Average(v => Math.Pow(v - exactMean, 2));
        Assert.InRange(variance[0], exactVariance * 0.999, exactVariance * 1.001);

        // The same data through E[x^2] - E[x]^2 in float is off by far more: the accuracy is the algorithm's.
        float sum = 0, sumSquares = 0;
        foreach (var v in x)
        {
            sum += v;
            sumSquares += v * v;
        }

        float naive = (sumSquares / rows) - ((sum / rows) * (sum / rows));
        Assert.True(Math.Abs(naive - exactVariance) > 0.1 * exactVariance, $"naive {naive} vs exact {exactVariance}");
    }

    [Theory]
    [InlineData(float.NaN, float.NaN)]
    [InlineData(float.PositiveInfinity, float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity, float.NegativeInfinity)]
    public void BatchMoments_NonFiniteValue_GivesTheDocumentedMean_AndNaNVariance_InItsFeatureOnly(float bad, float expectedMean)
    {
        // 9 features (a 512-bit vector, a 256-bit one and a scalar tail), 7 rows; the bad value in feature 4, row 5 (the
        // sums' row 0 is the shift, rows 1-4 a group of four, 5-6 the rows after it).
        const int rows = 7, features = 9;
        var x = SeededData.Normal(5, rows * features);
        x[(5 * features) + 4] = bad;
        var mean = new float[features];
        var variance = new float[features];
        NormalizationKernels.BatchMoments<float>(x, rows, mean, variance);

        Assert.Equal(expectedMean, mean[4]);
        Assert.True(float.IsNaN(variance[4]), $"variance {variance[4]}");
        for (int j = 0; j < features; j++)
        {
            Assert.True(j == 4 || (float.IsFinite(mean[j]) && float.IsFinite(variance[j])), $"feature {j}: {mean[j]}, {variance[j]}");
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void AccumulateMoments_FastPath_EqualsTheGeneralPath_ForFiniteRows_Single(int length) =>
        FastPathEqualsGeneralPath<float>(length);

    [Theory]
    [MemberData(nameof(Lengths))]
    public void AccumulateMoments_FastPath_EqualsTheGeneralPath_ForFiniteRows_Double(int length) =>
        FastPathEqualsGeneralPath<double>(length);

    [Theory]
    [MemberData(nameof(NonEmptyLengths))]
    public void AllFinite_FindsANonFiniteValueAtAnyPosition(int length)
    {
        var values = SeededData.Normal(9, length);
        Assert.True(NormalizationKernels.AllFinite<float>(values));
        foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            for (int i = 0; i < length; i++)
            {
                var copy = (float[])values.Clone();
                copy[i] = bad;
                Assert.False(NormalizationKernels.AllFinite<float>(copy), $"{bad} at {i}");
            }
        }
    }

    [Fact]
    public void FiniteMoments_SkipNonFinite_InStatistics()
    {
        float[][] rows = [[1f, float.NaN, 5f], [3f, 2f, float.PositiveInfinity], [8f, 4f, 7f]];
        var (k, s, q, c) = NewAccumulators(3);
        foreach (var row in rows)
        {
            NormalizationKernels.AccumulateFiniteMoments<float>(row, k, s, q, c);
        }

        var mean = new double[3];
        var variance = new double[3];
        NormalizationKernels.FiniteMomentsToBatchStatistics(k, s, q, c, 0, mean, variance);
        Assert.Equal([3.0, 2.0, 2.0], c);
        Assert.Equal(4.0, mean[0], 12);
        Assert.Equal(((9.0 + 1.0 + 16.0) / 3), variance[0], 12);
        Assert.Equal(3.0, mean[1], 12);
        Assert.Equal(1.0, variance[1], 12);
        Assert.Equal(6.0, mean[2], 12);
        Assert.Equal(1.0, variance[2], 12);
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void AccumulateFiniteMoments_CountBeyond2To24_KeepsCounting(int length)
    {
        // A float count stops at 2^24: 2^24 + 1 rounds back to 2^24.
        var row = SeededData.Normal(31, length, 3, 2);
        var (k, s, q, c) = NewAccumulators(length);
        NormalizationKernels.AccumulateFiniteMoments<float>(row, k, s, q, c);
        c.AsSpan().Fill(1 << 24);
        NormalizationKernels.AccumulateFiniteMoments<float>(row, k, s, q, c);
        Assert.All(c, n => Assert.Equal((1 << 24) + 1, n));
    }

    [Fact]
    public void FiniteMomentsToBatchStatistics_CountsBeyond2To24_StayExact()
    {
        // A batch of n = 2^24 + 3 rows alternating 1 and 3 (shift 1: deviations 0 and 2, (n - 1) / 2 of them 2), five
        // counted by the general path and the rest once for every slot by the fast path.
        const long n = (1L << 24) + 3;
        double[] count = [5];
        var (mean, variance) = (new double[1], new double[1]);
        NormalizationKernels.FiniteMomentsToBatchStatistics([1.0], [n - 1.0], [2.0 * (n - 1)], count, n - 5, mean, variance);
        Assert.Equal(n, count[0]);
        Assert.Equal(2 - (1.0 / n), mean[0], Math.ScaleB(1, -51));            // 1 + (n - 1) / n
        Assert.Equal(1 - (1.0 / n / n), variance[0], Math.ScaleB(1, -49));    // 2 (n - 1) / n - ((n - 1) / n)^2
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void NormalizeRescaled_WithFactorOne_IsNormalize_BitForBit(int length)
    {
        var x = SeededData.Normal(1, length, 2, 3);
        var mean = SeededData.Normal(2, length);
        var scale = SeededData.Normal(3, length);
        var offset = SeededData.Normal(4, length);
        var ones = Enumerable.Repeat(1f, length).ToArray();
        var y = new float[length];
        var yRef = new float[length];
        NormalizationKernels.NormalizeRescaled<float>(x, mean, scale, ones, offset, y);
        NormalizationKernels.Normalize<float>(x, mean, scale, offset, yRef);
        Assert.Equal(yRef, y);

        NormalizationKernels.NormalizeRescaled<float>(x, mean, scale, ones, offset, x);
        Assert.Equal(yRef, x);
    }

    [Theory]
    [MemberData(nameof(NonEmptyLengths))]
    public void NormalizeRescaled_HugeFactors_MapTheMeanToTheOffset(int length)
    {
        var mean = SeededData.Normal(5, length, 10, 3);
        var offset = SeededData.Normal(6, length);
        var huge = Enumerable.Repeat(float.MaxValue, length).ToArray();
        var y = new float[length];
        NormalizationKernels.NormalizeRescaled<float>(mean, mean, huge, huge, offset, y);
        Assert.Equal(offset, y);
    }

    [Fact]
    public void Normalize_PassesNaNThrough()
    {
        float[] x = [1f, float.NaN, 3f];
        var y = new float[3];
        NormalizationKernels.Normalize<float>(x, [0f, 0f, 0f], [2f, 2f, 2f], [1f, 1f, 1f], y);
        Assert.Equal(3f, y[0]);
        Assert.True(float.IsNaN(y[1]));
        Assert.Equal(7f, y[2]);
    }

    [Fact]
    public void DropoutMask_NeighbouringKeysAndIndices_AreUncorrelated()
    {
        // Keep/drop at p = 0.5 for element i under key k and under key k + 1, and for i and i + 1:
        // independent bits agree half the time (sd 0.5 / sqrt(n)).
        const int n = 100_000;
        uint threshold = DropoutMask.KeepThreshold(0.5);
        int sameKeyNeighbour = 0, sameIndexNeighbour = 0;
        for (uint i = 0; i < n; i++)
        {
            bool a = DropoutMask.Keep(DropoutMask.Key(7, 1000), i, threshold);
            sameKeyNeighbour += a == DropoutMask.Keep(DropoutMask.Key(7, 1000), i + 1, threshold) ? 1 : 0;
            sameIndexNeighbour += a == DropoutMask.Keep(DropoutMask.Key(7, 1001), i, threshold) ? 1 : 0;
        }

        double bound = 4 * 0.5 / Math.Sqrt(n);
        Assert.InRange((double)sameKeyNeighbour / n, 0.5 - bound, 0.5 + bound);
        Assert.InRange((double)sameIndexNeighbour / n, 0.5 - bound, 0.5 + bound);
    }

    private static void FastPathEqualsGeneralPath<T>(int length)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rows = Enumerable.Range(0, 6).Select(r => As<T>(SeededData.Normal(200 + r, length, 3, 2))).ToArray();
        var (k1, s1, q1, c1) = NewAccumulators(length);
        var (k2, s2, q2, c2) = NewAccumulators(length);
        NormalizationKernels.AccumulateFiniteMoments<T>(rows[0], k1, s1, q1, c1);
        NormalizationKernels.AccumulateFiniteMoments<T>(rows[0], k2, s2, q2, c2);
        foreach (var row in rows.Skip(1))
        {
            NormalizationKernels.AccumulateFiniteMoments<T>(row, k1, s1, q1, c1);
            NormalizationKernels.AccumulateMoments<T>(row, k2, s2, q2);
        }

        Assert.Equal(s1, s2);
        Assert.Equal(q1, q2);
    }

    private static T[] As<T>(float[] values)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> =>
        Array.ConvertAll(values, T.CreateTruncating);

    private static (double[] Shift, double[] Sum, double[] SumOfSquares, double[] Count) NewAccumulators(int length)
    {
        var shift = new double[length];
        shift.AsSpan().Fill(double.NaN);
        return (shift, new double[length], new double[length], new double[length]);
    }
}
