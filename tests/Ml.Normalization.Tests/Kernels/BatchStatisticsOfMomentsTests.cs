using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// <see cref="NormalizationKernels.FiniteMomentsToBatchStatistics"/>' vector path gives the bits of its scalar path at
/// every length and tail: slots without a value (NaN statistics), slots whose variance rounds below 0 (clamped to 0).
/// </summary>
public class BatchStatisticsOfMomentsTests
{
    public static TheoryData<int> Lengths() => SeededData.Lengths();

    [Theory]
    [MemberData(nameof(Lengths))]
    public void FiniteMomentsToBatchStatistics_EqualsTheScalarPath_BitForBit(int slots)
    {
        var random = new Random(slots + 11);
        foreach (long rows in new long[] { 0, 1, 255 })
        {
            var shift = Values(slots, _ => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-2, 9)));
            var count = Values(slots, j => j % 7 == 3 ? 0 : random.Next(0, 5));
            var sum = Values(slots, _ => (random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-3, 7)));
            // Every fourth slot: a sum of squares just below sum^2 / n, whose variance rounds negative.
            var squares = Values(slots, j => j % 4 == 1 && count[j] + rows > 0 ? sum[j] * sum[j] / (count[j] + rows) * (1 - 1e-15) : random.NextDouble() * 1e9);

            var (expectedCount, expectedMean, expectedVariance) = ((double[])count.Clone(), new double[slots], new double[slots]);
            NormalizationKernels.FiniteMomentsToBatchStatisticsScalar(shift, sum, squares, expectedCount, rows, expectedMean, expectedVariance, 0);
            var (mean, variance) = (new double[slots], new double[slots]);
            NormalizationKernels.FiniteMomentsToBatchStatistics(shift, sum, squares, count, rows, mean, variance);

            Assert.Equal(expectedCount, count);
            Assert.Equal(expectedMean.Select(BitConverter.DoubleToInt64Bits), mean.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(expectedVariance.Select(BitConverter.DoubleToInt64Bits), variance.Select(BitConverter.DoubleToInt64Bits));
        }
    }

    private static double[] Values(int slots, Func<int, double> value) => [.. Enumerable.Range(0, slots).Select(value)];
}
