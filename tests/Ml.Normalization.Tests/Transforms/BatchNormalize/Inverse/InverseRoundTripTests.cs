using Microsoft.ML;
using Xunit.Sdk;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Inverse;

/// <summary>
/// <c>inverse(normalize(x))</c> gives x back within the stated bound, on seeded data with large offsets, for every layout,
/// both types, centered and scale only, and slot counts around the vector widths (SIMD tails).
/// </summary>
/// <remarks>
/// The bound (InverseBatchNormalizingTransformer's remarks): <c>|x' - x| &lt;= 8 u (|x| + |mean| + |beta| sigma / |gamma|)</c>,
/// sigma = sqrt(var + eps), u = 2^-24 (Single) or 2^-53 (Double). Derivation, with m and b the mean and beta as the column's
/// type holds them and s, s' the scale and the inverse's scale each rounded once:
/// the forward makes d = (x - m)(1 + e1), p = d s (1 + e2), y = (p + b)(1 + e3); the inverse (y - b)(1 + e4), times s'
/// (1 + e5), plus m (1 + e6). Since s s' = 1 + O(2u) (both divide by the same computed sigma), the product comes back as
/// (x - m)(1 + 6 errors) + s'(p + b) e3, where |s'(p + b)| &lt;= |x - m| + |b| sigma / |gamma|; adding m makes one more
/// error on |x|. In all, 7u|x - m| + u|b| sigma/|gamma| + u|x| &lt;= 8u|x| + 7u|m| + u|b| sigma/|gamma|, within the bound
/// with room for the second-order terms. (A 0-slot column does not exist: ML.NET reads size 0 as a variable-size vector,
/// which the stages refuse; InverseStageTests checks that.)
/// </remarks>
public class InverseRoundTripTests
{
    private const int Rows = 40;

