using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Transforms.BatchNormalize;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// A fitted column's scoring parameters (scale and offset per slot) are computed once per parameters and precision and
/// shared by every Transform and cursor: for a million-slot column they are 12 MB and a million square roots.
/// </summary>
public class ScoringParametersTests
{
    [Fact]
    public void From_ComputesOncePerPrecision_TheSetSlotValues()
    {
        var parameters = new BatchNormalizationParameters("y", "x", [1.0, -2.0, 0.5], [4.0, 0.25, 0.0], [2.0, 1.0, 3.0], [0.5, 0.0, -1.0], 1e-5);

        var single = (AffineParameters<float>)AffineParameters.From(parameters, isDouble: false);
        var twice = AffineParameters.From(parameters, isDouble: false);
        var wide = (AffineParameters<double>)AffineParameters.From(parameters, isDouble: true);

        Assert.Same(single, twice);
        Assert.NotSame(single, (object)wide);
        var expected = new AffineParameters<double>(3);
        for (int j = 0; j < 3; j++)
        {
            expected.SetSlot(j, parameters.RunningMean[j], parameters.RunningVariance[j], parameters.Gamma[j], parameters.Beta[j], parameters.Epsilon);
        }

        Assert.Equal(expected.Scale, wide.Scale);
        Assert.Equal(expected.Mean, wide.Mean);
        Assert.Equal(expected.Offset, wide.Offset);
        Assert.Equal(expected.Scale.Select(s => (float)s), single.Scale);
    }

    [Fact]
    public void From_DividesByTheStd_ForAPureStandardizationOnly()
    {
        // Gamma 1, beta 0, epsilon 0, centered: the divisor is sqrt(variance) rounded once, no offset, no second factor.
        var pure = new BatchNormalizationParameters("y", "x", [1.0, -2.0], [0.0529, 4e-80], epsilon: 0);
        var single = (AffineParameters<float>)AffineParameters.From(pure, isDouble: false);
        var wide = (AffineParameters<double>)AffineParameters.From(pure, isDouble: true);
        Assert.True(single.Divides);
        Assert.True(wide.Divides);
        Assert.Equal([(float)Math.Sqrt(0.0529), (float)Math.Sqrt(4e-80)], single.Scale);
        Assert.Equal([Math.Sqrt(0.0529), Math.Sqrt(4e-80)], wide.Scale);
        Assert.Equal([0f, 0f], single.Offset);
        Assert.Null(single.Rescale);

        // Any other value keeps the multiply form: the same parameters with one gamma, one beta or the epsilon changed,
        // scale-only parameters, and a float column whose std is 0 in float (2e-50: only the double column divides).
        BatchNormalizationParameters[] others =
        [
            new("y", "x", [1.0, -2.0], [0.0529, 4.0], gamma: [1.0, 2.0], epsilon: 0),
            new("y", "x", [1.0, -2.0], [0.0529, 4.0], beta: [0.0, 0.5], epsilon: 0),
            new("y", "x", [1.0, -2.0], [0.0529, 4.0], epsilon: 1e-300),
            BatchNormalizationParameters.ForScaleOnly("y", "x", [0.0529, 4.0], epsilon: 0),
        ];
        Assert.All(others, p => Assert.False(((AffineParameters<float>)AffineParameters.From(p, isDouble: false)).Divides));
        Assert.All(others, p => Assert.False(((AffineParameters<double>)AffineParameters.From(p, isDouble: true)).Divides));
        var tiny = BatchNormalizationParameters.FromMeanAndStd("y", "x", ChannelLayout.ChannelsFirst, [0.5, 0.5], [0.2, 2e-50]);
        Assert.False(((AffineParameters<float>)AffineParameters.From(tiny, isDouble: false)).Divides);
        Assert.True(((AffineParameters<double>)AffineParameters.From(tiny, isDouble: true)).Divides);
    }

    [Fact]
    public void TwoTransforms_ShareTheScoringParameters_AndGiveTheSameRows()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 64).Select(i => new Row { X = [i, i * 0.5f, -i] }));
        var model = ml.Transforms.BatchNormalize("Y", "X").Fit(data);

        var first = model.Transform(data).GetColumn<float[]>("Y").ToArray();
        var scoring = AffineParameters.From(model.Columns[0], isDouble: false);
        var second = model.Transform(data).GetColumn<float[]>("Y").ToArray();

        Assert.Same(scoring, AffineParameters.From(model.Columns[0], isDouble: false));
        Assert.Equal(first, second);
    }

    private sealed class Row
    {
        [VectorType(3)]
        public float[] X { get; set; } = [];
    }
}
