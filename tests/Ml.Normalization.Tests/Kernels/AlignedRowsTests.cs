using System.Numerics;
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
    private const int MaxShift = 16; // elements: covers every offset from a 64-byte boundary

    public static TheoryData<string, int> TypesAndNonEmptyLengths
    {
        get
        {
            var data = new TheoryData<string, int>();
            foreach (string type in new[] { nameof(Single), nameof(Double) })
            {
                foreach (int n in SeededData.SimdLengths.Where(n => n > 0))
                {
                    data.Add(type, n);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndNonEmptyLengths))]
    public void Normalize_AnyDestinationOffset_MatchesTheFormula(string type, int features) =>
        Run(type, features, NormalizeAnyDestinationOffset<float>, NormalizeAnyDestinationOffset<double>);

    [Theory]
    [MemberData(nameof(TypesAndNonEmptyLengths))]
    public void Normalize_InPlace_AnyOffset_MatchesTheFormula(string type, int features) =>
        Run(type, features, NormalizeInPlaceAnyOffset<float>, NormalizeInPlaceAnyOffset<double>);

    [Theory]
    [MemberData(nameof(TypesAndNonEmptyLengths))]
    public void NormalizeTraining_AnyOffsets_InPlaceOrNot_KeptXHatOrNot_MatchesTheFormula(string type, int features) =>
        Run(type, features, NormalizeTrainingAnyOffsets<float>, NormalizeTrainingAnyOffsets<double>);

    [Theory]
    [MemberData(nameof(TypesAndNonEmptyLengths))]
    public void BatchNormBackward_AnyDxOffset_InPlaceOrNot_AndFromInput_MatchTheReference(string type, int features) =>
        Run(type, features, BatchNormBackwardAnyDxOffset<float>, BatchNormBackwardAnyDxOffset<double>);

    private static void NormalizeAnyDestinationOffset<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (x, mean, scale, offset) = Inputs<T>(features);
        for (int shift = 0; shift < MaxShift; shift++)
        {
            var buffer = new T[(Rows * features) + MaxShift];
            var destination = buffer.AsSpan(shift, Rows * features);
            NormalizationKernels.Normalize<T>(x, Rows, mean, scale, offset, destination);
            AssertNormalized(x, mean, scale, offset, destination, $"shift {shift}");
            Assert.All(buffer[..shift], v => Assert.Equal(T.Zero, v)); // nothing written outside the destination
            Assert.All(buffer[(shift + (Rows * features))..], v => Assert.Equal(T.Zero, v));
        }
    }

    private static void NormalizeInPlaceAnyOffset<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (x, mean, scale, offset) = Inputs<T>(features);
        for (int shift = 0; shift < MaxShift; shift++)
        {
            var block = new T[(Rows * features) + MaxShift].AsSpan(shift, Rows * features);
            x.CopyTo(block);
            NormalizationKernels.Normalize<T>(block, Rows, mean, scale, offset, block);
            AssertNormalized(x, mean, scale, offset, block, $"shift {shift}");
        }
    }

    private static void NormalizeTrainingAnyOffsets<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (x, mean, inverseStd, beta) = Inputs<T>(features);
        var gamma = As<T>(SeededData.Normal(7, features));
        for (int shift = 0; shift < MaxShift; shift++)
        {
            foreach (bool keepXHat in new[] { true, false })
            {
                foreach (bool inPlace in new[] { false, true })
                {
                    var xHat = new T[(Rows * features) + MaxShift].AsSpan(MaxShift - 1 - shift, Rows * features);
                    var destination = new T[(Rows * features) + MaxShift].AsSpan(shift, Rows * features);
                    ReadOnlySpan<T> source = x;
                    if (inPlace)
                    {
                        x.CopyTo(destination);
                        source = destination;
                    }

                    if (keepXHat)
                    {
                        NormalizationKernels.NormalizeTraining<T>(source, Rows, mean, inverseStd, gamma, beta, xHat, destination);
                    }
                    else
                    {
                        NormalizationKernels.NormalizeTraining<T>(source, Rows, mean, inverseStd, gamma, beta, destination);
                    }

                    string where = $"shift {shift}, keep xHat {keepXHat}, in place {inPlace}";
                    for (int k = 0; k < x.Length; k++)
                    {
                        int j = k % features;
                        T h = (x[k] - mean[j]) * inverseStd[j];
                        Assert.True(!keepXHat || h.Equals(xHat[k]), $"{where}: xHat[{k}] = {xHat[k]}, expected {h}");
                        Assert.True(((gamma[j] * h) + beta[j]).Equals(destination[k]), $"{where}: y[{k}]");
                    }
                }
            }
        }
    }

    private static void BatchNormBackwardAnyDxOffset<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (x, mean, inverseStd, gamma) = Inputs<T>(features);
        var dy = As<T>(SeededData.Normal(9, Rows * features));
        var xHat = new T[x.Length];
        NormalizationKernels.NormalizeTraining<T>(x, Rows, mean, inverseStd, gamma, gamma, xHat, new T[x.Length]);
        var (dxRef, dGammaRef, dBetaRef) = (new T[x.Length], new T[features], new T[features]);
        NormalizationKernels.BatchNormBackward<T>(dy, xHat, Rows, gamma, inverseStd, dxRef, dGammaRef, dBetaRef);
        for (int shift = 0; shift < MaxShift; shift++)
        {
            foreach (bool fromInput in new[] { false, true })
            {
                foreach (bool inPlace in new[] { false, true })
                {
                    var dx = new T[(Rows * features) + MaxShift].AsSpan(shift, Rows * features);
                    ReadOnlySpan<T> upstream = dy;
                    if (inPlace)
                    {
                        dy.CopyTo(dx);
                        upstream = dx;
                    }

                    var (dGamma, dBeta) = (new T[features], new T[features]);
                    if (fromInput)
                    {
                        NormalizationKernels.BatchNormBackwardFromInput<T>(upstream, x, Rows, mean, gamma, inverseStd, dx, dGamma, dBeta);
                    }
                    else
                    {
                        NormalizationKernels.BatchNormBackward<T>(upstream, xHat, Rows, gamma, inverseStd, dx, dGamma, dBeta);
                    }

                    string where = $"shift {shift}, from input {fromInput}, in place {inPlace}";
                    Assert.True(dx.SequenceEqual(dxRef), where);
                    Assert.True(dGamma.SequenceEqual(dGammaRef), where);
                    Assert.True(dBeta.SequenceEqual(dBetaRef), where);
                }
            }
        }
    }

    private static void Run(string type, int features, Action<int> single, Action<int> @double)
    {
        if (type == nameof(Single))
        {
            single(features);
        }
        else
        {
            @double(features);
        }
    }

    private static T[] As<T>(float[] values)
        where T : IFloatingPointIeee754<T> =>
        Array.ConvertAll(values, T.CreateTruncating);

    private static (T[] X, T[] Mean, T[] Scale, T[] Offset) Inputs<T>(int features)
        where T : IFloatingPointIeee754<T> =>
        (As<T>(SeededData.Normal(1, Rows * features, 2, 3)), As<T>(SeededData.Normal(2, features)), As<T>(SeededData.Normal(3, features, 1, 0.1)), As<T>(SeededData.Normal(4, features)));

    private static void AssertNormalized<T>(T[] x, T[] mean, T[] scale, T[] offset, Span<T> actual, string where)
        where T : IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        for (int k = 0; k < x.Length; k++)
        {
            int j = k % features;
            T expected = ((x[k] - mean[j]) * scale[j]) + offset[j];
            Assert.True(expected.Equals(actual[k]), $"{where}: [{k}] = {actual[k]}, expected {expected}");
        }
    }
}
