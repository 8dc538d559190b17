using System.Numerics;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The affine map of interleaved channels (channels last, <c>[positions, channels]</c>), <c>channels = mean.Length</c>:
    /// <c>destination[i] = (x[i] - mean[i % channels]) * scale[i % channels] + offset[i % channels]</c>.
    /// </summary>
    /// <remarks>
    /// <see cref="Normalize{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>'s
    /// operations (the mean subtracted, then the scale, then the offset, three roundings) with the parameters repeating
    /// along the span, walked as one row (<see cref="MapInterleaved{T, TOperator}"/>). Any length: a last, partial
    /// period takes its first channels. NaN in <paramref name="x"/> gives NaN at the same place.
    /// <paramref name="destination"/> may be the same memory as <paramref name="x"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">mean is empty, scale or offset is not as long as mean, or destination not as long as x.</exception>
    public static void NormalizeInterleaved<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> scale, ReadOnlySpan<T> offset, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = mean.Length;
        if (channels < 1)
        {
            throw new ArgumentException("The parameters must have at least one channel.", nameof(mean));
        }

        CheckNormalizeArguments(x.Length, x.Length, channels, scale.Length, offset.Length, destination.Length);
        ref T dr = ref At(destination);
        int cycle = InterleavedCycle<T>(channels, x.Length);
        if (cycle == 0)
        {
            MapInterleavedByPeriod<T, NormalizeOperator<T>>(new NormalizeOperator<T>(ref At(x), ref At(mean), ref At(scale), ref At(offset), ref dr), x.Length, channels, ref dr);
            return;
        }

        int repeatedLength = cycle + Vector<T>.Count;
        Span<T> repeated = stackalloc T[3 * repeatedLength];
        Span<T> repeatedMean = repeated[..repeatedLength], repeatedScale = repeated.Slice(repeatedLength, repeatedLength), repeatedOffset = repeated[(2 * repeatedLength)..];
        RepeatChannels(mean, repeatedMean);
        RepeatChannels(scale, repeatedScale);
        RepeatChannels(offset, repeatedOffset);
        MapInterleaved<T, NormalizeOperator<T>>(new NormalizeOperator<T>(ref At(x), ref At(repeatedMean), ref At(repeatedScale), ref At(repeatedOffset), ref dr), x.Length, cycle, ref dr);
    }
}
