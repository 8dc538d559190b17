using System.Numerics;
using System.Numerics.Tensors;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// Channel dropout of consecutive planes (channels first, <c>[planes, planeSize]</c>): plane p is kept, every element
    /// times <paramref name="scale"/>, when <c>DropoutMask.Keep(key, firstPlane + p, keepThreshold)</c>, and is all zero
    /// otherwise: <c>destination[p * planeSize + s] = keep(p) ? x[p * planeSize + s] * scale : 0</c>.
    /// </summary>
    /// <remarks>
    /// One draw per plane, so a plane size of 1 is <see cref="Dropout(ReadOnlySpan{float}, Span{float}, ulong, uint, float, uint)"/>
    /// with the same key, element for element. A stage row <c>[C, H, W]</c> is C planes under the row's key; the layer's
    /// NCHW block is N x C planes under the call's key, plane n * C + c. As for the element-wise kernel, a dropped NaN
    /// becomes 0, a kept one stays NaN, and the backward pass is the same call on the upstream gradient.
    /// <paramref name="destination"/> may be the same memory as <paramref name="x"/>. Kept planes are scaled with
    /// TensorPrimitives (vectorised), dropped ones cleared.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="planeSize"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="x"/>'s length is not a multiple of <paramref name="planeSize"/>,
    /// or <paramref name="destination"/>'s differs from it.</exception>
    public static void DropoutPlanes<T>(ReadOnlySpan<T> x, Span<T> destination, int planeSize, ulong key, uint keepThreshold, T scale, uint firstPlane = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (planeSize < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(planeSize), planeSize, "at least 1");
        }

        if (x.Length % planeSize != 0)
        {
            throw new ArgumentException($"Length of '{nameof(x)}' must be a multiple of the plane size {planeSize}, got {x.Length}.", nameof(x));
        }

        ThrowHelper.ThrowIfLengthDiffers(x.Length, destination.Length, nameof(destination));
        uint plane = firstPlane;
        for (int offset = 0; offset < x.Length; offset += planeSize, plane++)
        {
            var target = destination.Slice(offset, planeSize);
            if (DropoutMask.Keep(key, plane, keepThreshold))
            {
                TensorPrimitives.Multiply(x.Slice(offset, planeSize), scale, target);
            }
            else
            {
                target.Clear();
            }
        }
    }
}
