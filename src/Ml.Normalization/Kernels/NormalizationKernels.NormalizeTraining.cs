using System.Numerics;
using System.Runtime.InteropServices;

namespace Ml.Normalization.Kernels;

internal static partial class NormalizationKernels
{
    /// <summary>
    /// The training-mode forward pass of one row, keeping the normalized input for the backward pass:
    /// <c>xHat[j] = (x[j] - mean[j]) * inverseStd[j]</c> and <c>destination[j] = gamma[j] * xHat[j] + beta[j]</c>.
    /// </summary>
    /// <remarks>NaN in <paramref name="x"/> gives NaN at the same place in both outputs.</remarks>
    /// <exception cref="ArgumentException">A parameter's length differs from <c>x.Length</c>.</exception>
    public static void NormalizeTraining<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> mean, ReadOnlySpan<T> inverseStd, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> xHat, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNormalizeArguments(x.Length, mean.Length, inverseStd.Length, gamma.Length, destination.Length);
        ThrowHelper.ThrowIfLengthDiffers(x.Length, beta.Length, nameof(beta));
        ThrowHelper.ThrowIfLengthDiffers(x.Length, xHat.Length, nameof(xHat));
        int j = 0;
        if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
        {
            var xv = MemoryMarshal.Cast<T, Vector<T>>(x);
            var mv = MemoryMarshal.Cast<T, Vector<T>>(mean);
            var sv = MemoryMarshal.Cast<T, Vector<T>>(inverseStd);
            var gv = MemoryMarshal.Cast<T, Vector<T>>(gamma);
            var bv = MemoryMarshal.Cast<T, Vector<T>>(beta);
            var hv = MemoryMarshal.Cast<T, Vector<T>>(xHat);
            var dv = MemoryMarshal.Cast<T, Vector<T>>(destination);
            for (int v = 0; v < xv.Length; v++)
            {
                var h = (xv[v] - mv[v]) * sv[v];
                hv[v] = h;
                dv[v] = (gv[v] * h) + bv[v];
            }

            j = xv.Length * Vector<T>.Count;
        }

        for (; j < x.Length; j++)
        {
            T h = (x[j] - mean[j]) * inverseStd[j];
            xHat[j] = h;
            destination[j] = (gamma[j] * h) + beta[j];
        }
    }
}
