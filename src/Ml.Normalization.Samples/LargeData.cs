using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Samples;

/// <summary>
/// What the generator draws in one slot: its distribution and true mean, standard deviation and kurtosis
/// (E[(x - mean)^4] / sd^4, for the standard error of a variance estimate).
/// </summary>
public sealed record SlotTruth(int Slot, string Distribution, double Mean, double StandardDeviation, double Kurtosis)
{
    public double Variance => StandardDeviation * StandardDeviation;
}

/// <summary>One generated row: a vector of <see cref="LargeData.Slots"/> Single values.</summary>
public sealed class LargeRow
{
    [VectorType(LargeData.Slots)]
    public float[] Features { get; set; } = new float[LargeData.Slots];
}

/// <summary>
/// The synthetic data set of the <c>large</c> run: independent rows, each slot with its own distribution (normal,
/// uniform, exponential or a two-bump mixture), mean (from -1400 to 1300) and standard deviation (0.01 to 100), all
/// known exactly, so the fitted statistics can be checked against the truth. Seeded: the same rows on every run.
/// </summary>
public static class LargeData
{
    public const int Slots = 32;

    /// <summary>
    /// Goes into the cache file's name: change it whenever <see cref="Rows"/> draws different values, so an old file
    /// is not mistaken for the new data.
    /// </summary>
    public const string FormatTag = "f32x32-gen1";

    public static IReadOnlyList<SlotTruth> Truth { get; } = [.. Enumerable.Range(0, Slots).Select(MakeTruth)];

    /// <summary>
    /// The rows as a streaming IDataView: every cursor replays the generator from the seed and builds each row as it
    /// is read, into one reused row object, so memory does not grow with the row count. <c>rowsMade</c> is called with
    /// the rows made so far every 65,536 rows and once at the end (for a progress bar).
    /// </summary>
    public static IDataView Generate(MLContext ml, long rows, int seed, Action<long>? rowsMade = null) =>
        ml.Data.LoadFromEnumerable(Rows(rows, seed, rowsMade));

    /// <summary>The rows one by one; the same <see cref="LargeRow"/> (and array) comes back each time, refilled.</summary>
    public static IEnumerable<LargeRow> Rows(long rows, int seed, Action<long>? rowsMade = null)
    {
        var random = new SplitMix64((ulong)seed);
        var row = new LargeRow();
        var values = row.Features;
        var truth = Truth;
        for (long r = 0; r < rows; r++)
        {
            for (int j = 0; j < Slots; j++)
            {
                // Each draw has mean 0 and variance 1; the slot's truth shifts and scales it.
                double z = (j % 4) switch
                {
                    0 => random.NextGaussian(),
                    1 => (random.NextDouble() * 2 - 1) * Math.Sqrt(3),
                    2 => -Math.Log(1 - random.NextDouble()) - 1,
                    _ => (random.NextDouble() < 0.5 ? -0.8 : 0.8) + 0.6 * random.NextGaussian(),
                };
                values[j] = (float)(truth[j].Mean + truth[j].StandardDeviation * z);
            }

            if ((r + 1) % 65536 == 0)
            {
                rowsMade?.Invoke(r + 1);
            }

            yield return row;
        }

        rowsMade?.Invoke(rows);
    }

    private static SlotTruth MakeTruth(int j)
    {
        double mean = (j - 16) * Math.Pow(10, j % 3);
        double sd = Math.Pow(10, (j % 5) - 2);
        return (j % 4) switch
        {
            0 => new SlotTruth(j, "normal", mean, sd, 3),
            1 => new SlotTruth(j, "uniform", mean, sd, 1.8),
            2 => new SlotTruth(j, "exponential", mean, sd, 9),
            // 0.8^4 + 6 * 0.8^2 * 0.6^2 + 3 * 0.6^4
            _ => new SlotTruth(j, "two bumps", mean, sd, 0.4096 + 1.3824 + 0.3888),
        };
    }

    /// <summary>A small, fast, seeded generator (SplitMix64), with Box-Muller normals.</summary>
    private struct SplitMix64(ulong seed)
    {
        private ulong _state = seed;
        private double _spare = double.NaN;

        public ulong Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        /// <summary>Uniform in [0, 1).</summary>
        public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

        public double NextGaussian()
        {
            if (!double.IsNaN(_spare))
            {
                double spare = _spare;
                _spare = double.NaN;
                return spare;
            }

            double radius = Math.Sqrt(-2 * Math.Log(1 - NextDouble()));
            var (sin, cos) = Math.SinCos(2 * Math.PI * NextDouble());
            _spare = radius * sin;
            return radius * cos;
        }
    }
}
