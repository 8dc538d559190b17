using System.Numerics;
using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// The per-plane kernels of the spatial layer against <see cref="PlaneScalarReference"/>, for float and double, over
/// plane lengths that cover every vector width and tail (0 .. 129) and several runs of the sums (up to 4129), each
/// at element offsets 0, 1 and 3 of its buffer so the aligned-store paths start at every misalignment.
/// </summary>
public class PlaneKernelReferenceTests
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (string type in new[] { nameof(Single), nameof(Double) })
        {
            foreach (int n in SeededData.SimdLengths.Concat([1023, 1024, 1025, 2100, 4129]))
            {
                data.Add(type, n);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PlaneGradientSums_MatchTheFormula_InTheDocumentedGrouping(string type, int length) =>
        Run(type, length, PlaneGradientSumsMatchReference<float>, PlaneGradientSumsMatchReference<double>);

    [Theory]
    [MemberData(nameof(Cases))]
    public void NormalizePlaneTraining_MatchesTheFormula_InPlaceOrNot(string type, int length) =>
        Run(type, length, NormalizePlaneTrainingMatchesReference<float>, NormalizePlaneTrainingMatchesReference<double>);

    [Theory]
    [MemberData(nameof(Cases))]
    public void NormalizePlane_MatchesTheFormula_InPlaceOrNot(string type, int length) =>
        Run(type, length, NormalizePlaneMatchesReference<float>, NormalizePlaneMatchesReference<double>);

    [Theory]
    [MemberData(nameof(Cases))]
    public void StandardizePlane_MatchesTheFormula_InPlaceOrNot(string type, int length) =>
        Run(type, length, StandardizePlaneMatchesReference<float>, StandardizePlaneMatchesReference<double>);

    [Theory]
    [MemberData(nameof(Cases))]
    public void PlaneGradient_MatchesTheFormula_InPlaceOrNot(string type, int length) =>
        Run(type, length, PlaneGradientMatchesReference<float>, PlaneGradientMatchesReference<double>);

    private static void PlaneGradientSumsMatchReference<T>(int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int start in Starts)
        {
            var dyBuffer = Data<T>(length + 1, length + start, 0, 1);
            var xHatBuffer = Data<T>(length + 2, length + start, 0, 1);
            var (dy, xHat) = (dyBuffer[start..], xHatBuffer[start..]);
            var (dBeta, dGamma) = NormalizationKernels.PlaneGradientSums<T>(dyBuffer.AsSpan(start), xHatBuffer.AsSpan(start));

            var (dBetaGrouped, dGammaGrouped) = PlaneScalarReference.GroupedSums(dy, xHat);
            Assert.Equal(dBetaGrouped, dBeta);
            Assert.Equal(dGammaGrouped, dGamma);

            var (dBetaRef, dGammaRef) = PlaneScalarReference.GradientSums(dy, xHat);
            double bound = RoundingsPerLane<T>(length) * Epsilon<T>();
            double dBetaScale = dy.Sum(v => Math.Abs(double.CreateTruncating(v)));
            double dGammaScale = dy.Zip(xHat, (d, h) => Math.Abs(double.CreateTruncating(d) * double.CreateTruncating(h))).Sum();
            Assert.True(Math.Abs(dBeta - dBetaRef) <= bound * dBetaScale, $"dBeta, start {start}: {dBeta:R} vs {dBetaRef:R}");
            Assert.True(Math.Abs(dGamma - dGammaRef) <= bound * dGammaScale, $"dGamma, start {start}: {dGamma:R} vs {dGammaRef:R}");
        }
    }

    private static void NormalizePlaneTrainingMatchesReference<T>(int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T meanHigh = T.CreateTruncating(4.75), meanLow = T.CreateTruncating(0.3), inverseStd = T.CreateTruncating(0.47);
        T gamma = T.CreateTruncating(1.3), beta = T.CreateTruncating(-0.2);
        foreach (int start in Starts)
        {
            var buffer = Data<T>(length + 3, length + start, 5, 2);
            var (xHatRef, yRef) = PlaneScalarReference.NormalizeTraining(buffer[start..], meanHigh, meanLow, inverseStd, gamma, beta);

            var xHat = new T[length + start];
            var y = new T[length + start];
            NormalizationKernels.NormalizePlaneTraining<T>(buffer.AsSpan(start), meanHigh, meanLow, inverseStd, gamma, beta, xHat.AsSpan(start), y.AsSpan(start));
            Assert.Equal(xHatRef, xHat[start..]);
            Assert.Equal(yRef, y[start..]);

            NormalizationKernels.NormalizePlaneTraining<T>(buffer.AsSpan(start), meanHigh, meanLow, inverseStd, gamma, beta, xHat.AsSpan(start), buffer.AsSpan(start));
            Assert.Equal(yRef, buffer[start..]);
        }
    }

    private static void NormalizePlaneMatchesReference<T>(int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T mean = T.CreateTruncating(5.1), scale = T.CreateTruncating(0.61), offset = T.CreateTruncating(0.25);
        foreach (int start in Starts)
        {
            var buffer = Data<T>(length + 4, length + start, 5, 2);
            var expected = ScalarReference.Normalize(buffer[start..], [mean], [scale], [offset]);

            var y = new T[length + start];
            NormalizationKernels.NormalizePlane<T>(buffer.AsSpan(start), mean, scale, offset, y.AsSpan(start));
            Assert.Equal(expected, y[start..]);

            NormalizationKernels.NormalizePlane<T>(buffer.AsSpan(start), mean, scale, offset, buffer.AsSpan(start));
            Assert.Equal(expected, buffer[start..]);
        }
    }

    private static void StandardizePlaneMatchesReference<T>(int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T mean = T.CreateTruncating(0.456), std = T.CreateTruncating(0.224); // ImageNet's green: 1 / std is inexact
        foreach (int start in Starts)
        {
            var buffer = Data<T>(length + 7, length + start, 0.5, 0.3);
            var expected = ScalarReference.Standardize(buffer[start..], [mean], [std]);

            var y = new T[length + start];
            NormalizationKernels.StandardizePlane<T>(buffer.AsSpan(start), mean, std, y.AsSpan(start));
            Assert.Equal(expected, y[start..]);

            NormalizationKernels.StandardizePlane<T>(buffer.AsSpan(start), mean, std, buffer.AsSpan(start));
            Assert.Equal(expected, buffer[start..]);
        }
    }

    private static void PlaneGradientMatchesReference<T>(int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T dyScale = T.CreateTruncating(0.83), xHatScale = T.CreateTruncating(-0.011), offset = T.CreateTruncating(0.0037);
        foreach (int start in Starts)
        {
            var dy = Data<T>(length + 5, length + start, 0, 1);
            var xHat = Data<T>(length + 6, length + start, 0, 1);
            var expected = PlaneScalarReference.Gradient(dy[start..], xHat[start..], dyScale, xHatScale, offset);

            var dx = new T[length + start];
            NormalizationKernels.PlaneGradient<T>(dy.AsSpan(start), xHat.AsSpan(start), dyScale, xHatScale, offset, dx.AsSpan(start));
            Assert.Equal(expected, dx[start..]);

            NormalizationKernels.PlaneGradient<T>(dy.AsSpan(start), xHat.AsSpan(start), dyScale, xHatScale, offset, dy.AsSpan(start));
            Assert.Equal(expected, dy[start..]);
        }
    }

    private static readonly int[] Starts = [0, 1, 3];

    // The roundings a value can collect in the grouped sums: its own (the product), one per addition
    // in its lane (Run / lanes at most), one per level of the halving tree, and the double totals (negligible).
    private static double RoundingsPerLane<T>(int length)
        where T : unmanaged =>
        2 + (Math.Min(length, PlaneScalarReference.Run) / (double)PlaneScalarReference.Lanes<T>()) + Math.Log2(PlaneScalarReference.Lanes<T>());

    private static void Run(string type, int length, Action<int> single, Action<int> @double)
    {
        if (type == nameof(Single))
        {
            single(length);
        }
        else
        {
            @double(length);
        }
    }

    private static T[] Data<T>(int seed, int length, double mean, double std)
        where T : IFloatingPointIeee754<T> =>
        Array.ConvertAll(SeededData.NormalDouble(seed, length, mean, std), T.CreateTruncating);

    private static double Epsilon<T>()
        where T : IFloatingPointIeee754<T> =>
        double.CreateTruncating(T.One - T.BitDecrement(T.One)); // one ulp below 1: 2^-24 or 2^-53
}
