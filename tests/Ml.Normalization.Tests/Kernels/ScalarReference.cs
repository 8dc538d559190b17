using System.Numerics;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// The kernels' formulas as plain loops, written from the documented math and sharing no code with the library: no
/// shifted sums, no four-row grouping, no fused multiply-add, no vectors. Statistics and gradients are computed in
/// double (compare with a tolerance scaled to the magnitude); the affine maps in the element type with the roundings
/// the kernels document (compare bit for bit).
/// </summary>
internal static class ScalarReference
{
    /// <summary>Per-column mean and biased variance by the two-pass formula, in double.</summary>
    public static (double[] Mean, double[] Variance) BatchMoments<T>(T[] x, int rows, int features)
        where T : IFloatingPointIeee754<T>
    {
        var mean = new double[features];
        var variance = new double[features];
        for (int j = 0; j < features; j++)
        {
            double sum = 0;
            for (int i = 0; i < rows; i++)
            {
                sum += double.CreateTruncating(x[(i * features) + j]);
            }

            mean[j] = sum / rows;
            double squares = 0;
            for (int i = 0; i < rows; i++)
            {
                double d = double.CreateTruncating(x[(i * features) + j]) - mean[j];
                squares += d * d;
            }

            variance[j] = squares / rows;
        }

        return (mean, variance);
    }

    /// <summary>Each value as a double.</summary>
    public static double[] Widen<T>(T[] values)
        where T : IFloatingPointIeee754<T> => Array.ConvertAll(values, double.CreateTruncating);

    /// <summary>
    /// The layer's shifted block sums in their documented grouping, one element at a time (compare bit for bit): with
    /// t = (double)x - shift, rows in fours from firstRow, sum += (t0 + t1) + (t2 + t3) and the squares by four chained
    /// fused multiply-adds, then the last rows one at a time.
    /// </summary>
    public static (double[] Sum, double[] SumOfSquares) ShiftedBlockSums<T>(T[] x, int features, int firstRow, int endRow, double[] shift)
        where T : IFloatingPointIeee754<T>
    {
        var sum = new double[features];
        var squares = new double[features];
        for (int j = 0; j < features; j++)
        {
            double Deviation(int row) => double.CreateTruncating(x[(row * features) + j]) - shift[j];
            int r = firstRow;
            for (; r + 4 <= endRow; r += 4)
            {
                double t0 = Deviation(r), t1 = Deviation(r + 1), t2 = Deviation(r + 2), t3 = Deviation(r + 3);
                sum[j] += (t0 + t1) + (t2 + t3);
                squares[j] = Math.FusedMultiplyAdd(t3, t3, Math.FusedMultiplyAdd(t2, t2, Math.FusedMultiplyAdd(t1, t1, Math.FusedMultiplyAdd(t0, t0, squares[j]))));
            }

            for (; r < endRow; r++)
            {
                double t = Deviation(r);
                sum[j] += t;
                squares[j] = Math.FusedMultiplyAdd(t, t, squares[j]);
            }
        }

        return (sum, squares);
    }

    /// <summary>destination[i, j] = ((x[i, j] - mean[j]) * scale[j]) + offset[j], rounded after each operation.</summary>
    public static T[] Normalize<T>(T[] x, T[] mean, T[] scale, T[] offset)
        where T : IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        var destination = new T[x.Length];
        for (int k = 0; k < x.Length; k++)
        {
            int j = k % features;
            T centered = x[k] - mean[j];
            T scaled = centered * scale[j];
            destination[k] = scaled + offset[j];
        }

