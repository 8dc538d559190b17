using System.Runtime.CompilerServices;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.Fitting;

/// <summary>
/// The exact mean and variance of all finite values of each unit (<c>WholeDataStatistics</c>): the batch-normalization
/// paper's population statistics, independent of the batch boundaries up to rounding.
/// </summary>
/// <remarks>
/// State per unit: <c>count</c> the finite values, <c>mean</c> their mean relative to the unit's origin (its first
/// batch's shift, one of its values) and <c>second</c> M2, the sum of squared deviations from the mean. Keeping the
/// mean relative to the origin keeps a large common offset (values around 1e6 with a spread of 1) out of every
/// combination step, each of which would otherwise lose about (mean / std) x 2^-53 of the variance. Each batch, and
/// each chunk, is combined with Chan et al.'s pairwise formulas, in any order. With example weights the count is the
/// weight sum, the mean the weighted mean and M2 the weighted sum of squared deviations: the same formulas. The variance is M2 / n (or / (n - 1)
/// when unbiased); a unit without a finite value keeps its initial values.
/// </remarks>
internal sealed class WholeDataRule(bool unbiasedVariance, string? weightColumn = null) : StatisticsRule(unbiasedVariance, weightColumn)
{
    public const byte FormatTag = 3;

    public override int SmallestBatch => 1;

    /// <summary>With example weights the count is the values' weight sum, which need not be whole.</summary>
    public override bool WholeCounts => WeightColumn is null;

    public override bool IsOrderFree => true;

    public override bool IgnoresBatches => true;

    protected override IReadOnlyList<(string Option, string Value)> RuleSettings =>
        [("WholeDataStatistics", "true"), ("UnbiasedRunningVariance", Format(UnbiasedVariance))];

    protected override byte Tag => FormatTag;

    public override (double Mean, double Second) Start(double initialMean, double initialVariance) => (0, 0);

    /// <summary>The mean is kept relative to the unit's origin, its first batch's shift (one of its values).</summary>
    public override bool KeepsOrigin => true;

    public override void Run<TLoop>(ref TLoop loop) => loop.Run(default(Folding));

    public override void Combine(FitState into, FitState later)
    {
        var moments = into.Moments;
        var laterMoments = later.Moments;
        for (int j = 0; j < moments.Length; j++)
        {
            ref var unit = ref moments[j];
            var other = laterMoments[j];
            if (other.Count == 0)
            {
                continue;
            }

            if (unit.Count == 0)
            {
                unit = other;
                continue;
            }

            // The later chunk's mean, moved to this chunk's origin.
            CombineMoments(ref unit, other.Count, (other.Origin - unit.Origin) + other.Mean, other.Second);
        }
    }

    public override void Finish(FitState state, int first, Span<double> mean, Span<double> variance)
    {
        var moments = state.Moments;
        for (int i = 0; i < mean.Length; i++)
        {
            int j = first + i;
            var unit = moments[j];
            double t = unit.Count;
            double divisor = UnbiasedVariance ? t - 1 : t;
            (mean[i], variance[i]) = t == 0
                ? (state.InitialMean[j], state.InitialVariance[j])
                : (unit.Origin + unit.Mean, divisor > 0 ? unit.Second / divisor : 0);
        }
    }

    /// <summary>
    /// Chan et al.'s pairwise update: the unit's (count, mean, M2) becomes the count, mean and sum of squared deviations
    /// of its values together with another disjoint set's (n, mean, M2), that mean relative to the unit's origin.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CombineMoments(ref UnitMoments unit, double otherCount, double otherMean, double otherM2)
    {
        double count = unit.Count;
        double total = count + otherCount;
        double delta = otherMean - unit.Mean;
        unit.Mean += delta * (otherCount / total);
        unit.Second += otherM2 + (delta * delta * (count * otherCount / total));
        unit.Count = total;
    }

    protected override void WriteSettings(BinaryWriter writer) => writer.Write(UnbiasedVariance);

    public static WholeDataRule ReadSettings(ModelBodyReader reader, bool weighted) => new(ReadFlag(reader, "an unbiased-variance flag"), ReadWeightColumn(reader, weighted));

    /// <summary>The rule's per-unit arithmetic (<see cref="IUnitFold"/>).</summary>
    private readonly struct Folding : IUnitFold
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Fold(ref UnitMoments unit, double batchShift, double batchMeanOffset, double batchVariance, double n)
        {
            // Any positive n counts: a whole count of values, or with example weights their weight sum (a batch whose
            // weights are all below 1 still holds its values).
            if (!(n > 0))
            {
                return;
            }

            if (unit.Count == 0)
            {
                unit.Origin = batchShift;
            }

            // The batch's (n, mean relative to the origin, M2 = n * biased variance). Shift and origin are both values of
            // the unit, so their difference is exact for values of one magnitude (Sterbenz), whatever the offset they share.
            CombineMoments(ref unit, n, (batchShift - unit.Origin) + batchMeanOffset, batchVariance * n);
        }

        /// <summary>Chan's update with <paramref name="rows"/> zeros (mean 0, M2 0).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void FoldZeroBatches(ref UnitMoments unit, long batches, long rows)
        {
            if (rows > 0)
            {
                if (unit.Count == 0)
                {
                    unit.Origin = 0;
                }

                CombineMoments(ref unit, rows, -unit.Origin, 0);
            }
        }
    }
}
