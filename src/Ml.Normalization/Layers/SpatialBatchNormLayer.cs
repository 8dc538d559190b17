using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
/// <see cref="UnbiasedRunningVariance"/> and fill <see cref="RunningVariance"/> with 1 before the first batch.</para>
/// <para>The per-channel sums are taken of <c>x - shift[c]</c>, with shift[c] the channel's first value, in float over runs
/// of at most 1024 values and in double across runs, so a large common offset (x = 1e4 + noise) neither cancels the
/// variance away nor costs the mean its precision; the normalization subtracts the shift first for the same reason.</para>
/// <para>Backward gives dx, dGamma and dBeta of the last training forward pass, from the normalized input the layer keeps
/// (batch x Channels x spatialSize floats). Buffers are reused while the batch does not grow, so training is allocation-free
/// after the first batch. Each channel plane is processed as a span, so a large spatialSize (images) runs at vector speed;
/// for spatialSize 1 prefer <see cref="BatchNormLayer"/>, which vectorises across features. Not thread-safe.</para>
/// </remarks>
public sealed class SpatialBatchNormLayer
{
    // Runs of this many values are summed in float by TensorPrimitives (error ~ run length / vector width ulps) and the run
    // totals in double; the run also keeps the chunk's intermediate results in L1 between the TensorPrimitives calls.
    private const int Run = 1024;
    private const int Page = XHatCache.Page;

    private readonly float[] _shift;
    private readonly float[] _shiftedMean;
    private readonly float[] _batchMean;
    private readonly float[] _batchVariance;
    private readonly float[] _inverseStd;
    private readonly float[] _testScale;
    private readonly double[] _sum;
    private readonly double[] _sumOfSquares;
    private readonly float[] _dBetaOverN;
    private readonly float[] _dGammaOverN;
    // Pinned so that the placements below (PlacedAwayFrom) hold.
    private readonly float[] _scratch = GC.AllocateUninitializedArray<float>(Run + (Page / sizeof(float)), pinned: true);
    private readonly XHatCache _xHatCache = new();
    private int _cachedBatch;
    private int _cachedSpatialSize;

    /// <summary>Creates a layer for <paramref name="channels"/> channels, with Gamma 1, Beta 0 and zero running statistics.</summary>
    /// <param name="channels">Number of channels (C of NCHW), at least 1.</param>
    /// <param name="momentum">Weight of the old running value, in [0, 1).</param>
    /// <param name="epsilon">Added to the variance before the square root; positive and finite.</param>
    /// <exception cref="ArgumentOutOfRangeException">A parameter is outside its range (NaN included).</exception>
    public SpatialBatchNormLayer(int channels, float momentum = 0.9f, float epsilon = 1e-5f)
    {
        if (channels < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(channels), channels, "at least 1");
        }

        LayerArguments.CheckMomentumAndEpsilon(momentum, epsilon);

