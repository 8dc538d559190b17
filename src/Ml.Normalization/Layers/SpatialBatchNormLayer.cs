using System.Numerics.Tensors;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Layers;

/// <summary>
/// Spatial (per-channel) batch normalization of a row-major (batch x <see cref="Channels"/> x H x W) block, the NCHW
/// layout of PyTorch's <c>BatchNorm2d</c> and of ML.NET's <c>ExtractPixels</c> with <c>interleavePixelColors: false</c>:
/// each channel is normalized with one mean and variance taken over its batch x H x W values. Training mode uses the
/// batch's statistics and updates the running statistics; test mode uses the running statistics.
/// </summary>
/// <remarks>
/// <para>Forward, per channel c: <c>x_hat = (x - mean[c]) / sqrt(var[c] + Epsilon)</c>, <c>y = Gamma[c] * x_hat + Beta[c]</c>,
/// with the mean and the biased variance over the n = batch x spatialSize values of channel c. The conventions are those of
/// <see cref="BatchNormLayer"/>, which this layer equals when spatialSize is 1 (to float rounding).</para>
/// <para>Running statistics: <c>running = Momentum * running + (1 - Momentum) * batch</c>, both starting at 0. Momentum is the
/// weight of the OLD value (PyTorch's momentum is 1 - Momentum). To reproduce <c>BatchNorm2d</c>'s running statistics, set
/// <see cref="UnbiasedRunningVariance"/> and fill <see cref="BatchNormLayerBase.RunningVariance"/> with 1 before the first batch.</para>
/// <para>The per-channel sums are double sums of <c>(double)x - shift[c]</c>, with shift[c] the channel's first value, in
/// 16 lanes per channel (a fixed grouping, so the results do not depend on the vector width): a large common offset
/// (x = 1e4 + noise) does not cancel the variance away, and a first value far from the rest (an outlier) costs at most
/// a factor of n in the double sums' relative error, far below float's. The normalization subtracts the mean as two
/// floats, <c>(x - high) - low</c> with <c>high + low</c> the double mean, so the offset keeps its precision too.</para>
/// <para>Backward gives dx, dGamma and dBeta of the last training forward pass, from the normalized input the layer keeps
/// (batch x Channels x spatialSize floats). Buffers are reused while the batch does not grow, so training is allocation-free
/// after the first batch. Each channel plane is one span through fused kernels (one pass for the statistics, one
/// for the normalization; one for the gradient sums, one for dx), so a large spatialSize (images) runs at vector speed;
/// for spatialSize 1 prefer <see cref="BatchNormLayer"/>, which vectorises across features. Not thread-safe.</para>
/// </remarks>
public sealed class SpatialBatchNormLayer : BatchNormLayerBase
{
    private readonly double[] _shift;
    private readonly float[] _meanLow;
    private readonly double[] _laneSums;
    private readonly double[] _laneSumsOfSquares;
    private readonly double[] _sum;
    private readonly double[] _sumOfSquares;
    private int _spatialSize;

    /// <summary>Creates a layer for <paramref name="channels"/> channels, with Gamma 1, Beta 0 and zero running statistics.</summary>
    /// <param name="channels">Number of channels (C of NCHW), at least 1.</param>
    /// <param name="momentum">Weight of the old running value, in [0, 1).</param>
    /// <param name="epsilon">Added to the variance before the square root; positive and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range (NaN included).</exception>
    public SpatialBatchNormLayer(int channels, float momentum = 0.9f, float epsilon = 1e-5f)
        : base(channels, nameof(channels), momentum, epsilon)
    {
        _shift = new double[channels];
        _meanLow = new float[channels];
        _laneSums = new double[channels * NormalizationKernels.LaneGroup];
        _laneSumsOfSquares = new double[channels * NormalizationKernels.LaneGroup];
        _sum = new double[channels];
        _sumOfSquares = new double[channels];
    }

    /// <summary>Number of channels (C of NCHW).</summary>
    public int Channels => Gamma.Length;

