namespace Ml.Normalization.Tests.TestSupport;

/// <summary>
/// The fit's running statistics computed independently, in double: each batch's mean and biased variance by two
/// compensated passes over its rows, then the momentum recurrence and bias correction as docs/batch-normalize.md states them, with
/// the momentum the options hold (a double: 0.9 is the double nearest 0.9, as the user wrote it).
/// </summary>
internal static class ReferenceStatistics
{
    public static (double[] Mean, double[] Variance) Running(double[][] rows, int batchSize, double momentum)
    {
        int slots = rows[0].Length;
        var (mean, variance) = (new double[slots], new double[slots]);
        int batches = 0;
        foreach (var batch in rows.Chunk(batchSize).Where(b => b.Length >= 2))
        {
            batches++;
            for (int j = 0; j < slots; j++)
            {
                var (m, v) = Moments(batch.Select(r => r[j]).ToArray());
                mean[j] = (momentum * mean[j]) + ((1 - momentum) * m);
                variance[j] = (momentum * variance[j]) + ((1 - momentum) * v);
            }
        }

        double correction = 1 - Math.Pow(momentum, batches);
        return (mean.Select(m => m / correction).ToArray(), variance.Select(v => v / correction).ToArray());
    }

    /// <summary>
    /// Mean and biased variance to about one rounding, every sum compensated. Both come from the differences d = x - x[0],
    /// which are exact for values of one magnitude: the variance is that of d around d's own mean, since the mean of x
    /// itself can be rounded by half an ulp of x (0.25 at 3e15), and that error squared would bias a two-pass variance.
    /// </summary>
    public static (double Mean, double Variance) Moments(double[] x)
    {
        var d = x.Select(v => v - x[0]).ToArray();
        double meanOfD = CompensatedSum(d) / d.Length;
        return (x[0] + meanOfD, CompensatedSum(d.Select(v => (v - meanOfD) * (v - meanOfD))) / d.Length);
    }

    // Neumaier's summation: the rounding error of each addition is carried and added back at the end.
    private static double CompensatedSum(IEnumerable<double> values)
    {
        double sum = 0, carry = 0;
        foreach (var v in values)
        {
            double t = sum + v;
            carry += Math.Abs(sum) >= Math.Abs(v) ? (sum - t) + v : (v - t) + sum;
            sum = t;
        }

        return sum + carry;
    }
}
