using System.Numerics;
using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// <see cref="NormalizationKernels.TryAccumulateMomentsOfRows{T}"/> sums several rows at once with the same bits as one
/// <see cref="NormalizationKernels.AccumulateMoments{T}"/> call per row, and its vector path the same bits as its scalar path,
/// at widths that cover every vector width and tail (16-slot groups, an 8-slot group, single slots); it reports rows
/// that are not all finite instead of summing them.
/// </summary>
public class MomentsOfRowsTests
{
    public static TheoryData<int, int> SlotsAndRows()
    {
        var data = new TheoryData<int, int>();
        foreach (int slots in SeededData.SimdLengths)
        {
            foreach (int rows in new[] { 0, 1, 3, 8 })
            {
                data.Add(slots, rows);
            }
        }

        return data;
    }

    public static TheoryData<int> Slots() => SeededData.Lengths(minimum: 1);

    [Theory]
    [MemberData(nameof(SlotsAndRows))]
    public void TryAccumulateMomentsOfRows_Single_EqualsOneRowAtATime_AndTheScalarPath(int slots, int rows) => EqualsOneRowAtATime<float>(slots, rows);

    [Theory]
    [MemberData(nameof(SlotsAndRows))]
    public void TryAccumulateMomentsOfRows_Double_EqualsOneRowAtATime_AndTheScalarPath(int slots, int rows) => EqualsOneRowAtATime<double>(slots, rows);

    [Theory]
    [MemberData(nameof(Slots))]
    public void TryAccumulateMomentsOfRows_ReportsANonFiniteValue_InAnySlotAndRow(int slots)
    {
        var random = new Random(slots);
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            // Every slot once (the 16-slot groups, the 8-slot group and the scalar tail), in a changing row of 8.
            for (int j = 0; j < slots; j++)
            {
                var rows = RandomRows<float>(random, slots, 8);
                rows[j % 8][j] = bad;
                var (shift, sum, squares) = Start(random, slots);
                Assert.False(NormalizationKernels.TryAccumulateMomentsOfRows<float>(rows, shift, sum, squares, new double[slots], new double[slots]));
                Assert.False(NormalizationKernels.TryAccumulateMomentsOfRowsScalar<float>(rows, 0, shift, sum, squares, new double[slots], new double[slots]));
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]
    [InlineData(64)]
    [InlineData(65)]
    public void TryAccumulateMomentsOfRows_ReportsASquareThatOverflows_AndLeavesTheOldSums(int slots)
    {
        var random = new Random(slots);
        var rows = RandomRows<double>(random, slots, 3);
        rows[1][slots - 1] = 1e200; // finite, but its square is not
        var (shift, sum, squares) = Start(random, slots);
        var (sumBefore, squaresBefore) = ((double[])sum.Clone(), (double[])squares.Clone());
        Assert.False(NormalizationKernels.TryAccumulateMomentsOfRows<double>(rows, shift, sum, squares, new double[slots], new double[slots]));
        Assert.Equal(sumBefore, sum);
        Assert.Equal(squaresBefore, squares);
    }

    [Fact]
    public void TryAccumulateMomentsOfRows_RefusesRowsAndSumsOfAnotherLength()
    {
        var three = new double[3];
        Assert.Equal("rows", Assert.Throws<ArgumentException>(() => NormalizationKernels.TryAccumulateMomentsOfRows<float>([new float[3], new float[2]], three, three, three, three, three)).ParamName);
        Assert.Equal("sum", Assert.Throws<ArgumentException>(() => NormalizationKernels.TryAccumulateMomentsOfRows<float>([new float[3]], three, new double[2], three, three, three)).ParamName);
        Assert.Equal("newSumOfSquares", Assert.Throws<ArgumentException>(() => NormalizationKernels.TryAccumulateMomentsOfRows<float>([new float[3]], three, three, three, three, new double[4])).ParamName);
    }

    private static void EqualsOneRowAtATime<T>(int slots, int rows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random((slots * 31) + rows);
        var values = RandomRows<T>(random, slots, rows);
        var (shift, sum, squares) = Start(random, slots);

        var (rowSum, rowSquares) = ((double[])sum.Clone(), (double[])squares.Clone());
        foreach (var row in values)
        {
            NormalizationKernels.AccumulateMoments<T>(row, shift, rowSum, rowSquares);
        }

        var (blockSum, blockSquares) = (new double[slots], new double[slots]);
        Assert.True(NormalizationKernels.TryAccumulateMomentsOfRows<T>(values, shift, sum, squares, blockSum, blockSquares));
        var (scalarSum, scalarSquares) = (new double[slots], new double[slots]);
        Assert.True(NormalizationKernels.TryAccumulateMomentsOfRowsScalar<T>(values, 0, shift, sum, squares, scalarSum, scalarSquares));

        Assert.Equal(rowSum.Select(BitConverter.DoubleToInt64Bits), blockSum.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(rowSquares.Select(BitConverter.DoubleToInt64Bits), blockSquares.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(scalarSum.Select(BitConverter.DoubleToInt64Bits), blockSum.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(scalarSquares.Select(BitConverter.DoubleToInt64Bits), blockSquares.Select(BitConverter.DoubleToInt64Bits));
        if (rows > 0 && slots > 0)
        {
            Assert.NotEqual(sum, blockSum); // the rows were summed
        }
    }

    // Values far from their shift and of mixed magnitude, so a different order or a fused multiply-add would show.
    private static T[][] RandomRows<T>(Random random, int slots, int rows)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        [.. Enumerable.Range(0, rows).Select(_ => Enumerable.Range(0, slots).Select(j => T.CreateTruncating(((random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-3, 7))) + j)).ToArray())];

    private static (double[] Shift, double[] Sum, double[] Squares) Start(Random random, int slots) =>
        ([.. Enumerable.Range(0, slots).Select(_ => (random.NextDouble() * 100) - 50)],
         [.. Enumerable.Range(0, slots).Select(_ => random.NextDouble() * 1e3)],
         [.. Enumerable.Range(0, slots).Select(_ => random.NextDouble() * 1e3)]);
}
