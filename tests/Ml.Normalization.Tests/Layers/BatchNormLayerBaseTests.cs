using Ml.Normalization.Layers;

namespace Ml.Normalization.Tests.Layers;

/// <summary>
/// What the batch-norm layers share through <see cref="BatchNormLayerBase"/>: both refuse the same hyperparameters and
/// the same Backward calls in the same words, and both are usable through the base (an optimizer step that only knows
/// Gamma and Beta). Each case runs on both layers; the layer-specific checks stay in the layers' own test classes.
/// </summary>
public class BatchNormLayerBaseTests
{
    public static TheoryData<string, int, float, float, string, string> BadHyperparameters()
    {
        var data = new TheoryData<string, int, float, float, string, string>();
        foreach (var (layer, sizeName) in new[] { ("BatchNormLayer", "features"), ("SpatialBatchNormLayer", "channels") })
        {
            data.Add(layer, 0, 0.9f, 1e-5f, sizeName, $"'{sizeName}' must be at least 1, got 0.");
            data.Add(layer, -3, 0.9f, 1e-5f, sizeName, $"'{sizeName}' must be at least 1, got -3.");
            data.Add(layer, 3, -0.1f, 1e-5f, "momentum", "'momentum' must be in [0, 1), got -0.1.");
            data.Add(layer, 3, 1f, 1e-5f, "momentum", "'momentum' must be in [0, 1), got 1.");
            data.Add(layer, 3, float.NaN, 1e-5f, "momentum", "'momentum' must be in [0, 1), got NaN.");
            data.Add(layer, 3, 0.9f, 0f, "epsilon", "'epsilon' must be positive and finite, got 0.");
            data.Add(layer, 3, 0.9f, -1f, "epsilon", "'epsilon' must be positive and finite, got -1.");
            data.Add(layer, 3, 0.9f, float.NaN, "epsilon", "'epsilon' must be positive and finite, got NaN.");
            data.Add(layer, 3, 0.9f, float.PositiveInfinity, "epsilon", "'epsilon' must be positive and finite, got ");
        }

        return data;
    }

    public static TheoryData<string> BothLayers => new() { "BatchNormLayer", "SpatialBatchNormLayer" };

    [Theory]
    [MemberData(nameof(BadHyperparameters))]
    public void Constructor_RefusesTheSameValues_InTheSameWords(string layer, int size, float momentum, float epsilon, string param, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Create(layer, size, momentum, epsilon));
        Assert.Equal(param, ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Theory]
    [MemberData(nameof(BothLayers))]
    public void Constructor_SharedState_StartsAsDocumented(string layer)
    {
        BatchNormLayerBase bn = Create(layer, 3, 0.8f, 1e-3f);
        Assert.Equal(0.8f, bn.Momentum);
        Assert.Equal(1e-3f, bn.Epsilon);
        Assert.Equal([1f, 1f, 1f], bn.Gamma);
        Assert.Equal(new float[3], bn.Beta);
        Assert.Equal(new float[3], bn.RunningMean);
        Assert.Equal(new float[3], bn.RunningVariance);
    }

    [Theory]
    [MemberData(nameof(BothLayers))]
    public void Backward_BeforeAnyTrainingForward_IsRefused_InTheWordsOfEveryLayer(string layer)
    {
        var bn = Create(layer, 2);
        ForwardTwoValuesPerUnit(bn, training: false);
        var ex = Assert.Throws<InvalidOperationException>(() => Backward(bn, new float[4], new float[4]));
        var dropout = Assert.Throws<InvalidOperationException>(() => new DropoutLayer(0.5f, seed: 1).Backward(new float[4], new float[4]));
        Assert.Equal("Backward needs a preceding Forward(training: true); there was none since the layer was created.", ex.Message);
        Assert.Equal(ex.Message, dropout.Message);
    }

    [Theory]
    [InlineData("BatchNormLayer", 3, 4, "dy", "Length of 'dy' must be 4, got 3.")]
    [InlineData("BatchNormLayer", 4, 5, "dx", "Length of 'dx' must be 4, got 5.")]
    [InlineData("SpatialBatchNormLayer", 3, 4, "dy", "Length of 'dy' must be 4, got 3.")]
    [InlineData("SpatialBatchNormLayer", 4, 5, "dx", "Length of 'dx' must be 4, got 5.")]
    public void Backward_GradientsNotTheLengthOfTheTrainingPass_AreRefused(string layer, int dyLength, int dxLength, string param, string message)
    {
        var bn = Create(layer, 2);
        ForwardTwoValuesPerUnit(bn, training: true);
        ForwardTwoValuesPerUnit(bn, training: false, valuesPerUnit: 3); // a test-mode pass does not change what Backward expects
        var ex = Assert.Throws<ArgumentException>(() => Backward(bn, new float[dyLength], new float[dxLength]));
        Assert.Equal(param, ex.ParamName);
        Assert.StartsWith(message, ex.Message);
    }

    [Theory]
    [MemberData(nameof(BothLayers))]
    public void Gamma_And_Beta_SetThroughTheBase_ShapeTheOutput(string layer)
    {
        // An optimizer that only knows the base: with Gamma 2 and Beta 1 the training output is 2 * x_hat + 1, so the
        // two values of a unit (x_hat -1 and 1, up to epsilon) come out near -1 and 3.
        var bn = Create(layer, 2);
        bn.Gamma.AsSpan().Fill(2f);
        bn.Beta.AsSpan().Fill(1f);
        var y = ForwardTwoValuesPerUnit(bn, training: true);
        Assert.All(y, v => Assert.True(Math.Abs(v + 1f) < 1e-3f || Math.Abs(v - 3f) < 1e-3f, $"{v}"));
    }

    private static BatchNormLayerBase Create(string layer, int size, float momentum = 0.9f, float epsilon = 1e-5f) => layer switch
    {
        "BatchNormLayer" => new BatchNormLayer(size, momentum, epsilon),
        "SpatialBatchNormLayer" => new SpatialBatchNormLayer(size, momentum, epsilon),
        _ => throw new ArgumentOutOfRangeException(nameof(layer)),
    };

    // A forward pass with valuesPerUnit values for every feature or channel: valuesPerUnit rows of the 2-D layer, one
    // sample of valuesPerUnit positions of the spatial one. Values 0, 1, 2, ... distinct within each unit.
    private static float[] ForwardTwoValuesPerUnit(BatchNormLayerBase bn, bool training, int valuesPerUnit = 2)
    {
        int units = bn.Gamma.Length;
        var x = Enumerable.Range(0, units * valuesPerUnit).Select(i => (float)i).ToArray();
        var y = new float[x.Length];
        switch (bn)
        {
            case BatchNormLayer flat:
                flat.Forward(x, y, valuesPerUnit, training);
                break;
            case SpatialBatchNormLayer spatial:
                spatial.Forward(x, y, 1, valuesPerUnit, training);
                break;
        }

        return y;
    }

    private static void Backward(BatchNormLayerBase bn, float[] dy, float[] dx)
    {
        int units = bn.Gamma.Length;
        switch (bn)
        {
            case BatchNormLayer flat:
                flat.Backward(dy, dx, new float[units], new float[units]);
                break;
            case SpatialBatchNormLayer spatial:
                spatial.Backward(dy, dx, new float[units], new float[units]);
                break;
        }
    }
}