    /// <summary>
    /// Feed the batch variance times n/(n-1), n = batch x spatialSize, into
    /// <see cref="BatchNormLayerBase.RunningVariance"/> (PyTorch's convention). Default false: the biased variance, as the
    /// seed article and <see cref="BatchNormLayer"/>. The forward pass normalizes with the biased variance either way.
    /// </summary>
    public bool UnbiasedRunningVariance { get; init; }

    /// <summary>Normalizes <paramref name="x"/>, laid out batch x <see cref="Channels"/> x spatialSize, into <paramref name="y"/>.</summary>
    /// <param name="x">Input, row-major NCHW: batch x Channels x spatialSize.</param>
    /// <param name="y">Output, same shape; may be the same memory as <paramref name="x"/>.</param>
    /// <param name="batch">Number of samples (N), at least 1.</param>
    /// <param name="spatialSize">Values per channel per sample (H x W), at least 1.</param>
    /// <param name="training">True: per-channel batch statistics, update the running statistics and keep what Backward
    /// needs. False: running statistics.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> or <paramref name="spatialSize"/> is less than 1,
    /// their product with Channels does not fit an Int32, or <see cref="UnbiasedRunningVariance"/> is set and a training
    /// batch has one value per channel (n/(n-1) is undefined; PyTorch refuses it too).</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> or <paramref name="y"/> is not batch x Channels x spatialSize long.</exception>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch, int spatialSize, bool training)
    {
        int length = CheckShape(batch, spatialSize);
        CheckInputAndOutput(length, x, y);
        if (!training)
        {
            ReadOnlySpan<float> scale = TestScale();
            for (int offset = 0, plane = 0; offset < length; offset += spatialSize, plane++)
            {
                int c = plane % Channels;
                NormalizationKernels.NormalizePlane(x.Slice(offset, spatialSize), RunningMean[c], scale[c], Beta[c], y.Slice(offset, spatialSize));
            }

            return;
        }

        if (UnbiasedRunningVariance && batch * spatialSize < 2)
        {
            ThrowHelper.ThrowOutOfRange(nameof(batch), batch, "such that batch x spatialSize is at least 2 when UnbiasedRunningVariance is set");
        }

        Moments(x, batch, spatialSize);
        Span<float> xHat = XHatCache.PlacedFor(x, y);
        for (int offset = 0, plane = 0; offset < length; offset += spatialSize, plane++)
        {
            int c = plane % Channels;
            NormalizationKernels.NormalizePlaneTraining(
                x.Slice(offset, spatialSize),
                BatchMean[c],
                _meanLow[c],
                InverseStd[c],
                Gamma[c],
                Beta[c],
                xHat.Slice(offset, spatialSize),
                y.Slice(offset, spatialSize));
        }

        if (UnbiasedRunningVariance)
        {
            // What the running variance takes from here on; the normalization above used the biased variance.
            int n = batch * spatialSize;
            TensorPrimitives.Multiply(BatchVariance, (float)((double)n / (n - 1)), BatchVariance);
        }

        CompleteTrainingPass(length);
        _spatialSize = spatialSize;
    }

