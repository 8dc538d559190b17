using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    // Channel counts up to this take their gains from the stack; more, from the array pool.
    private const int StackGains = 256;

    /// <summary>
    /// Channel dropout of interleaved channels (channels last, <c>[positions, channels]</c>): channel c is kept, every
    /// element times <paramref name="scale"/>, when <c>DropoutMask.Keep(key, c, keepThreshold)</c>, and is all zero
    /// otherwise: <c>destination[s * channels + c] = keep(c) ? x[s * channels + c] * scale : 0</c>.
    /// </summary>
    /// <remarks>
    /// The same draws as <see cref="DropoutPlanes{T}"/> from plane 0, so a row has the same channel mask in either layout,
    /// and one position (<c>x.Length == channels</c>) is the element-wise <c>Dropout</c> with the same key. Each channel is
    /// drawn once per call, into a gain per channel (scale, or 0 when dropped) repeated for one vector past the last
    /// channel, so the vector at element i takes its gains from one load at <c>i % channels</c>, for any channel count.
    /// A dropped NaN becomes 0, a kept one stays NaN. <paramref name="destination"/> may be the same memory as
    /// <paramref name="x"/>. <paramref name="scale"/> must not be 0 (it marks a dropped channel; dropout's scale is at least 1).
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channels"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/>'s length is not a multiple of <paramref name="channels"/>,
    /// or <paramref name="destination"/>'s differs from it.</exception>
    public static void DropoutInterleaved<T>(ReadOnlySpan<T> x, Span<T> destination, int channels, ulong key, uint keepThreshold, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (channels < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(channels), channels, "at least 1");
        }

        if (x.Length % channels != 0)
        {
            throw new ArgumentException($"Length of '{nameof(x)}' must be a multiple of the channel count {channels}, got {x.Length}.", nameof(x));
        }

        ThrowHelper.ThrowIfLengthDiffers(x.Length, destination.Length, nameof(destination));
        bool vectors = Vector.IsHardwareAccelerated && (typeof(T) == typeof(float) || typeof(T) == typeof(double)) && x.Length >= Vector<T>.Count;
        int width = vectors ? Vector<T>.Count : 0;
        int gainLength = channels + width;
        T[]? rented = null;
        Span<T> gains = gainLength <= StackGains
            ? stackalloc T[StackGains]
            : (rented = ArrayPool<T>.Shared.Rent(gainLength));
        try
        {
            for (int c = 0; c < channels; c++)
            {
                gains[c] = DropoutMask.Keep(key, (uint)c, keepThreshold) ? scale : T.Zero;
            }

            for (int k = channels; k < gainLength; k++)
            {
                gains[k] = gains[k - channels];
            }

            ref T xr = ref At(x);
            ref T dr = ref At(destination);
            ref T gr = ref At(gains);
            int i = 0;
            if (vectors)
            {
                int phase = 0; // i % channels
                for (; i <= x.Length - width; i += width)
                {
                    var gain = Vector.LoadUnsafe(ref gr, (nuint)phase);
                    var kept = Vector.LoadUnsafe(ref xr, (nuint)i) * gain;
                    Vector.ConditionalSelect(Vector.Equals(gain, Vector<T>.Zero), Vector<T>.Zero, kept).StoreUnsafe(ref dr, (nuint)i);
                    phase += width;
                    if (phase >= channels)
                    {
                        phase %= channels;
                    }
                }
            }

            for (; i < x.Length; i++)
            {
                T gain = Unsafe.Add(ref gr, i % channels);
                Unsafe.Add(ref dr, i) = gain == T.Zero ? T.Zero : Unsafe.Add(ref xr, i) * gain;
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<T>.Shared.Return(rented);
            }
        }
    }
}
