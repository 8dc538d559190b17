using Ml.Normalization.Kernels;

namespace Ml.Normalization.Layers;

/// <summary>
/// Channel dropout of a row-major (batch x <see cref="Channels"/> x H x W) block, the NCHW layout of
/// <see cref="SpatialBatchNormLayer"/> and of PyTorch's <c>Dropout2d</c> (<c>Dropout1d</c> and <c>Dropout3d</c> are the
/// same with one or three spatial dimensions flattened into spatialSize): in training each channel of each sample is
/// zeroed as a whole with probability <see cref="DropProbability"/> and the kept channels are scaled by 1 / (1 - p); at
/// test time the layer is the identity.
/// </summary>
/// <remarks>
/// <para>Forward, training: <c>y[n, c, s] = mask[n, c] * x[n, c, s] / (1 - p)</c>, with one draw <c>mask[n, c]</c> in {0, 1}
/// per sample and channel, kept with probability 1 - p, broadcast over the channel's spatialSize values. Backward:
/// <c>dx[n, c, s] = mask[n, c] * dy[n, c, s] / (1 - p)</c> with the mask of the last training Forward.</para>
/// <para>Masks come from the counter-based generator of <see cref="DropoutLayer"/>, keyed on (seed, forward-call number),
/// the draw of (n, c) being that of element n * Channels + c: the same seed gives the same sequence of masks run after
/// run, a spatialSize of 1 gives exactly <see cref="DropoutLayer"/>'s masks and outputs, and p is resolved to 2^-32.
/// <see cref="Backward"/> recomputes the last mask instead of storing it, so the layer allocates nothing after
/// construction. A dropped NaN becomes 0. Not thread-safe.</para>
/// </remarks>
public sealed class ChannelDropoutLayer
{
    private readonly ulong _seed;
    private readonly uint _keepThreshold;
    private readonly float _scale;
    private ulong _calls;
    private ulong _lastKey;
    private int _spatialSize;
    private TrainingPass _trainingPass;

    /// <summary>Creates a channel dropout layer.</summary>
    /// <param name="channels">Number of channels (C of NCHW), at least 1.</param>
    /// <param name="dropProbability">
    /// p, the probability of dropping a channel of a sample, in [0, 1); resolved to 2^-32 (a channel is dropped when its
    /// 32-bit draw is below round(p * 2^32)), so the expected output equals the input at every p.
    /// </param>
    /// <param name="seed">Seed of the masks; null draws one at random.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is less than 1, or
    /// <paramref name="dropProbability"/> is outside [0, 1) or NaN.</exception>
    public ChannelDropoutLayer(int channels, float dropProbability, int? seed = null)
    {
        if (channels < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(channels), channels, "at least 1");
        }

        if (!(dropProbability >= 0f && dropProbability < 1f))
        {
            ThrowHelper.ThrowOutOfRange(nameof(dropProbability), dropProbability, "in [0, 1)");
        }

        Channels = channels;
        DropProbability = dropProbability;
        _seed = (ulong)(uint)(seed ?? Random.Shared.Next());
        _keepThreshold = DropoutMask.KeepThreshold(dropProbability);
        _scale = 1f / (1f - dropProbability);
    }

    /// <summary>Number of channels (C of NCHW).</summary>
    public int Channels { get; }

    /// <summary>p, the probability of dropping a channel of a sample.</summary>
    public float DropProbability { get; }

    /// <summary>
    /// Training: <c>y = x * mask / (1 - p)</c> with a fresh mask of one draw per sample and channel; otherwise <c>y = x</c>.
    /// </summary>
    /// <param name="x">Input, row-major NCHW: batch x Channels x spatialSize.</param>
    /// <param name="y">Output, same shape; may be the same memory as <paramref name="x"/>.</param>
    /// <param name="batch">Number of samples (N), at least 1.</param>
    /// <param name="spatialSize">Values per channel per sample (H x W; L for <c>Dropout1d</c>, D x H x W for
    /// <c>Dropout3d</c>), at least 1.</param>
    /// <param name="training">Whether to drop.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> or <paramref name="spatialSize"/> is less than 1,
    /// or their product with Channels does not fit an Int32.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/> or <paramref name="y"/> is not batch x Channels x spatialSize long.</exception>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, int batch, int spatialSize, bool training)
    {
        int length = NchwShape.Length(batch, Channels, spatialSize);
        ThrowHelper.ThrowIfLengthDiffers(length, x.Length, nameof(x));
        ThrowHelper.ThrowIfLengthDiffers(length, y.Length, nameof(y));
        if (!training)
        {
            x.CopyTo(y);
            return;
        }

        _lastKey = DropoutMask.Key(_seed, ++_calls);
        _spatialSize = spatialSize;
        _trainingPass.Record(length);
        NormalizationKernels.DropoutPlanes(x, y, spatialSize, _lastKey, _keepThreshold, _scale);
    }

    /// <summary><c>dx = dy * mask / (1 - p)</c> with the mask of the last training <see cref="Forward"/>, per sample and channel.</summary>
    /// <param name="dy">Upstream gradient, batch x Channels x spatialSize of that pass.</param>
    /// <param name="dx">Receives the gradient, same shape; may be the same memory as <paramref name="dy"/>.</param>
    /// <exception cref="InvalidOperationException">There was no training forward pass since the layer was created.</exception>
    /// <exception cref="ArgumentException">A span's length differs from that pass's.</exception>
    public void Backward(ReadOnlySpan<float> dy, Span<float> dx)
    {
        _trainingPass.CheckBackward(dy, dx);
        NormalizationKernels.DropoutPlanes(dy, dx, _spatialSize, _lastKey, _keepThreshold, _scale);
    }
}