    public static TheoryData<ChannelLayout, int, bool, bool> Cases()
    {
        var data = new TheoryData<ChannelLayout, int, bool, bool>();
        foreach (var layout in new[] { ChannelLayout.None, ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast })
        {
            foreach (int slots in new[] { 1, 7, 8, 9, 63, 64, 65 })
            {
                foreach (bool isDouble in new[] { false, true })
                {
                    foreach (bool centered in new[] { true, false })
                    {
                        data.Add(layout, slots, isDouble, centered);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InverseOfNormalize_GivesXBack_WithinEightUnitsOfRoundoff(ChannelLayout layout, int slots, bool isDouble, bool centered)
    {
        var ml = new MLContext(seed: 1);
        var (channels, spatial) = layout == ChannelLayout.None ? (slots, 1) : InverseData.ChannelsOf(slots);
        var p = InverseData.Parameters(seed: slots + (10 * (int)layout), channels, layout, centered);
        var rows = InverseData.Rows(seed: slots, Rows, p, slots, spatial);
        var data = InverseData.View(ml, rows, isDouble, InverseData.Dimensions(layout, slots));

        var normalize = ml.Transforms.BatchNormalize(p).Fit(data);
        var model = normalize.Append(normalize.GetInverse("Restored", "Normalized"));

        AssertRoundTrip(InverseData.AsStored(rows, isDouble), InverseData.Read(model.Transform(data), "Restored"), p, spatial, isDouble);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(true, false)]
    public void InverseOfNormalize_OfAScalarColumn_GivesXBack(bool isDouble, bool centered)
    {
        var ml = new MLContext(seed: 1);
        var p = InverseData.Parameters(seed: 5, 1, ChannelLayout.None, centered);
        var rows = InverseData.Rows(seed: 6, 200, p, 1, 1);
        var data = InverseData.View(ml, rows, isDouble);

        var normalize = ml.Transforms.BatchNormalize(p).Fit(data);
        var model = normalize.Append(ml.Transforms.InverseBatchNormalize("Restored", "Normalized", normalize).Fit(normalize.Transform(data)));

        AssertRoundTrip(InverseData.AsStored(rows, isDouble), InverseData.Read(model.Transform(data), "Restored"), p, 1, isDouble);
    }

    [Theory]
    [InlineData(ChannelLayout.ChannelsFirst, false)]
    [InlineData(ChannelLayout.ChannelsLast, false)]
    [InlineData(ChannelLayout.ChannelsFirst, true)]
    public void InverseOfAStandardization_WhichDivides_GivesXBack(ChannelLayout layout, bool isDouble)
    {
        // FromMeanAndStd's parameters normalize as (x - mean) / std (a division, not the multiply form the bound was
        // derived for: one rounding fewer); the inverse multiplies by the std.
        var ml = new MLContext(seed: 1);
        var p = BatchNormalizationParameters.FromMeanAndStd("Normalized", "X", layout, [0.485, -3e4, 1e6], [0.229, 12.5, 0.01]);
        var rows = InverseData.Rows(seed: 8, Rows, p, 63, 21);
        var data = InverseData.View(ml, rows, isDouble, InverseData.Dimensions(layout, 63));

        var normalize = ml.Transforms.BatchNormalize(p).Fit(data);
        var restored = InverseData.Read(normalize.GetInverse("Restored", "Normalized").Transform(normalize.Transform(data)), "Restored");

        AssertRoundTrip(InverseData.AsStored(rows, isDouble), restored, p, 21, isDouble);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InverseOfAFittedNormalization_GivesXBack_AtAnOffsetOfAMillion(bool isDouble)
    {
        // A fit (not known parameters): the running statistics of data around 1e6 with spread 0.5, the case where a float
        // column has 1/16 resolution and the normalized values carry only the low bits.
        var ml = new MLContext(seed: 1);
        var random = new Random(7);
        var rows = Enumerable.Range(0, 300).Select(_ => Enumerable.Range(0, 9).Select(j => 1e6 + (j * 1000) + (0.5 * ((2 * random.NextDouble()) - 1))).ToArray()).ToArray();
        var data = InverseData.View(ml, rows, isDouble, 9);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 32, Gamma = [-0.5], Beta = [3] };

        var normalize = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "X")], options).Fit(data);
        var restored = InverseData.Read(normalize.GetInverse().Transform(normalize.Transform(data)), "X");

        AssertRoundTrip(InverseData.AsStored(rows, isDouble), restored, normalize.Columns[0], 1, isDouble);
    }

    [Fact]
    public void TheBound_HasTeeth_AnInverseThatForgetsEpsilonExceedsIt()
    {
        // A plausible bug, an inverse scale of sqrt(var) / gamma without epsilon (1e-3 here: 1e-3 / (2 var) relative at
        // most), is caught where the values are not dwarfed by an offset.
        var ml = new MLContext(seed: 1);
        var p = InverseData.Parameters(seed: 3, 8, ChannelLayout.None, centered: true, epsilon: 1e-3);
        var withoutEpsilon = new BatchNormalizationParameters("Normalized", "X", p.RunningMean, p.RunningVariance, p.Gamma, p.Beta, epsilon: 0);
        var rows = InverseData.Rows(seed: 4, Rows, p, 8, 1);
        var data = InverseData.View(ml, rows, isDouble: false, 8);

        var normalized = ml.Transforms.BatchNormalize(p).Fit(data).Transform(data);
        var wrong = ml.Transforms.InverseBatchNormalize("Restored", "Normalized", withoutEpsilon).Fit(normalized).Transform(normalized);
        var right = ml.Transforms.InverseBatchNormalize("Restored", "Normalized", p).Fit(normalized).Transform(normalized);

        var x = InverseData.AsStored(rows, isDouble: false);
        AssertRoundTrip(x, InverseData.Read(right, "Restored"), p, 1, isDouble: false);
        Assert.ThrowsAny<XunitException>(() => AssertRoundTrip(x, InverseData.Read(wrong, "Restored"), p, 1, isDouble: false));
    }

    /// <summary>Asserts the bound for every value; fails with the worst one.</summary>
    private static void AssertRoundTrip(double[][] x, double[][] restored, BatchNormalizationParameters p, int spatial, bool isDouble)
    {
        double u = isDouble ? Math.Pow(2, -53) : Math.Pow(2, -24);
        Assert.Equal(x.Length, restored.Length);
        double worst = 0;
        string where = "";
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(x[i].Length, restored[i].Length);
            for (int j = 0; j < x[i].Length; j++)
            {
                int unit = InverseData.UnitOf(p.ChannelLayout, p.UnitCount, spatial, j);
                double mean = p.Centered ? p.RunningMean[unit] : 0;
                double sigma = Math.Sqrt(p.RunningVariance[unit] + p.Epsilon);
                double bound = 8 * u * (Math.Abs(x[i][j]) + Math.Abs(mean) + (Math.Abs(p.Beta[unit]) * sigma / Math.Abs(p.Gamma[unit])));
                double ratio = Math.Abs(restored[i][j] - x[i][j]) / bound;
                if (!(ratio <= worst))
                {
                    worst = ratio;
                    where = $"row {i}, slot {j}: x {x[i][j]:R}, restored {restored[i][j]:R}, bound {bound:E3}";
                }
            }
        }

        Assert.True(worst <= 1, $"The round trip exceeds 8u(|x| + |mean| + |beta| sigma/|gamma|) by {worst:F2}x at {where}.");
    }
}
