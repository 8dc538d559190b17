using System.Numerics;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// Copies <paramref name="values"/> to <paramref name="destination"/> and returns whether every value is finite (no
    /// NaN, no infinity): <see cref="AllFinite{T}"/> and a copy in one pass over the values.
    /// </summary>
    /// <remarks>The whole row is copied either way.</remarks>
    /// <exception cref="ArgumentException"><paramref name="destination"/>'s length differs from <paramref name="values"/>'.</exception>
    public static bool CopyIfFinite<T>(ReadOnlySpan<T> values, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ThrowHelper.ThrowIfLengthDiffers(values.Length, destination.Length, nameof(destination));
        ref T xr = ref At(values);
        ref T dr = ref At(destination);
        int j = 0;
        bool finite = true;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            // x - x is 0 for finite x and NaN otherwise; NaN survives the sum, so one comparison at the end decides.
            var acc = Vector<T>.Zero;
            for (; j <= values.Length - Vector<T>.Count; j += Vector<T>.Count)
            {
                var x = Vector.LoadUnsafe(ref xr, (nuint)j);
                x.StoreUnsafe(ref dr, (nuint)j);
                acc += x - x;
            }

            finite = Vector.EqualsAll(acc, Vector<T>.Zero);
        }

        for (; j < values.Length; j++)
        {
            T x = values[j];
            destination[j] = x;
            finite &= T.IsFinite(x);
        }

        return finite;
    }
}
