using System.Numerics.Tensors;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Layers;

/// <summary>
/// What the batch-normalization layers share, as PyTorch's BatchNorm1d and BatchNorm2d share their base: the learned
/// <see cref="Gamma"/> and <see cref="Beta"/>, the running statistics and their update, <see cref="Momentum"/> and
/// <see cref="Epsilon"/> and the checks on them, and the record of the last training pass that Backward takes the
/// gradients of. <see cref="BatchNormLayer"/> (rows x features) and <see cref="SpatialBatchNormLayer"/> (batch x channels
/// x H x W) differ in the layout of their input, so in their Forward and Backward and the kernels behind them.
/// </summary>
/// <remarks>
/// Each parameter and statistic is one value per normalized unit (a feature of <see cref="BatchNormLayer"/>, a channel of
/// <see cref="SpatialBatchNormLayer"/>). Running statistics: <c>running = Momentum * running + (1 - Momentum) * batch</c>,
/// both starting at 0. Layers outside this library cannot derive from this class.
/// </remarks>
public abstract class BatchNormLayerBase
{
    private readonly float[] _testScale;
    private TrainingPass _trainingPass;

    // size is the number of features or channels, named sizeName in the exception when it is below 1.
    private protected BatchNormLayerBase(int size, string sizeName, float momentum, float epsilon)
    {
        if (size < 1)
        {
            ThrowHelper.ThrowOutOfRange(sizeName, size, "at least 1");
        }

        if (!(momentum >= 0f && momentum < 1f))
        {
            ThrowHelper.ThrowOutOfRange(nameof(momentum), momentum, "in [0, 1)");
        }

        if (!(epsilon > 0f) || float.IsInfinity(epsilon))
        {
            ThrowHelper.ThrowOutOfRange(nameof(epsilon), epsilon, "positive and finite");
        }

        Momentum = momentum;
        Epsilon = epsilon;
        Gamma = new float[size];
        Gamma.AsSpan().Fill(1f);
        Beta = new float[size];
        RunningMean = new float[size];
        RunningVariance = new float[size];
        BatchMean = new float[size];
        BatchVariance = new float[size];
        InverseStd = new float[size];
        _testScale = new float[size];
    }

    /// <summary>Weight of the old running value in the running-statistics update.</summary>
    public float Momentum { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public float Epsilon { get; }

    /// <summary>Scale per feature or channel, starts at 1. Writable: an optimizer updates it in place.</summary>
    public float[] Gamma { get; }

    /// <summary>Shift per feature or channel, starts at 0. Writable: an optimizer updates it in place.</summary>
    public float[] Beta { get; }

    /// <summary>Running mean per feature or channel, used in test mode, starts at 0.</summary>
    public float[] RunningMean { get; }

    /// <summary>Running variance per feature or channel, used in test mode, starts at 0 (fill it with 1 for PyTorch's
    /// start). Fed the batch's biased variance, unless <see cref="SpatialBatchNormLayer.UnbiasedRunningVariance"/> is set.</summary>
    public float[] RunningVariance { get; }

    /// <summary>The mean of the last training batch.</summary>
    private protected float[] BatchMean { get; }

    /// <summary>The biased variance of the last training batch; what the running variance takes after
    /// <see cref="CompleteTrainingPass"/>.</summary>
    private protected float[] BatchVariance { get; }

    /// <summary>1 / sqrt(batch variance + Epsilon) of the last training batch.</summary>
    private protected float[] InverseStd { get; }

    /// <summary>The normalized input of the last training pass, for Backward.</summary>
    private protected XHatCache XHatCache { get; } = new();

    /// <summary>Throws unless <paramref name="x"/> and <paramref name="y"/> are <paramref name="length"/> long.</summary>
    private protected static void CheckInputAndOutput(int length, ReadOnlySpan<float> x, Span<float> y)
    {
        ThrowHelper.ThrowIfLengthDiffers(length, x.Length, nameof(x));
        ThrowHelper.ThrowIfLengthDiffers(length, y.Length, nameof(y));
    }

    /// <summary>The scale of a test-mode pass, <c>Gamma / sqrt(RunningVariance + Epsilon)</c>, in scratch the layer keeps.</summary>
    private protected float[] TestScale()
    {
        float[] scale = _testScale;
        TensorPrimitives.Add(RunningVariance, Epsilon, scale);
        TensorPrimitives.ReciprocalSqrt(scale, scale);
        TensorPrimitives.Multiply(scale, Gamma, scale);
        return scale;
    }

    /// <summary>
    /// Ends a training pass over <paramref name="length"/> values: folds <see cref="BatchMean"/> and
    /// <see cref="BatchVariance"/> into the running statistics and records the pass for Backward.
    /// </summary>
    private protected void CompleteTrainingPass(int length)
    {
        // running = momentum * running + (1 - momentum) * batch, in the reference's order of operations.
        TensorPrimitives.Multiply(RunningMean, Momentum, RunningMean);
        TensorPrimitives.MultiplyAdd(BatchMean, 1f - Momentum, RunningMean, RunningMean);
        TensorPrimitives.Multiply(RunningVariance, Momentum, RunningVariance);
        TensorPrimitives.MultiplyAdd(BatchVariance, 1f - Momentum, RunningVariance, RunningVariance);
        _trainingPass.Record(length);
    }

    /// <summary>The length of the last training pass, once there was one and <paramref name="dy"/> and
    /// <paramref name="dx"/> have its length (otherwise it throws).</summary>
    private protected int CheckBackward(ReadOnlySpan<float> dy, Span<float> dx) => _trainingPass.CheckBackward(dy, dx);
}
