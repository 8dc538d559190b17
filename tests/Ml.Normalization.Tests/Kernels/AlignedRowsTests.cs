using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// The row kernels align their stores to the destination (an unaligned first and last vector, aligned ones between):
/// every placement of the destination, and destination = x (or dx = dy), must give the formula's values.
/// </summary>
public class AlignedRowsTests
{
    private const int Rows = 7; // a block of four rows (parameter loads shared by four), a pair, and a single row
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
    public void NormalizeTraining_AnyOffsets_InPlaceOrNot_KeptXHatOrNot_MatchesTheFormula(int features)
    {
        var (x, mean, inverseStd, beta) = Inputs(features);
        var gamma = SeededData.Normal(7, features);
        for (int shift = 0; shift < MaxShift; shift++)
        {
            foreach (bool keepXHat in new[] { true, false })
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

                    if (keepXHat)
                    {
                        NormalizationKernels.NormalizeTraining<float>(source, Rows, mean, inverseStd, gamma, beta, xHat, destination);
                    }
                    else
                    {
                        NormalizationKernels.NormalizeTraining<float>(source, Rows, mean, inverseStd, gamma, beta, destination);
                    }

                    string where = $"shift {shift}, keep xHat {keepXHat}, in place {inPlace}";
                    for (int k = 0; k < x.Length; k++)
                    {
                        int j = k % features;
                        float h = (x[k] - mean[j]) * inverseStd[j];
                        Assert.True(!keepXHat || h.Equals(xHat[k]), $"{where}: xHat[{k}] = {xHat[k]}, expected {h}");
                        Assert.True(((gamma[j] * h) + beta[j]).Equals(destination[k]), $"{where}: y[{k}]");
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(NonEmptyLengths))]
    public void BatchNormBackward_AnyDxOffset_InPlaceOrNot_AndFromInput_MatchTheReference(int features)
    {
        var (x, mean, inverseStd, gamma) = Inputs(features);
        var dy = SeededData.Normal(9, Rows * features);
        var xHat = new float[x.Length];
        NormalizationKernels.NormalizeTraining<float>(x, Rows, mean, inverseStd, gamma, gamma, xHat, new float[x.Length]);
        var (dxRef, dGammaRef, dBetaRef) = (new float[x.Length], new float[features], new float[features]);
        NormalizationKernels.BatchNormBackward<float>(dy, xHat, Rows, gamma, inverseStd, dxRef, dGammaRef, dBetaRef);
        for (int shift = 0; shift < MaxShift; shift++)
        {
            foreach (bool fromInput in new[] { false, true })
            {
                foreach (bool inPlace in new[] { false, true })
                {
                    var dx = new float[(Rows * features) + MaxShift].AsSpan(shift, Rows * features);
                    ReadOnlySpan<float> upstream = dy;
                    if (inPlace)
                    {
                        dy.CopyTo(dx);
                        upstream = dx;
                    }

                    var (dGamma, dBeta) = (new float[features], new float[features]);
                    if (fromInput)
                    {
                        NormalizationKernels.BatchNormBackwardFromInput<float>(upstream, x, Rows, mean, gamma, inverseStd, dx, dGamma, dBeta);
                    }
                    else
                    {
                        NormalizationKernels.BatchNormBackward<float>(upstream, xHat, Rows, gamma, inverseStd, dx, dGamma, dBeta);
                    }

                    string where = $"shift {shift}, from input {fromInput}, in place {inPlace}";
                    Assert.True(dx.SequenceEqual(dxRef), where);
                    Assert.True(dGamma.SequenceEqual(dGammaRef), where);
                    Assert.True(dBeta.SequenceEqual(dBetaRef), where);
                }
            }
        }
    }

    [Fact]
    public void BatchNormBackwardFromInput_Double_EqualsKeptXHat()
    {
        const int features = 13;
        var x = SeededData.ToDouble(SeededData.Normal(1, Rows * features, 2, 3));
        var mean = SeededData.ToDouble(SeededData.Normal(2, features));
        var inverseStd = SeededData.ToDouble(SeededData.Normal(3, features, 1, 0.1));
        var gamma = SeededData.ToDouble(SeededData.Normal(4, features));
        var dy = SeededData.ToDouble(SeededData.Normal(5, Rows * features));
        var xHat = new double[x.Length];
        NormalizationKernels.NormalizeTraining<double>(x, Rows, mean, inverseStd, gamma, gamma, xHat, new double[x.Length]);
        var (dx, dGamma, dBeta) = (new double[x.Length], new double[features], new double[features]);
        var (dxRef, dGammaRef, dBetaRef) = (new double[x.Length], new double[features], new double[features]);
        NormalizationKernels.BatchNormBackward<double>(dy, xHat, Rows, gamma, inverseStd, dxRef, dGammaRef, dBetaRef);
        NormalizationKernels.BatchNormBackwardFromInput<double>(dy, x, Rows, mean, gamma, inverseStd, dx, dGamma, dBeta);
        Assert.Equal(dxRef, dx);
        Assert.Equal(dGammaRef, dGamma);
        Assert.Equal(dBetaRef, dBeta);
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
