using Ml.Normalization.Persistence;

namespace Ml.Normalization.Fitting;

/// <summary>
/// The exact mean and variance of all finite values of each unit (<c>WholeDataStatistics</c>): the batch-normalization
/// paper's population statistics, independent of the batch boundaries up to rounding.
/// </summary>
/// <remarks>
/// State per unit: <c>count</c> the finite values, <c>mean</c> their mean and <c>second</c> M2, the sum of squared
/// deviations from it. Each batch, and each chunk, is combined with Chan et al.'s pairwise formulas, in any order. The
/// variance is M2 / n (or / (n - 1) when unbiased); a unit without a finite value keeps its initial values.
/// </remarks>
internal sealed class WholeDataRule(bool unbiasedVariance) : StatisticsRule(unbiasedVariance)
{
    public const byte FormatTag = 3;

    public override int SmallestBatch => 1;

    public override bool IsOrderFree => true;

    public override IReadOnlyList<(string Option, string Value)> Settings =>
        [("WholeDataStatistics", "true"), ("UnbiasedRunningVariance", Format(UnbiasedVariance))];

    protected override byte Tag => FormatTag;

    public override (double Mean, double Second) Start(double initialMean, double initialVariance) => (0, 0);

    public override void Fold(ref double count, ref double mean, ref double second, double batchMean, double batchVariance, double n)
    {
        if (n < 1)
        {
            return;
        }

        // The batch's (n, mean, M2 = n * biased variance).
        CombineMoments(ref count, ref mean, ref second, n, batchMean, batchVariance * n);
    }

    /// <summary>Chan's update with <paramref name="rows"/> zeros (mean 0, M2 0).</summary>
    public override void FoldZeroBatches(ref double count, ref double mean, ref double second, long batches, long rows)
    {
        if (rows > 0)
        {
            CombineMoments(ref count, ref mean, ref second, rows, 0, 0);
        }
    }

    public override void Combine(FitState into, FitState later)
    {
        for (int j = 0; j < into.Units; j++)
        {
            double b = later.Count[j];
            if (b != 0)
            {
                CombineMoments(ref into.Count[j], ref into.Mean[j], ref into.Second[j], b, later.Mean[j], later.Second[j]);
            }
        }
    }

    public override void Finish(FitState state, Span<double> mean, Span<double> variance)
    {
        for (int j = 0; j < state.Units; j++)
        {
            double t = state.Count[j];
            double divisor = UnbiasedVariance ? t - 1 : t;
            (mean[j], variance[j]) = t == 0
                ? (state.InitialMean[j], state.InitialVariance[j])
                : (state.Mean[j], divisor > 0 ? state.Second[j] / divisor : 0);
        }
    }

    /// <summary>
    /// Chan et al.'s pairwise update: (<paramref name="count"/>, <paramref name="mean"/>, <paramref name="m2"/>) becomes the
    /// count, mean and sum of squared deviations of its values together with another disjoint set's (n, mean, M2).
    /// </summary>
    public static void CombineMoments(ref double count, ref double mean, ref double m2, double otherCount, double otherMean, double otherM2)
    {
        double total = count + otherCount;
        double delta = otherMean - mean;
        mean += delta * (otherCount / total);
        m2 += otherM2 + (delta * delta * (count * otherCount / total));
        count = total;
    }

    protected override void WriteSettings(BinaryWriter writer) => writer.Write(UnbiasedVariance);

    public static WholeDataRule ReadSettings(ModelBodyReader reader) => new(ReadFlag(reader, "an unbiased-variance flag"));
}
