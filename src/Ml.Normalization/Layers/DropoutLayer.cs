using Ml.Normalization.Kernels;

namespace Ml.Normalization.Layers;

/// <summary>
/// Inverted dropout, as in the seed article: in training each value is zeroed with probability
/// <see cref="DropProbability"/> and kept values are scaled by 1 / (1 - p), so the expected output equals the
/// input; at test time the layer is the identity.
/// </summary>
/// <remarks>
/// Masks come from a counter-based generator keyed on (seed, forward-call number), so the same seed gives the same
/// sequence of masks run after run, and <see cref="Backward"/> recomputes the last mask instead of storing it:
/// the layer allocates nothing after construction. Not thread-safe.
/// </remarks>
public sealed unsafe class DropoutLayer
{
    /// <summary>Calls over fewer values than this stay on the calling thread (measured, docs/dropout.md).</summary>
    internal const int ParallelThreshold = 1 << 19;

    private readonly DropoutJob _job = new();
    private ChunkRunner? _runner;
    private int _maxDegreeOfParallelism = Environment.ProcessorCount;
    private readonly ulong _seed;
    private readonly uint _keepThreshold;
    private readonly float _scale;
    private ulong _calls;
    private ulong _lastKey;
    private TrainingPass _trainingPass;

    /// <summary>Creates a dropout layer.</summary>
    /// <param name="dropProbability">
    /// p, the probability of dropping a unit, in [0, 1); resolved to 2^-32 (each unit is dropped when its 32-bit draw is
    /// below round(p * 2^32)), so the expected output equals the input at every p.
    /// </param>
    /// <param name="seed">Seed of the masks; null draws one at random.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dropProbability"/> is outside [0, 1) or NaN.</exception>
    public DropoutLayer(float dropProbability, int? seed = null)
    {
        if (!(dropProbability >= 0f && dropProbability < 1f))
        {
            ThrowHelper.ThrowOutOfRange(nameof(dropProbability), dropProbability, "in [0, 1)");
        }

        DropProbability = dropProbability;
        _seed = (ulong)(uint)(seed ?? Random.Shared.Next());
        _keepThreshold = DropoutMask.KeepThreshold(dropProbability);
        _scale = 1f / (1f - dropProbability);
    }

    /// <summary>p, the probability of dropping a unit.</summary>
    public float DropProbability { get; }

    /// <summary>
    /// The most threads a call uses, the calling thread included; default <see cref="Environment.ProcessorCount"/>,
    /// as PyTorch uses all cores. Calls over fewer than 524288 values stay on the calling thread whatever it is. Each
    /// element's mask depends on its index alone, so the masks and outputs are the same bit for bit at every value.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        set => _maxDegreeOfParallelism = ThrowHelper.ThreadCount(value);
    }

    /// <summary>Training: <c>y = x * mask / (1 - p)</c> with a fresh mask; otherwise <c>y = x</c>.</summary>
    /// <param name="x">Input, any length.</param>
    /// <param name="y">Output, same length; may be the same memory as <paramref name="x"/>.</param>
    /// <param name="training">Whether to drop.</param>
    /// <exception cref="ArgumentException"><paramref name="y"/>'s length differs from <paramref name="x"/>'s.</exception>
    public void Forward(ReadOnlySpan<float> x, Span<float> y, bool training)
    {
        ThrowHelper.ThrowIfLengthDiffers(x.Length, y.Length, nameof(y));
        if (!training)
        {
            x.CopyTo(y);
            return;
        }

        _lastKey = DropoutMask.Key(_seed, ++_calls);
        _trainingPass.Record(x.Length);
        Run(x, y);
    }

    /// <summary><c>dx = dy * mask / (1 - p)</c> with the mask of the last training <see cref="Forward"/>.</summary>
    /// <param name="dy">Upstream gradient, the length of that pass.</param>
    /// <param name="dx">Receives the gradient; may be the same memory as <paramref name="dy"/>.</param>
    /// <exception cref="InvalidOperationException">There was no training forward pass since the layer was created.</exception>
    /// <exception cref="ArgumentException">A span's length differs from that pass's.</exception>
    public void Backward(ReadOnlySpan<float> dy, Span<float> dx)
    {
        _trainingPass.CheckBackward(dy, dx);
        Run(dy, dx);
    }

    // The mask of _lastKey over source into destination: on the calling thread below the threshold, in chunks on up to
    // MaxDegreeOfParallelism threads above it.
    private void Run(ReadOnlySpan<float> source, Span<float> destination)
    {
        if (source.Length < ParallelThreshold || _maxDegreeOfParallelism == 1)
        {
            NormalizationKernels.Dropout(source, destination, _lastKey, _keepThreshold, _scale);
            return;
        }

        fixed (float* from = source, to = destination)
        {
            _job.Source = from;
            _job.Destination = to;
            _job.Length = source.Length;
            _job.Key = _lastKey;
            _job.KeepThreshold = _keepThreshold;
            _job.Scale = _scale;
            (_runner ??= new ChunkRunner()).Run(_job, _job.Chunks, _maxDegreeOfParallelism);
        }
    }
}
