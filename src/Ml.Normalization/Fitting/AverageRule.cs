using System.Runtime.CompilerServices;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.Fitting;

/// <summary>
/// The plain average of the batches' statistics (<c>Momentum = null</c>): per unit, the mean of the counted batches'
/// means and of their variances, each batch with at least 2 finite values in the unit (with example weights: a weight
/// sum of at least 2) counting once.
/// </summary>
/// <remarks>
/// State per unit: <c>count</c> the counted batches, <c>mean</c> and <c>second</c> the averages so far (the initial
/// values before the first). Chunks combine in any order, weighted by their counted batches; the result equals the
/// batch-by-batch average up to rounding.
/// </remarks>
internal sealed class AverageRule(bool unbiasedVariance, string? weightColumn = null) : StatisticsRule(unbiasedVariance, weightColumn)
{
    public const byte FormatTag = 2;

    public override int SmallestBatch => 2;

    public override bool IsOrderFree => true;

    protected override IReadOnlyList<(string Option, string Value)> RuleSettings =>
        [("WholeDataStatistics", "false"), ("Momentum", "null"), ("UnbiasedRunningVariance", Format(UnbiasedVariance))];

    protected override byte Tag => FormatTag;

    public override (double Mean, double Second) Start(double initialMean, double initialVariance) => (initialMean, initialVariance);

    public override void Run<TLoop>(ref TLoop loop) => loop.Run(new Folding(UnbiasedVariance));

    public override void Combine(FitState into, FitState later)
    {
        var moments = into.Moments;
        var laterMoments = later.Moments;
        for (int j = 0; j < moments.Length; j++)
        {
            ref var unit = ref moments[j];
            var other = laterMoments[j];
            double a = unit.Count, b = other.Count;
            if (b == 0)
            {
                continue;
            }

            double total = a + b;
            unit.Mean = a == 0 ? other.Mean : ((a * unit.Mean) + (b * other.Mean)) / total;
            unit.Second = a == 0 ? other.Second : ((a * unit.Second) + (b * other.Second)) / total;
            unit.Count = total;
        }
    }

    public override void Finish(FitState state, int first, Span<double> mean, Span<double> variance)
    {
        var moments = state.Moments.Slice(first, mean.Length);
        for (int i = 0; i < moments.Length; i++)
        {
            (mean[i], variance[i]) = (moments[i].Mean, moments[i].Second);
        }
    }

    protected override void WriteSettings(BinaryWriter writer) => writer.Write(UnbiasedVariance);

    public static AverageRule ReadSettings(ModelBodyReader reader, bool weighted) => new(ReadFlag(reader, "an unbiased-variance flag"), ReadWeightColumn(reader, weighted));

    /// <summary>The rule's per-unit arithmetic (<see cref="IUnitFold"/>).</summary>
    private readonly struct Folding(bool unbiasedVariance) : IUnitFold
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Fold(ref UnitMoments unit, double batchShift, double batchMeanOffset, double batchVariance, double n)
        {
            if (!RunningBatch(unbiasedVariance, batchShift, batchMeanOffset, batchVariance, n, out double batchMean, out double variance))
            {
                return;
            }

            double t = ++unit.Count;
            unit.Mean += (batchMean - unit.Mean) / t;
            unit.Second += (variance - unit.Second) / t;
        }

        /// <summary>Batches of zeros pull the average toward 0: <c>running *= t / (t + batches)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void FoldZeroBatches(ref UnitMoments unit, long batches, long rows)
        {
            double t = unit.Count;
            double factor = t / (t + batches);
            unit.Mean *= factor;
            unit.Second *= factor;
            unit.Count = t + batches;
        }
    }
}