    /// <summary>Gradients of the last training-mode <see cref="Forward"/> with respect to its input, Gamma and Beta.</summary>
    /// <param name="dy">Upstream gradient, batch x Channels x spatialSize of that pass.</param>
    /// <param name="dx">Receives the gradient with respect to x, same shape; may be the same memory as <paramref name="dy"/>.</param>
    /// <param name="dGamma">Receives the gradient with respect to Gamma, length Channels.</param>
    /// <param name="dBeta">Receives the gradient with respect to Beta, length Channels.</param>
    /// <remarks>Per channel c, over its n = batch x spatialSize values: <c>dBeta[c] = sum dy</c>, <c>dGamma[c] = sum dy * x_hat</c>,
    /// <c>dx = Gamma[c] * invStd[c] * (dy - dBeta[c] / n - x_hat * dGamma[c] / n)</c>.</remarks>
    /// <exception cref="InvalidOperationException">No training forward pass since construction (test-mode passes in between do not count).</exception>
    /// <exception cref="ArgumentException">A span's length does not fit that pass.</exception>
    public void Backward(ReadOnlySpan<float> dy, Span<float> dx, Span<float> dGamma, Span<float> dBeta)
    {
        int length = CheckBackward(dy, dx);
        ThrowHelper.ThrowIfLengthDiffers(Channels, dGamma.Length, nameof(dGamma));
        ThrowHelper.ThrowIfLengthDiffers(Channels, dBeta.Length, nameof(dBeta));

        ReadOnlySpan<float> xHat = XHatCache.Last(length);
        int spatialSize = _spatialSize;
        Array.Clear(_sum);
        Array.Clear(_sumOfSquares);
        for (int offset = 0, plane = 0; offset < length; offset += spatialSize, plane++)
        {
            var (planeDBeta, planeDGamma) = NormalizationKernels.PlaneGradientSums(dy.Slice(offset, spatialSize), xHat.Slice(offset, spatialSize));
            _sum[plane % Channels] += planeDBeta;
            _sumOfSquares[plane % Channels] += planeDGamma;
        }

        // dx = dyScale * dy + xHatScale * xHat + offset per channel, dyScale = Gamma * invStd, xHatScale = -dyScale *
        // dGamma / n, offset = -dyScale * dBeta / n: the 2-D layer's closed form and order of operations.
        float n = length / Channels;
        for (int c = 0; c < Channels; c++)
        {
            dBeta[c] = (float)_sum[c];
            dGamma[c] = (float)_sumOfSquares[c];
        }

        for (int offset = 0, plane = 0; offset < length; offset += spatialSize, plane++)
        {
            int c = plane % Channels;
            float dyScale = Gamma[c] * InverseStd[c];
            NormalizationKernels.PlaneGradient(dy.Slice(offset, spatialSize), xHat.Slice(offset, spatialSize), dyScale, -dyScale * dGamma[c] / n, -dyScale * dBeta[c] / n, dx.Slice(offset, spatialSize));
        }
    }

    // Planes below this many values (14 x 14 and smaller) sum into 16 lanes a channel, longer ones into 32.
    private const int ShortPlane = 256;

    private int CheckShape(int batch, int spatialSize) => NchwShape.Length(batch, Channels, spatialSize);

    // Per-channel mean and biased variance of x into BatchMean/BatchVariance (float), keeping the low part of the mean
    // for the normalization, and the inverse standard deviation.
    private void Moments(ReadOnlySpan<float> x, int batch, int spatialSize)
    {
        // Short planes take fewer lanes: the kernel loads and stores a channel's lane sums for every plane.
        int lanes = spatialSize < ShortPlane ? NormalizationKernels.ShortPlaneLaneGroup : NormalizationKernels.LaneGroup;
        for (int c = 0; c < Channels; c++)
        {
            _shift[c] = x[c * spatialSize];
        }

        Array.Clear(_laneSums);
        Array.Clear(_laneSumsOfSquares);
        for (int offset = 0, plane = 0; offset < x.Length; offset += spatialSize, plane++)
        {
            int c = plane % Channels;
            NormalizationKernels.AccumulatePlaneMoments(
                x.Slice(offset, spatialSize),
                _shift[c],
                _laneSums.AsSpan(c * lanes, lanes),
                _laneSumsOfSquares.AsSpan(c * lanes, lanes));
        }

        double n = (double)batch * spatialSize;
        for (int c = 0; c < Channels; c++)
        {
            double sum = 0, sumOfSquares = 0;
            for (int l = c * lanes; l < (c + 1) * lanes; l++)
            {
                sum += _laneSums[l];
                sumOfSquares += _laneSumsOfSquares[l];
            }

            double shiftedMean = sum / n;
            double variance = Math.Max(0, (sumOfSquares / n) - (shiftedMean * shiftedMean));
            double mean = _shift[c] + shiftedMean;
            BatchMean[c] = (float)mean;
            _meanLow[c] = (float)(mean - BatchMean[c]);
            BatchVariance[c] = (float)variance;
            InverseStd[c] = (float)(1 / Math.Sqrt(variance + Epsilon));
        }
    }
}