        return destination;
    }

    /// <summary>destination[i, j] = (x[i, j] - mean[j]) / std[j], rounded after each operation.</summary>
    public static T[] Standardize<T>(T[] x, T[] mean, T[] std)
        where T : IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        var destination = new T[x.Length];
        for (int k = 0; k < x.Length; k++)
        {
            int j = k % features;
            T centered = x[k] - mean[j];
            destination[k] = centered / std[j];
        }

        return destination;
    }

    /// <summary>xHat = (x - mean) * inverseStd and y = (gamma * xHat) + beta, rounded after each operation.</summary>
    public static (T[] XHat, T[] Y) NormalizeTraining<T>(T[] x, T[] mean, T[] inverseStd, T[] gamma, T[] beta)
        where T : IFloatingPointIeee754<T>
    {
        int features = mean.Length;
        var xHat = new T[x.Length];
        var y = new T[x.Length];
        for (int k = 0; k < x.Length; k++)
        {
            int j = k % features;
            T centered = x[k] - mean[j];
            xHat[k] = centered * inverseStd[j];
            T scaled = gamma[j] * xHat[k];
            y[k] = scaled + beta[j];
        }

        return (xHat, y);
    }

    /// <summary>
    /// The batch-norm backward pass in double, as the seed article states it: dBeta = sum dy, dGamma = sum dy * xHat,
    /// dx = gamma * inverseStd / N * (N * dy - dBeta - xHat * dGamma).
    /// </summary>
    public static (double[] Dx, double[] DGamma, double[] DBeta) BatchNormBackward<T>(T[] dy, T[] xHat, int rows, T[] gamma, T[] inverseStd)
        where T : IFloatingPointIeee754<T>
    {
        int features = gamma.Length;
        var dx = new double[dy.Length];
        var dGamma = new double[features];
        var dBeta = new double[features];
        for (int j = 0; j < features; j++)
        {
            for (int i = 0; i < rows; i++)
            {
                int k = (i * features) + j;
                dBeta[j] += double.CreateTruncating(dy[k]);
                dGamma[j] += double.CreateTruncating(dy[k]) * double.CreateTruncating(xHat[k]);
            }

            double factor = double.CreateTruncating(gamma[j]) * double.CreateTruncating(inverseStd[j]) / rows;
            for (int i = 0; i < rows; i++)
            {
                int k = (i * features) + j;
                dx[k] = factor * ((rows * double.CreateTruncating(dy[k])) - dBeta[j] - (double.CreateTruncating(xHat[k]) * dGamma[j]));
            }
        }

        return (dx, dGamma, dBeta);
    }

    /// <summary>
    /// One row into double shifted sums, skipping NaN and infinities: a slot's shift becomes its first finite value,
    /// then t = x - shift; sum += t; sumOfSquares += t * t; count += 1 (each a double operation, as documented).
    /// </summary>
    public static void AccumulateFiniteMoments<T>(T[] row, double[] shift, double[] sum, double[] sumOfSquares, double[] count)
        where T : IFloatingPointIeee754<T>
    {
        for (int j = 0; j < row.Length; j++)
        {
            double x = double.CreateTruncating(row[j]);
            if (double.IsNaN(x) || double.IsInfinity(x))
            {
                continue;
            }

            if (double.IsNaN(shift[j]))
            {
                shift[j] = x;
            }

            double t = x - shift[j];
            sum[j] += t;
            sumOfSquares[j] += t * t;
            count[j] += 1;
        }
    }

    /// <summary>
    /// Dropout as DropoutMask documents it: element i keeps x[i] * scale when its 32-bit hash reaches the threshold,
    /// hash(i) = lowbias32((i + key_lo) ^ key_hi).
    /// </summary>
    public static T[] Dropout<T>(T[] x, ulong key, uint keepThreshold, T scale, uint firstIndex)
        where T : IFloatingPointIeee754<T>
    {
        var destination = new T[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            uint index = firstIndex + (uint)i;
            uint hash = LowBias32(unchecked(index + (uint)(key & 0xFFFFFFFF)) ^ (uint)(key >> 32));
            destination[i] = hash >= keepThreshold ? x[i] * scale : T.Zero;
        }

        return destination;
    }

    /// <summary>
    /// Channel dropout of planes (channels first): element i belongs to plane firstPlane + i / planeSize, and keeps
    /// x[i] * scale when that plane's hash reaches the threshold.
    /// </summary>
    public static T[] DropoutPlanes<T>(T[] x, int planeSize, ulong key, uint keepThreshold, T scale, uint firstPlane)
        where T : IFloatingPointIeee754<T>
    {
        var destination = new T[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            uint plane = unchecked(firstPlane + (uint)(i / planeSize));
            destination[i] = Hash(key, plane) >= keepThreshold ? x[i] * scale : T.Zero;
        }

        return destination;
    }

    /// <summary>
    /// Channel dropout of interleaved channels (channels last): element i belongs to channel i % channels, and keeps
    /// x[i] * scale when that channel's hash reaches the threshold.
    /// </summary>
    public static T[] DropoutInterleaved<T>(T[] x, int channels, ulong key, uint keepThreshold, T scale)
        where T : IFloatingPointIeee754<T>
    {
        var destination = new T[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            destination[i] = Hash(key, (uint)(i % channels)) >= keepThreshold ? x[i] * scale : T.Zero;
        }

        return destination;
    }

    private static uint Hash(ulong key, uint index) => LowBias32(unchecked(index + (uint)(key & 0xFFFFFFFF)) ^ (uint)(key >> 32));

    // Chris Wellons' lowbias32 integer hash.
    private static uint LowBias32(uint x)
    {
        x ^= x >> 16;
        x = unchecked(x * 0x7FEB352DU);
        x ^= x >> 15;
        x = unchecked(x * 0x846CA68BU);
        x ^= x >> 16;
        return x;
    }
}
