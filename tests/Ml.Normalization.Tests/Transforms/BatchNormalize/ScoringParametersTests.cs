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
