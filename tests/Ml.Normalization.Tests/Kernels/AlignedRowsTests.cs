using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// The row kernels align their stores to the destination (an unaligned first and last vector, aligned ones between):
/// every placement of the destination, and destination = x, must give the formula's values.
/// </summary>
public class AlignedRowsTests
{
    private const int Rows = 3;
    private const int MaxShift = 16; // floats: covers every offset from a 64-byte boundary

    public static TheoryData<int> NonEmptyLengths => SeededData.Lengths(minimum: 1);

    [Theory]
    [MemberData(nameof(NonEmptyLengths))]
    public void Normalize_AnyDestinationOffset_MatchesTheFormula(int features)
    {
        var (x, mean, scale, offset) = Inputs(features);
        for (int shift = 0; shift < MaxShift; shift++)
        {
            var buffer = new float[(Rows * features) + MaxShift];
            var destination = buffer.AsSpan(shift, Rows * features);
            NormalizationKernels.Normalize<float>(x, Rows, mean, scale, offset, destination);
            AssertNormalized(x, mean, scale, offset, destination, $"shift {shift}");
            Assert.All(buffer[..shift], v => Assert.Equal(0f, v)); // nothing written outside the destination
            Assert.All(buffer[(shift + (Rows * features))..], v => Assert.Equal(0f, v));
        }
    }

    [Theory]
    [MemberData(nameof(NonEmptyLengths))]
    public void Normalize_InPlace_AnyOffset_MatchesTheFormula(int features)
    {
        var (x, mean, scale, offset) = Inputs(features);
        for (int shift = 0; shift < MaxShift; shift++)
        {
            var block = new float[(Rows * features) + MaxShift].AsSpan(shift, Rows * features);
            x.CopyTo(block);
            NormalizationKernels.Normalize<float>(block, Rows, mean, scale, offset, block);
            AssertNormalized(x, mean, scale, offset, block, $"shift {shift}");
        }
    }

    [Theory]
    [MemberData(nameof(NonEmptyLengths))]
    public void NormalizeTraining_AnyOffsets_InPlaceOrNot_MatchesTheFormula(int features)
    {
        var (x, mean, inverseStd, beta) = Inputs(features);
        var gamma = SeededData.Normal(7, features);
        for (int shift = 0; shift < MaxShift; shift++)
        {
            foreach (bool inPlace in new[] { false, true })
            {
                var xHat = new float[(Rows * features) + MaxShift].AsSpan(MaxShift - 1 - shift, Rows * features);
                var destination = new float[(Rows * features) + MaxShift].AsSpan(shift, Rows * features);
                ReadOnlySpan<float> source = x;
                if (inPlace)
                {
                    x.CopyTo(destination);
                    source = destination;
                }

                NormalizationKernels.NormalizeTraining<float>(source, Rows, mean, inverseStd, gamma, beta, xHat, destination);
                for (int k = 0; k < x.Length; k++)
                {
                    int j = k % features;
                    float h = (x[k] - mean[j]) * inverseStd[j];
                    Assert.True(h.Equals(xHat[k]), $"shift {shift}, in place {inPlace}: xHat[{k}] = {xHat[k]}, expected {h}");
                    Assert.True(((gamma[j] * h) + beta[j]).Equals(destination[k]), $"shift {shift}, in place {inPlace}: y[{k}]");
                }
            }
        }
    }

    private static (float[] X, float[] Mean, float[] Scale, float[] Offset) Inputs(int features) =>
        (SeededData.Normal(1, Rows * features, 2, 3), SeededData.Normal(2, features), SeededData.Normal(3, features, 1, 0.1), SeededData.Normal(4, features));

    private static void AssertNormalized(float[] x, float[] mean, float[] scale, float[] offset, Span<float> actual, string where)
    {
        int features = mean.Length;
        for (int k = 0; k < x.Length; k++)
        {
            int j = k % features;
            float expected = ((x[k] - mean[j]) * scale[j]) + offset[j];
            Assert.True(expected.Equals(actual[k]), $"{where}: [{k}] = {actual[k]}, expected {expected}");
        }
    }
}
