using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// <see cref="NormalizationKernels.FoldMoments"/>' vector path gives the bits of its scalar path (<see
/// cref="NormalizationKernels.FoldMomentsScalar"/>) at every length and tail, slots without a value (shift NaN)
/// keeping their shift and taking the block's sums, and clears the block.
/// </summary>
public class FoldMomentsTests
{
    public static TheoryData<int> Lengths() => SeededData.Lengths();

    [Theory]
    [MemberData(nameof(Lengths))]
    public void FoldMoments_EqualsTheScalarPath_BitForBit(int slots)
    {
        var random = new Random(slots + 7);
        foreach (long rows in new long[] { 0, 1, 8, 63, 512 })
        {
            // Sums far from their shift and of mixed magnitude; a slot in five has no value yet (NaN shift, no sums).
            var shift = Values(slots, j => j % 5 == 2 ? double.NaN : (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-2, 9)));
            var count = Values(slots, j => double.IsNaN(shift[j]) ? 0 : random.Next(0, 4));
            var blockSum = Values(slots, j => double.IsNaN(shift[j]) ? 0 : (random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-3, 7)));
            var blockSquares = Values(slots, j => double.IsNaN(shift[j]) ? 0 : random.NextDouble() * Math.Pow(10, random.Next(0, 12)));
            var sum = Values(slots, j => double.IsNaN(shift[j]) ? 0 : (random.NextDouble() - 0.5) * 1e4);
            var squares = Values(slots, j => double.IsNaN(shift[j]) ? 0 : random.NextDouble() * 1e9);

            var (expectedShift, expectedSum, expectedSquares) = ((double[])shift.Clone(), (double[])sum.Clone(), (double[])squares.Clone());
            NormalizationKernels.FoldMomentsScalar(expectedShift, blockSum, blockSquares, expectedSum, expectedSquares, count, rows, 0);
            NormalizationKernels.FoldMoments(shift, blockSum, blockSquares, sum, squares, count, rows);

            Assert.Equal(expectedShift.Select(BitConverter.DoubleToInt64Bits), shift.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(expectedSum.Select(BitConverter.DoubleToInt64Bits), sum.Select(BitConverter.DoubleToInt64Bits));
            Assert.Equal(expectedSquares.Select(BitConverter.DoubleToInt64Bits), squares.Select(BitConverter.DoubleToInt64Bits));
            Assert.All(blockSum, v => Assert.Equal(0, v));
            Assert.All(blockSquares, v => Assert.Equal(0, v));
        }
    }

    private static double[] Values(int slots, Func<int, double> value) => [.. Enumerable.Range(0, slots).Select(value)];
}