        Channels = channels;
        Momentum = momentum;
        Epsilon = epsilon;
        Gamma = new float[channels];
        Gamma.AsSpan().Fill(1f);
        Beta = new float[channels];
        RunningMean = new float[channels];
        RunningVariance = new float[channels];
        _shift = new float[channels];
        _shiftedMean = new float[channels];
        _batchMean = new float[channels];
        _batchVariance = new float[channels];
        _inverseStd = new float[channels];
        _testScale = new float[channels];
        _sum = new double[channels];
        _sumOfSquares = new double[channels];
        _dBetaOverN = new float[channels];
        _dGammaOverN = new float[channels];
    }

    /// <summary>Number of channels (C of NCHW).</summary>
    public int Channels { get; }

    /// <summary>Weight of the old running value in the running-statistics update.</summary>
    public float Momentum { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public float Epsilon { get; }

    /// <summary>Per-channel scale, starts at 1. Writable: an optimizer updates it in place.</summary>
    public float[] Gamma { get; }

    /// <summary>Per-channel shift, starts at 0. Writable: an optimizer updates it in place.</summary>
    public float[] Beta { get; }

    /// <summary>Running mean per channel, used in test mode, starts at 0.</summary>
    public float[] RunningMean { get; }

    /// <summary>Running variance per channel, used in test mode, starts at 0 (fill it with 1 for PyTorch's start).</summary>
    public float[] RunningVariance { get; }

    /// <summary>
    /// Feed the batch variance times n/(n-1), n = batch x spatialSize, into <see cref="RunningVariance"/> (PyTorch's
    /// convention). Default false: the biased variance, as the seed article and <see cref="BatchNormLayer"/>. The forward
    /// pass normalizes with the biased variance either way.
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
        ThrowHelper.ThrowIfLengthDiffers(length, x.Length, nameof(x));
        ThrowHelper.ThrowIfLengthDiffers(length, y.Length, nameof(y));

        if (!training)
        {
            Span<float> scale = _testScale;
            TensorPrimitives.Add(RunningVariance, Epsilon, scale);
            TensorPrimitives.ReciprocalSqrt(scale, scale);
            TensorPrimitives.Multiply(scale, Gamma, scale);
            ForEachRun(length, spatialSize, new Spans(x, default, y), static (in Spans s, int c, int offset, int count, SpatialBatchNormLayer layer) =>
            {
                Span<float> yRun = s.Output.Slice(offset, count);
                TensorPrimitives.Subtract(s.Input.Slice(offset, count), layer.RunningMean[c], yRun);
                TensorPrimitives.Multiply(yRun, layer._testScale[c], yRun);
                TensorPrimitives.Add(yRun, layer.Beta[c], yRun);
            });

            return;
        }

        if (UnbiasedRunningVariance && batch * spatialSize < 2)
        {
            ThrowHelper.ThrowOutOfRange(nameof(batch), batch, "such that batch x spatialSize is at least 2 when UnbiasedRunningVariance is set");
        }

        Moments(x, batch, spatialSize);
        Span<float> xHat = _xHatCache.PlacedFor(x, y);
        ForEachRun(length, spatialSize, new Spans(x, default, y, xHat), static (in Spans s, int c, int offset, int count, SpatialBatchNormLayer layer) =>
        {
            Span<float> h = s.Output2.Slice(offset, count);
            TensorPrimitives.Subtract(s.Input.Slice(offset, count), layer._shift[c], h);
            TensorPrimitives.Subtract(h, layer._shiftedMean[c], h);
            TensorPrimitives.Multiply(h, layer._inverseStd[c], h);
            Span<float> yRun = s.Output.Slice(offset, count);
            TensorPrimitives.Multiply(h, layer.Gamma[c], yRun);
            TensorPrimitives.Add(yRun, layer.Beta[c], yRun);
        });

        // running = momentum * running + (1 - momentum) * batch, in the reference's (and BatchNormLayer's) order of operations.
        TensorPrimitives.Multiply(RunningMean, Momentum, RunningMean);
        TensorPrimitives.MultiplyAdd(_batchMean, 1f - Momentum, RunningMean, RunningMean);
        if (UnbiasedRunningVariance)
        {
            int n = batch * spatialSize;
            TensorPrimitives.Multiply(_batchVariance, (float)((double)n / (n - 1)), _batchVariance);
        }

        TensorPrimitives.Multiply(RunningVariance, Momentum, RunningVariance);
        TensorPrimitives.MultiplyAdd(_batchVariance, 1f - Momentum, RunningVariance, RunningVariance);
        _cachedBatch = batch;
        _cachedSpatialSize = spatialSize;
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
        if (_cachedBatch == 0)
        {
            throw new InvalidOperationException("Backward needs a preceding Forward(training: true); there was none since the layer was created.");
        }

        int length = _cachedBatch * Channels * _cachedSpatialSize;
        ThrowHelper.ThrowIfLengthDiffers(length, dy.Length, nameof(dy));
        ThrowHelper.ThrowIfLengthDiffers(length, dx.Length, nameof(dx));
        ThrowHelper.ThrowIfLengthDiffers(Channels, dGamma.Length, nameof(dGamma));
        ThrowHelper.ThrowIfLengthDiffers(Channels, dBeta.Length, nameof(dBeta));

        ReadOnlySpan<float> xHat = _xHatCache.Last(length);
        Array.Clear(_sum);
        Array.Clear(_sumOfSquares);
        ForEachRun(length, _cachedSpatialSize, new Spans(dy, xHat, default), static (in Spans s, int c, int offset, int count, SpatialBatchNormLayer layer) =>
        {
            ReadOnlySpan<float> g = s.Input.Slice(offset, count);
            layer._sum[c] += TensorPrimitives.Sum(g);
            layer._sumOfSquares[c] += TensorPrimitives.Dot(g, s.Input2.Slice(offset, count));
        });

        float n = _cachedBatch * _cachedSpatialSize;
        for (int c = 0; c < Channels; c++)
        {
            dBeta[c] = (float)_sum[c];
            dGamma[c] = (float)_sumOfSquares[c];

            _dBetaOverN[c] = dBeta[c] / n;
            _dGammaOverN[c] = dGamma[c] / n;
        }

        ForEachRun(length, _cachedSpatialSize, new Spans(dy, xHat, dx), static (in Spans s, int c, int offset, int count, SpatialBatchNormLayer layer) =>
        {
            Span<float> d = s.Output.Slice(offset, count);
            TensorPrimitives.Subtract(s.Input.Slice(offset, count), layer._dBetaOverN[c], d);
            TensorPrimitives.MultiplyAdd(s.Input2.Slice(offset, count), -layer._dGammaOverN[c], d, d);
            TensorPrimitives.Multiply(d, layer.Gamma[c] * layer._inverseStd[c], d);
        });
    }

    private int CheckShape(int batch, int spatialSize)
    {
        if (batch < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(batch), batch, "at least 1");
        }

        if (spatialSize < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(spatialSize), spatialSize, "at least 1");
        }

        long length = (long)batch * Channels * spatialSize;
        if (length > int.MaxValue)
        {
            ThrowHelper.ThrowOutOfRange(nameof(batch), batch, $"such that batch x channels x spatialSize fits an Int32 (channels {Channels}, spatialSize {spatialSize})");
        }

        return (int)length;
    }

    // Per-channel mean and biased variance of x into _batchMean/_batchVariance (float), keeping the shift and the shifted
    // mean for the normalization, and the inverse standard deviation.
    private void Moments(ReadOnlySpan<float> x, int batch, int spatialSize)
    {
        for (int c = 0; c < Channels; c++)
        {
            _shift[c] = x[c * spatialSize];
        }

        Array.Clear(_sum);
        Array.Clear(_sumOfSquares);
        ForEachRun(x.Length, spatialSize, new Spans(x, default, default), static (in Spans s, int c, int offset, int count, SpatialBatchNormLayer layer) =>
        {
            ReadOnlySpan<float> xRun = s.Input.Slice(offset, count);
            Span<float> t = layer._scratch.AsSpan(PlacedAwayFrom(xRun, layer._scratch), count);
            TensorPrimitives.Subtract(xRun, layer._shift[c], t);
            layer._sum[c] += TensorPrimitives.Sum(t);
            layer._sumOfSquares[c] += TensorPrimitives.SumOfSquares(t);
        });

        double n = (double)batch * spatialSize;
        for (int c = 0; c < Channels; c++)
        {
            double shiftedMean = _sum[c] / n;
            double variance = Math.Max(0, (_sumOfSquares[c] / n) - (shiftedMean * shiftedMean));
            _shiftedMean[c] = (float)shiftedMean;
            _batchMean[c] = (float)(_shift[c] + shiftedMean);
            _batchVariance[c] = (float)variance;
            _inverseStd[c] = (float)(1 / Math.Sqrt(variance + Epsilon));
        }
    }

    // The start in the pinned scratch of a run's shifted values, half a page away from the run of x it is computed from
    // (4K aliasing, see XHatCache). The run's plane may start anywhere, so this is chosen per run.
    private static unsafe int PlacedAwayFrom(ReadOnlySpan<float> xRun, float[] scratch)
    {
        nuint xAddress = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(xRun));
        nuint bufferAddress = (nuint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(scratch));
        nuint offset = (xAddress + (Page / 2) - bufferAddress) % Page;
        return (int)(offset / sizeof(float)); // x and the pinned array are float-aligned, so this is exact
    }

    private delegate void RunAction(in Spans spans, int channel, int offset, int count, SpatialBatchNormLayer layer);

    // Walks the block in memory order, plane by plane (sample n, channel c), in runs of at most Run values, so x streams
    // through once and each run's intermediate results stay in L1 between the TensorPrimitives calls on it. The action is
    // static (no closure, no allocation); the spans travel in a ref struct.
    private void ForEachRun(int length, int spatialSize, in Spans spans, RunAction action)
    {
        int offset = 0;
        while (offset < length)
        {
            for (int c = 0; c < Channels; c++)
            {
                int planeEnd = offset + spatialSize;
                for (; offset < planeEnd; offset += Run)
                {
                    action(in spans, c, offset, Math.Min(Run, planeEnd - offset), this);
                }

                offset = planeEnd;
            }
        }
    }

    private readonly ref struct Spans(ReadOnlySpan<float> input, ReadOnlySpan<float> input2, Span<float> output, Span<float> output2 = default)
    {
        public ReadOnlySpan<float> Input { get; } = input;

        public ReadOnlySpan<float> Input2 { get; } = input2;

        public Span<float> Output { get; } = output;

        public Span<float> Output2 { get; } = output2;
    }
}
