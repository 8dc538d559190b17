using System.Numerics;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The standardization of interleaved channels (channels last, <c>[positions, channels]</c>), <c>channels = mean.Length</c>:
    /// <c>destination[i] = (x[i] - mean[i % channels]) / std[i % channels]</c>.
    /// </summary>
    /// <remarks>
    /// <see cref="Standardize{T}(ReadOnlySpan{T}, ReadOnlySpan{T}, ReadOnlySpan{T}, Span{T})"/>'s two correctly rounded
    /// operations with the parameters repeating along the span, walked as one row (<see cref="MapInterleaved{T, TOperator}"/>).
    /// Any length: a last, partial period takes its first channels. <paramref name="destination"/> may be the same
    /// memory as <paramref name="x"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">mean is empty, std is not as long as mean, or destination not as long as x.</exception>
    public static void StandardizeInterleaved<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> std, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = mean.Length;
        if (channels < 1)
        {
            throw new ArgumentException("The parameters must have at least one channel.", nameof(mean));
        }

        ThrowHelper.ThrowIfLengthDiffers(channels, std.Length, nameof(std));
        ThrowHelper.ThrowIfLengthDiffers(x.Length, destination.Length, nameof(destination));
        ref T dr = ref At(destination);
        int cycle = InterleavedCycle<T>(channels, x.Length);
        if (cycle == 0)
        {
            MapInterleavedByPeriod<T, StandardizeOperator<T>>(new StandardizeOperator<T>(ref At(x), ref At(mean), ref At(std), ref dr), x.Length, channels, ref dr);
            return;
        }

        int repeatedLength = cycle + Vector<T>.Count;
        Span<T> repeated = stackalloc T[2 * repeatedLength];
        Span<T> repeatedMean = repeated[..repeatedLength], repeatedStd = repeated[repeatedLength..];
        RepeatChannels(mean, repeatedMean);
        RepeatChannels(std, repeatedStd);
        MapInterleaved<T, StandardizeOperator<T>>(new StandardizeOperator<T>(ref At(x), ref At(repeatedMean), ref At(repeatedStd), ref dr), x.Length, cycle, ref dr);
    }
}
