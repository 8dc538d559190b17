using Ml.Normalization.Kernels;

namespace Ml.Normalization.Layers;

/// <summary>
/// The length of a layer's last training Forward, the pass its Backward takes the gradients of: every layer refuses a
/// Backward before any training pass, or with spans that do not fit that pass, in the same words. Test-mode passes do
/// not change it.
/// </summary>
internal struct TrainingPass
{
    private bool _recorded;
    private int _length;

    /// <summary>Records a training Forward over <paramref name="length"/> values.</summary>
    public void Record(int length)
    {
        _length = length;
        _recorded = true;
    }

    /// <summary>The length of the last training Forward, once there was one and <paramref name="dy"/> and
    /// <paramref name="dx"/> have its length.</summary>
    /// <exception cref="InvalidOperationException">There was no training Forward.</exception>
    /// <exception cref="ArgumentException"><paramref name="dy"/> or <paramref name="dx"/> is not that pass's length.</exception>
    public readonly int CheckBackward(ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (!_recorded)
        {
            throw new InvalidOperationException("Backward needs a preceding Forward(training: true); there was none since the layer was created.");
        }

        ThrowHelper.ThrowIfLengthDiffers(_length, dy.Length, nameof(dy));
        ThrowHelper.ThrowIfLengthDiffers(_length, dx.Length, nameof(dx));
        return _length;
    }
}
