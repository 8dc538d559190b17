using System.Numerics;
using Ml.Normalization.Kernels;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// Each kernel against <see cref="ScalarReference"/>, for float and double, over widths that cover every vector width
/// and the leftover tail (including widths below one vector, where the kernels take their scalar path).
/// </summary>
public class KernelReferenceTests
{
    public static TheoryData<string, int> TypesAndLengths => Cases(minimum: 0);

    public static TheoryData<string, int> TypesAndNonEmptyLengths => Cases(minimum: 1);

    [Theory]
    [MemberData(nameof(TypesAndNonEmptyLengths))]
    public void BatchMoments_MatchesTheTwoPassFormula(string type, int features) =>
        Run(type, features, BatchMomentsMatchesReference<float>, BatchMomentsMatchesReference<double>);

    [Theory]
    [MemberData(nameof(TypesAndNonEmptyLengths))]
    public void ShiftedBlockSums_PrefetchingOrNot_FollowTheDocumentedGrouping_BitForBit(string type, int features) =>
        Run(type, features, ShiftedBlockSumsFollowTheGrouping<float>, ShiftedBlockSumsFollowTheGrouping<double>);

    [Theory]
    [MemberData(nameof(TypesAndLengths))]
    public void Normalize_MatchesTheFormula_InPlaceOrNot(string type, int features) =>
        Run(type, features, NormalizeMatchesReference<float>, NormalizeMatchesReference<double>);

    [Theory]
    [MemberData(nameof(TypesAndLengths))]
    public void Standardize_MatchesTheFormula_InPlaceOrNot(string type, int features) =>
        Run(type, features, StandardizeMatchesReference<float>, StandardizeMatchesReference<double>);

    [Theory]
    [MemberData(nameof(TypesAndNonEmptyLengths))]
    public void NormalizeTraining_MatchesTheFormula_KeptXHatOrNot(string type, int features) =>
        Run(type, features, NormalizeTrainingMatchesReference<float>, NormalizeTrainingMatchesReference<double>);

    [Theory]
    [MemberData(nameof(TypesAndNonEmptyLengths))]
    public void BatchNormBackward_MatchesTheArticleFormula_FromXHatOrFromInput(string type, int features) =>
        Run(type, features, BatchNormBackwardMatchesReference<float>, BatchNormBackwardMatchesReference<double>);

    [Theory]
    [MemberData(nameof(TypesAndLengths))]
    public void AccumulateFiniteMoments_MatchesTheFormula_WithHoles(string type, int length) =>
        Run(type, length, AccumulateFiniteMomentsMatchesReference<float>, AccumulateFiniteMomentsMatchesReference<double>);

