using System.Numerics;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// The per-plane kernels (one channel plane of an NCHW block, scalar channel parameters) as plain loops written from
/// their documentation, sharing no code with the library: the sums in double by the textbook formulas (compare with a
/// tolerance), the documented summation grouping emulated one element at a time (compare bit for bit: it is what makes
/// the sums independent of the vector width), and the maps in the element type with the documented roundings (bit for bit).
/// </summary>
internal static class PlaneScalarReference
{
    /// <summary>The documented run length and lane count: runs of 1024, lanes of 128 bytes (32 floats, 16 doubles).</summary>
    public const int Run = 1024;

    public static int Lanes<T>()
        where T : unmanaged => 128 / System.Runtime.CompilerServices.Unsafe.SizeOf<T>();

    /// <summary>sum dy and sum dy * xHat in double.</summary>
    public static (double DBeta, double DGamma) GradientSums<T>(T[] dy, T[] xHat)
        where T : IFloatingPointIeee754<T>
    {
        double dBeta = 0, dGamma = 0;
        for (int i = 0; i < dy.Length; i++)
        {
            dBeta += double.CreateTruncating(dy[i]);
            dGamma += double.CreateTruncating(dy[i]) * double.CreateTruncating(xHat[i]);
        }

        return (dBeta, dGamma);
    }

    /// <summary>
    /// The documented grouping of the plane sums of addends a and factors b: per run of <see cref="Run"/> values, lane
    /// i % lanes adds a[i] and fma(a[i], b[i], .) in T in index order; the lanes are added by halving (lane k += lane
    /// k + half for half = lanes / 2 down to 1) and lane 0 of each run goes into a double total.
    /// </summary>
    public static (double Sum, double SumOfProducts) GroupedSums<T>(T[] a, T[] b)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lanes = Lanes<T>();
        double sum = 0, products = 0;
        for (int start = 0; start < a.Length; start += Run)
        {
            var s = new T[lanes];
            var p = new T[lanes];
            for (int i = start; i < Math.Min(a.Length, start + Run); i++)
            {
                int lane = (i - start) % lanes;
                s[lane] += a[i];
                p[lane] = T.FusedMultiplyAdd(a[i], b[i], p[lane]);
            }

            for (int half = lanes / 2; half > 0; half /= 2)
            {
                for (int k = 0; k < half; k++)
                {
                    s[k] += s[k + half];
                    p[k] += p[k + half];
                }
            }

            sum += double.CreateTruncating(s[0]);
            products += double.CreateTruncating(p[0]);
        }

        return (sum, products);
    }

    /// <summary>xHat = ((x - meanHigh) - meanLow) * inverseStd and y = (gamma * xHat) + beta, rounded after each operation.</summary>
    public static (T[] XHat, T[] Y) NormalizeTraining<T>(T[] plane, T meanHigh, T meanLow, T inverseStd, T gamma, T beta)
        where T : IFloatingPointIeee754<T>
    {
        var xHat = new T[plane.Length];
        var y = new T[plane.Length];
        for (int i = 0; i < plane.Length; i++)
        {
            T shifted = plane[i] - meanHigh;
            T centered = shifted - meanLow;
            xHat[i] = centered * inverseStd;
            T scaled = gamma * xHat[i];
            y[i] = scaled + beta;
        }

        return (xHat, y);
    }

    /// <summary>dx = ((dyScale * dy) + (xHatScale * xHat)) + offset, rounded after each operation.</summary>
    public static T[] Gradient<T>(T[] dy, T[] xHat, T dyScale, T xHatScale, T offset)
        where T : IFloatingPointIeee754<T>
    {
        var dx = new T[dy.Length];
        for (int i = 0; i < dy.Length; i++)
        {
            T fromDy = dyScale * dy[i];
            T fromXHat = xHatScale * xHat[i];
            T both = fromDy + fromXHat;
            dx[i] = both + offset;
        }

        return dx;
    }
}
