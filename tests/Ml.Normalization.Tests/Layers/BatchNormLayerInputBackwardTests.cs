using Ml.Normalization.Layers;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Layers;

/// <summary>
/// Backward given the input again (x-hat recomputed, as cuDNN takes x), and layers that keep no x-hat: the same
/// numbers, bit for bit, as the kept-x-hat path.
/// </summary>
public class BatchNormLayerInputBackwardTests
{
    private const int Rows = 6;

    public static TheoryData<int> Features => SeededData.Lengths(minimum: 1);

    [Theory]
    [MemberData(nameof(Features))]
    public void Backward_GivenX_EqualsKeptXHatBackward_BitForBit(int features)
    {
        var (x, dy) = Batch(features);
        var kept = NewLayer(features, keepNormalizedInput: true);
        var recomputing = NewLayer(features, keepNormalizedInput: false);
        var yKept = new float[x.Length];
        var yRecomputing = new float[x.Length];
        kept.Forward(x, yKept, Rows, training: true);
        recomputing.Forward(x, yRecomputing, Rows, training: true);
        Assert.Equal(yKept, yRecomputing);
        Assert.Equal(kept.RunningMean, recomputing.RunningMean);
        Assert.Equal(kept.RunningVariance, recomputing.RunningVariance);

        var expected = Gradients(features, (dx, dGamma, dBeta) => kept.Backward(dy, dx, dGamma, dBeta));
        var givenXOnKept = Gradients(features, (dx, dGamma, dBeta) => kept.Backward(x, dy, dx, dGamma, dBeta));
        var givenX = Gradients(features, (dx, dGamma, dBeta) => recomputing.Backward(x, dy, dx, dGamma, dBeta));
        AssertSame(expected, givenXOnKept);
        AssertSame(expected, givenX);
    }

    [Theory]
    [MemberData(nameof(Features))]
    public void Backward_GivenX_dxMayBeDy(int features)
    {
        var (x, dy) = Batch(features);
        var layer = NewLayer(features, keepNormalizedInput: false);
        layer.Forward(x, new float[x.Length], Rows, training: true);
        var expected = Gradients(features, (dx, dGamma, dBeta) => layer.Backward(x, dy, dx, dGamma, dBeta));
        var inPlace = (float[])dy.Clone();
        layer.Backward(x, inPlace, inPlace, new float[features], new float[features]);
        Assert.Equal(expected.Dx, inPlace);
    }

    [Fact]
    public void Backward_WithoutX_OnALayerThatKeepsNoXHat_SaysWhatToCall()
    {
        var layer = NewLayer(3, keepNormalizedInput: false);
        layer.Forward(new float[6], new float[6], 2, training: true);
        var ex = Assert.Throws<InvalidOperationException>(() => layer.Backward(new float[6], new float[6], new float[3], new float[3]));
        Assert.Contains("KeepNormalizedInput is false", ex.Message);
        Assert.Contains("Backward(x, dy, dx, dGamma, dBeta)", ex.Message);
    }

    [Fact]
    public void Backward_GivenX_BeforeTrainingForward_Throws()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => NewLayer(2, keepNormalizedInput: false).Backward(new float[2], new float[2], new float[2], new float[2], new float[2]));
        Assert.Contains("Forward(training: true)", ex.Message);
    }

    [Fact]
    public void Backward_GivenX_OfTheWrongLength_NamesIt()
    {
        var layer = NewLayer(2, keepNormalizedInput: false);
        layer.Forward(new float[4], new float[4], 2, training: true);
        var ex = Assert.Throws<ArgumentException>(() => layer.Backward(new float[6], new float[4], new float[4], new float[2], new float[2]));
        Assert.Equal("x", ex.ParamName);
    }

    [Fact]
    public void Forward_Training_WithoutKeptXHat_NeverAllocates()
    {
        var layer = NewLayer(65, keepNormalizedInput: false);
        var x = SeededData.Normal(3, 32 * 65);
        var y = new float[x.Length];
        layer.Forward(x.AsSpan(0, 2 * 65), y.AsSpan(0, 2 * 65), 2, training: true); // warm up the JIT on a small batch
        layer.Backward(x.AsSpan(0, 2 * 65), y.AsSpan(0, 2 * 65), y.AsSpan(0, 2 * 65), new float[65], new float[65]);
        var (dGamma, dBeta) = (new float[65], new float[65]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        layer.Forward(x, y, 32, training: true);
        layer.Backward(x, y, y, dGamma, dBeta);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static BatchNormLayer NewLayer(int features, bool keepNormalizedInput)
    {
        var layer = new BatchNormLayer(features) { KeepNormalizedInput = keepNormalizedInput };
        SeededData.Normal(11, features, 1, 0.5).CopyTo(layer.Gamma, 0);
        SeededData.Normal(12, features).CopyTo(layer.Beta, 0);
        return layer;
    }

    private static (float[] X, float[] Dy) Batch(int features) =>
        (SeededData.Normal(features, Rows * features, 3, 2), SeededData.Normal(features + 1000, Rows * features));

    private static (float[] Dx, float[] DGamma, float[] DBeta) Gradients(int features, BackwardCall backward)
    {
        var result = (Dx: new float[Rows * features], DGamma: new float[features], DBeta: new float[features]);
        backward(result.Dx, result.DGamma, result.DBeta);
        return result;
    }

    private static void AssertSame((float[] Dx, float[] DGamma, float[] DBeta) expected, (float[] Dx, float[] DGamma, float[] DBeta) actual)
    {
        Assert.Equal(expected.Dx, actual.Dx);
        Assert.Equal(expected.DGamma, actual.DGamma);
        Assert.Equal(expected.DBeta, actual.DBeta);
    }

    private delegate void BackwardCall(Span<float> dx, Span<float> dGamma, Span<float> dBeta);
}
