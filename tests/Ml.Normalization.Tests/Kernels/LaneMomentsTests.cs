using System.Numerics;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// <see cref="NormalizationKernels.AccumulateLaneMoments{T}"/> against the formula written element by element (the square
/// added by a fused multiply-add): every lane adds its values in index order, so the vector path must agree bit for bit,
/// for every length and lane count.
/// </summary>
public class LaneMomentsTests
{
    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var type in new[] { "float", "double" })
        {
            foreach (int lanes in new[] { 8, 16, 24, 40, 48, 64 })
            {
                foreach (int length in new[] { 0, 1, 7, 8, 9, 15, 16, 17, 47, 48, 49, 63, 64, 65, 129, 1000 })
                {
                    data.Add(type, lanes, length);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AccumulateLaneMoments_EqualsTheElementByElementSums(string type, int lanes, int length)
    {
        if (type == "float")
        {
            Check<float>(lanes, length);
        }
        else
        {
            Check<double>(lanes, length);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(41)]
    [InlineData(49)]
    [InlineData(56)]
    [InlineData(63)]
    [InlineData(65)]
    [InlineData(1000)]
    public void AccumulatePlaneMoments_EqualsTheLaneKernel_WithOneShift(int length)
    {
        foreach (var (type, lanes) in new[] { ("float", NormalizationKernels.LaneGroup), ("double", NormalizationKernels.LaneGroup), ("float", NormalizationKernels.ShortPlaneLaneGroup), ("double", NormalizationKernels.ShortPlaneLaneGroup) })
        {
            var random = new Random(length);
            var values = Enumerable.Range(0, length).Select(_ => (random.NextDouble() * 100) - 20).ToArray();
            double shift = 7.25;
            var (sum, squares) = (Enumerable.Range(0, lanes).Select(l => l * 0.5).ToArray(), Enumerable.Range(0, lanes).Select(l => l * 3.0).ToArray());
            var (expectedSum, expectedSquares) = ((double[])sum.Clone(), (double[])squares.Clone());
            var laneShift = Enumerable.Repeat(shift, lanes).ToArray();
            if (type == "float")
            {
                var floats = Array.ConvertAll(values, v => (float)v);
                NormalizationKernels.AccumulateLaneMoments<float>(floats, laneShift, expectedSum, expectedSquares);
                NormalizationKernels.AccumulatePlaneMoments<float>(floats, shift, sum, squares);
            }
            else
            {
                NormalizationKernels.AccumulateLaneMoments<double>(values, laneShift, expectedSum, expectedSquares);
                NormalizationKernels.AccumulatePlaneMoments<double>(values, shift, sum, squares);
            }

            Assert.Equal(expectedSum, sum);
            Assert.Equal(expectedSquares, squares);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(12)]
    public void AccumulateLaneMoments_LaneCountNotAMultipleOf8_Throws(int lanes)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            NormalizationKernels.AccumulateLaneMoments<float>(new float[32], new double[lanes], new double[lanes], new double[lanes]));
        Assert.Equal("laneShift", ex.ParamName);
    }

    private static void Check<T>(int lanes, int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random((lanes * 1000) + length);
        var values = Enumerable.Range(0, length).Select(_ => T.CreateTruncating((random.NextDouble() * 100) - 20)).ToArray();
        var shift = Enumerable.Range(0, lanes).Select(l => (double)(l % 5) * 3.5).ToArray();
        var sum = Enumerable.Range(0, lanes).Select(l => l * 0.25).ToArray(); // sums accumulate onto what is there
        var squares = Enumerable.Range(0, lanes).Select(l => l * 2.0).ToArray();
        var expectedSum = (double[])sum.Clone();
        var expectedSquares = (double[])squares.Clone();
        for (int i = 0; i < length; i++)
        {
            int l = i % lanes;
            double t = double.CreateTruncating(values[i]) - shift[l];
            expectedSum[l] += t;
            expectedSquares[l] = Math.FusedMultiplyAdd(t, t, expectedSquares[l]);
        }

        NormalizationKernels.AccumulateLaneMoments<T>(values, shift, sum, squares);

        Assert.Equal(expectedSum, sum);
        Assert.Equal(expectedSquares, squares);
    }
}