    public static TheoryData<int, uint> DropoutCases()
    {
        var data = new TheoryData<int, uint>();
        foreach (var n in SeededData.SimdLengths)
        {
            data.Add(n, 0);  // from the first index
            data.Add(n, 6);  // at an even offset
            data.Add(n, 5);  // at an odd offset
            data.Add(n, uint.MaxValue - 3); // the indices wrap past 2^32 - 1 within the call
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DropoutCases))]
    public void Dropout_MatchesTheDocumentedMask_SingleAndDouble(int length, uint firstIndex)
    {
        var x = Data<float>(8, length, 0, 1);
        uint threshold = DropoutMask.KeepThreshold(0.35);
        var y = new float[length];
        NormalizationKernels.Dropout(x, y, key: 0x1234_5678_9ABC_DEF0, threshold, 1f / 0.65f, firstIndex);
        Assert.Equal(ScalarReference.Dropout(x, 0x1234_5678_9ABC_DEF0, threshold, 1f / 0.65f, firstIndex), y);

        var xd = Data<double>(8, length, 0, 1);
        var yd = new double[length];
        NormalizationKernels.Dropout(xd, yd, key: 0x1234_5678_9ABC_DEF0, threshold, 1.0 / 0.65, firstIndex);
        Assert.Equal(ScalarReference.Dropout(xd, 0x1234_5678_9ABC_DEF0, threshold, 1.0 / 0.65, firstIndex), yd);

        // In place gives the same.
        NormalizationKernels.Dropout(x, x, key: 0x1234_5678_9ABC_DEF0, threshold, 1f / 0.65f, firstIndex);
        Assert.Equal(y, x);
    }

    private static void BatchMomentsMatchesReference<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // 1 row (no sums), 5 (one block of four after the shift row), 15 (row 0 the shift, three blocks, two single rows).
        foreach (int rows in new[] { 1, 5, 15 })
        {
            var x = Data<T>(features + rows, rows * features, 5, 2);
            var mean = new T[features];
            var variance = new T[features];
            NormalizationKernels.BatchMoments<T>(x, rows, mean, variance);
            var (meanRef, varianceRef) = ScalarReference.BatchMoments(x, rows, features);

            // Error bound: a few roundings per row of values of magnitude |mean| + std (here about 5 + 2 * 3).
            double eps = Epsilon<T>();
            double magnitude = 11;
            Approx.Equal(meanRef, ToDouble(mean), 0, 4 * rows * eps * magnitude, $"mean, rows {rows}");
            Approx.Equal(varianceRef, ToDouble(variance), 0, 8 * rows * eps * magnitude * magnitude, $"variance, rows {rows}");
        }
    }

    [Theory]
    [MemberData(nameof(TypesAndNonEmptyLengths))]
    public void GradientBlockSums_Prefetching_ChangesNoBit(string type, int features) =>
        Run(type, features, GradientBlockSumsPrefetchingChangeNoBit<float>, GradientBlockSumsPrefetchingChangeNoBit<double>);

    // The backward's block sums with and without the page-ahead prefetch of the layers' large calls, from x-hat and
    // from x, over blocks that start at row 0 or later with 0-3 rows after the last group of four.
    private static void GradientBlockSumsPrefetchingChangeNoBit<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var mean = Data<T>(2, features, 0, 1);
        var inverseStd = Data<T>(3, features, 1, 0.1);
        foreach (var (firstRow, endRow) in new[] { (0, 1), (0, 4), (0, 7), (1, 10), (3, 16), (5, 18), (0, 300) })
        {
            var dy = Data<T>(7, endRow * features, 0, 0.5);
            var source = Data<T>(8, endRow * features, 2, 3);
            var dGamma = new T[features];
            var dBeta = new T[features];
            var dGammaPrefetching = new T[features];
            var dBetaPrefetching = new T[features];
            NormalizationKernels.GradientBlockSums<T>(dy, source, firstRow, endRow, dGamma, dBeta);
            NormalizationKernels.GradientBlockSumsPrefetching<T>(dy, source, firstRow, endRow, dGammaPrefetching, dBetaPrefetching);
            Assert.Equal(dGamma, dGammaPrefetching);
            Assert.Equal(dBeta, dBetaPrefetching);
            NormalizationKernels.GradientBlockSumsFromInput<T>(dy, source, firstRow, endRow, mean, inverseStd, dGamma, dBeta);
            NormalizationKernels.GradientBlockSumsFromInputPrefetching<T>(dy, source, firstRow, endRow, mean, inverseStd, dGammaPrefetching, dBetaPrefetching);
            Assert.Equal(dGamma, dGammaPrefetching);
            Assert.Equal(dBeta, dBetaPrefetching);
        }
    }

    private static void ShiftedBlockSumsFollowTheGrouping<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Blocks that start at row 0 or later, with 0-3 rows after the last group of four.
        foreach (var (firstRow, endRow) in new[] { (0, 1), (0, 4), (0, 7), (1, 10), (3, 16), (5, 18) })
        {
            var x = Data<T>(features + endRow, endRow * features, 5, 2);
            var shift = ScalarReference.Widen(x[..features]);
            var sum = new double[features];
            var sumOfSquares = new double[features];
            NormalizationKernels.ShiftedBlockSums<T>(x, firstRow, endRow, shift, sum, sumOfSquares);
            var (sumRef, sumOfSquaresRef) = ScalarReference.ShiftedBlockSums(x, features, firstRow, endRow, shift);
            Assert.Equal(sumRef, sum);
            Assert.Equal(sumOfSquaresRef, sumOfSquares);

            // The layers' large calls prefetch a page ahead (a hint past the block's end included): the same sums.
            NormalizationKernels.ShiftedBlockSumsPrefetching<T>(x, firstRow, endRow, shift, sum, sumOfSquares);
            Assert.Equal(sumRef, sum);
            Assert.Equal(sumOfSquaresRef, sumOfSquares);
        }
    }

    private static void NormalizeMatchesReference<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int rows in new[] { 1, 7 })
        {
            var x = Data<T>(1, rows * features, 2, 3);
            var mean = Data<T>(2, features, 0, 1);
            var scale = Data<T>(3, features, 0, 1);
            var offset = Data<T>(4, features, 0, 1);
            var expected = ScalarReference.Normalize(x, mean, scale, offset);
            var y = new T[x.Length];
            if (rows == 1)
            {
                NormalizationKernels.Normalize<T>(x, mean, scale, offset, y);
            }
            else
            {
                NormalizationKernels.Normalize<T>(x, rows, mean, scale, offset, y);
            }

            Assert.Equal(expected, y);

            NormalizationKernels.Normalize<T>(x, rows, mean, scale, offset, x);
            Assert.Equal(expected, x);
        }
    }

    private static void StandardizeMatchesReference<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // 1 row, 7 (a block of four rows and single rows), 9 (two blocks and one); stds whose reciprocals are inexact.
        foreach (int rows in new[] { 1, 7, 9 })
        {
            var x = Data<T>(1, rows * features, 2, 3);
            var mean = Data<T>(2, features, 0, 1);
            var std = Array.ConvertAll(Data<T>(3, features, 0.7, 0.3), s => T.Abs(s) + T.CreateTruncating(0.01));
            var expected = ScalarReference.Standardize(x, mean, std);
            var y = new T[x.Length];
            if (rows == 1)
            {
                NormalizationKernels.Standardize<T>(x, mean, std, y);
            }
            else
            {
                NormalizationKernels.Standardize<T>(x, rows, mean, std, y);
            }

            Assert.Equal(expected, y);

            NormalizationKernels.Standardize<T>(x, rows, mean, std, x);
            Assert.Equal(expected, x);
        }
    }

    private static void NormalizeTrainingMatchesReference<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        const int rows = 7; // a block of four rows (or two pairs), and single rows
        var x = Data<T>(1, rows * features, 2, 3);
        var mean = Data<T>(2, features, 0, 1);
        var inverseStd = Data<T>(3, features, 1, 0.1);
        var gamma = Data<T>(4, features, 0, 1);
        var beta = Data<T>(5, features, 0, 1);
        var (xHatRef, yRef) = ScalarReference.NormalizeTraining(x, mean, inverseStd, gamma, beta);

        var xHat = new T[x.Length];
        var y = new T[x.Length];
        NormalizationKernels.NormalizeTraining<T>(x, rows, mean, inverseStd, gamma, beta, xHat, y);
        Assert.Equal(xHatRef, xHat);
        Assert.Equal(yRef, y);

        var lean = (T[])x.Clone();
        NormalizationKernels.NormalizeTraining<T>(lean, rows, mean, inverseStd, gamma, beta, lean);
        Assert.Equal(yRef, lean);
    }

    private static void BatchNormBackwardMatchesReference<T>(int features)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (int rows in new[] { 1, 7 })
        {
            var x = Data<T>(features, rows * features, 2, 3);
            var dy = Data<T>(features + 1, rows * features, 0, 1);
            var mean = Data<T>(features + 2, features, 2, 1);
            var gamma = Data<T>(features + 3, features, 1, 0.2);
            var inverseStd = Data<T>(features + 4, features, 2, 0.1);
            var (xHat, _) = ScalarReference.NormalizeTraining(x, mean, inverseStd, gamma, gamma);
            var (dxRef, dGammaRef, dBetaRef) = ScalarReference.BatchNormBackward(dy, xHat, rows, gamma, inverseStd);

            // Bounds scaled to the sums of magnitudes each result adds up (cancellation is the reference's too).
            double eps = Epsilon<T>();
            var (dBetaScale, dGammaScale, dxScale) = (new double[features], new double[features], new double[dy.Length]);
            for (int k = 0; k < dy.Length; k++)
            {
                dBetaScale[k % features] += Math.Abs(double.CreateTruncating(dy[k]));
                dGammaScale[k % features] += Math.Abs(double.CreateTruncating(dy[k]) * double.CreateTruncating(xHat[k]));
            }

            for (int k = 0; k < dy.Length; k++)
            {
                int j = k % features;
                double factor = Math.Abs(double.CreateTruncating(gamma[j]) * double.CreateTruncating(inverseStd[j]) / rows);
                dxScale[k] = factor * ((rows * Math.Abs(double.CreateTruncating(dy[k]))) + dBetaScale[j] + (Math.Abs(double.CreateTruncating(xHat[k])) * dGammaScale[j]));
            }

            foreach (bool fromInput in new[] { false, true })
            {
                var (dx, dGamma, dBeta) = (new T[dy.Length], new T[features], new T[features]);
                if (fromInput)
                {
                    NormalizationKernels.BatchNormBackwardFromInput<T>(dy, x, rows, mean, gamma, inverseStd, dx, dGamma, dBeta);
                }
                else
                {
                    NormalizationKernels.BatchNormBackward<T>(dy, xHat, rows, gamma, inverseStd, dx, dGamma, dBeta);
                }

                string where = $"rows {rows}, from input {fromInput}";
                Within(dBetaRef, dBeta, dBetaScale, 4 * rows * eps, $"dBeta, {where}");
                Within(dGammaRef, dGamma, dGammaScale, 8 * rows * eps, $"dGamma, {where}");
                Within(dxRef, dx, dxScale, 16 * rows * eps, $"dx, {where}");
            }
        }
    }

    private static void AccumulateFiniteMomentsMatchesReference<T>(int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = Enumerable.Range(0, 5).Select(r => Data<T>(100 + r, length, 3, 2)).ToArray();

        // Holes: NaN and infinities in some slots of some rows, and a slot that is never finite.
        for (int j = 0; j < length; j += 3)
        {
            rows[j % 5][j] = (j % 2 == 0) ? T.NaN : T.PositiveInfinity;
        }

        if (length > 2)
        {
            foreach (var row in rows)
            {
                row[2] = T.NegativeInfinity;
            }
        }

        var (k1, s1, q1, c1) = NewAccumulators(length);
        var (k2, s2, q2, c2) = NewAccumulators(length);
        foreach (var row in rows)
        {
            NormalizationKernels.AccumulateFiniteMoments<T>(row, k1, s1, q1, c1);
            ScalarReference.AccumulateFiniteMoments(row, k2, s2, q2, c2);
        }

        // The documented operations are single double operations per element, so the results are exact.
        Assert.Equal(k2, k1);
        Assert.Equal(s2, s1);
        Assert.Equal(q2, q1);
        Assert.Equal(c2, c1);
    }

    private static TheoryData<string, int> Cases(int minimum)
    {
        var data = new TheoryData<string, int>();
        foreach (string type in new[] { nameof(Single), nameof(Double) })
        {
            foreach (int n in SeededData.SimdLengths)
            {
                if (n >= minimum)
                {
                    data.Add(type, n);
                }
            }
        }

        return data;
    }

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

    // Seeded normal data in double, rounded to T.
    private static T[] Data<T>(int seed, int length, double mean, double std)
        where T : IFloatingPointIeee754<T> =>
        Array.ConvertAll(SeededData.NormalDouble(seed, length, mean, std), T.CreateTruncating);

    private static double Epsilon<T>()
        where T : IFloatingPointIeee754<T> =>
        double.CreateTruncating(T.BitDecrement(T.One) - T.One) * -1; // one ulp below 1: 2^-24 or 2^-53

    private static double[] ToDouble<T>(T[] values)
        where T : IFloatingPointIeee754<T> =>
        Array.ConvertAll(values, double.CreateTruncating);

    private static void Within<T>(double[] expected, T[] actual, double[] scale, double relative, string what)
        where T : IFloatingPointIeee754<T>
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double a = double.CreateTruncating(actual[i]);
            double bound = relative * scale[i];
            Assert.True(Math.Abs(a - expected[i]) <= bound, $"{what}[{i}]: expected {expected[i]:R}, got {a:R}, bound {bound:E3}");
        }
    }

    private static (double[] Shift, double[] Sum, double[] SumOfSquares, double[] Count) NewAccumulators(int length)
    {
        var shift = new double[length];
        shift.AsSpan().Fill(double.NaN);
        return (shift, new double[length], new double[length], new double[length]);
    }
}
