using System.Numerics;
using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// <see cref="NormalizationKernels.AccumulateMomentsOfRows{T}"/> sums several rows at once with the same bits as one
/// <see cref="NormalizationKernels.AccumulateMoments{T}"/> call per row, and its vector path the same bits as its scalar path,
/// at widths that cover every vector width and tail.
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

    [Theory]
    [MemberData(nameof(SlotsAndRows))]
    public void AccumulateMomentsOfRows_Single_EqualsOneRowAtATime_AndTheScalarPath(int slots, int rows) => EqualsOneRowAtATime<float>(slots, rows);

    [Theory]
    [MemberData(nameof(SlotsAndRows))]
    public void AccumulateMomentsOfRows_Double_EqualsOneRowAtATime_AndTheScalarPath(int slots, int rows) => EqualsOneRowAtATime<double>(slots, rows);

    [Fact]
    public void AccumulateMomentsOfRows_RefusesPartialRows_AndMismatchedSums()
    {
        var three = new double[3];
        Assert.Equal("rows", Assert.Throws<ArgumentException>(() => NormalizationKernels.AccumulateMomentsOfRows<float>(new float[7], 3, three, three, three)).ParamName);
        Assert.Equal("sum", Assert.Throws<ArgumentException>(() => NormalizationKernels.AccumulateMomentsOfRows<float>(new float[6], 3, three, new double[2], three)).ParamName);
        Assert.Equal("rows", Assert.Throws<ArgumentException>(() => NormalizationKernels.AccumulateMomentsOfRows<float>(new float[1], 0, [], [], [])).ParamName);
    }

    private static void EqualsOneRowAtATime<T>(int slots, int rows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random((slots * 31) + rows);
        // Values far from their shift and of mixed magnitude, so a different order or a fused multiply-add would show.
        var values = Enumerable.Range(0, slots * rows).Select(i => T.CreateTruncating(((random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-3, 7))) + (i % slots))).ToArray();
        var shift = Enumerable.Range(0, slots).Select(j => (random.NextDouble() * 100) - 50).ToArray();
        var start = Enumerable.Range(0, 2 * slots).Select(_ => random.NextDouble() * 1e3).ToArray();

        var (rowSum, rowSquares) = (start[..slots], start[slots..]);
        for (int r = 0; r < rows; r++)
        {
            NormalizationKernels.AccumulateMoments<T>(values.AsSpan(r * slots, slots), shift, rowSum, rowSquares);
        }

        var (blockSum, blockSquares) = (start[..slots], start[slots..]);
        NormalizationKernels.AccumulateMomentsOfRows<T>(values, slots, shift, blockSum, blockSquares);
        var (scalarSum, scalarSquares) = (start[..slots], start[slots..]);
        NormalizationKernels.AccumulateMomentsOfRowsScalar<T>(values, slots, 0, shift, scalarSum, scalarSquares);

        Assert.Equal(rowSum.Select(BitConverter.DoubleToInt64Bits), blockSum.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(rowSquares.Select(BitConverter.DoubleToInt64Bits), blockSquares.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(scalarSum.Select(BitConverter.DoubleToInt64Bits), blockSum.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(scalarSquares.Select(BitConverter.DoubleToInt64Bits), blockSquares.Select(BitConverter.DoubleToInt64Bits));
        if (rows > 0 && slots > 0)
        {
            Assert.NotEqual(start[..slots], blockSum); // the rows were summed
        }
    }
}
