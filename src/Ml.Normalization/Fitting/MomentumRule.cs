using System.Runtime.CompilerServices;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.Fitting;

/// <summary>
/// The seed article's running statistics: per unit, <c>running = m * running + (1 - m) * batch</c> from the initial
/// values, over the batches with at least 2 finite values there (with example weights: a weight sum of at least 2); with bias correction the result is
/// <c>(running - m^t * initial) / (1 - m^t)</c>, t the unit's counted batches (as Adam does), which is the batches' own
/// weighted average whatever the initial values.
/// </summary>
/// <remarks>
/// State per unit: <c>count</c> the counted batches t, <c>mean</c> and <c>second</c> the raw running mean and variance
/// (before bias correction). Chunks combine in row order: a chunk of t2 batches fitted from initial values I gives
/// <c>R2 = m^t2 * I + S2</c>, and following a chunk whose state is R1 it gives <c>m^t2 * R1 + S2</c> for the two
/// together, so <c>R = m^t2 * R1 + (R2 - m^t2 * I)</c> and t = t1 + t2. In exact arithmetic that is the fit of the
/// concatenation; in double it differs from it by rounding only (a few units in the last place, pinned by tests at
/// 1e-12 relative).
/// </remarks>
internal sealed class MomentumRule : StatisticsRule
{
    public const byte FormatTag = 1;
    private const int PowerCacheSize = 1024;

    private readonly double _momentum;
    private double[]? _powers; // m^g for the sparse fit's gaps, made on first use

    public MomentumRule(double momentum, bool biasCorrection, bool unbiasedVariance, string? weightColumn = null)
        : base(unbiasedVariance, weightColumn)
    {
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "A momentum must be in [0, 1).");
        }

        _momentum = momentum;
        BiasCorrection = biasCorrection;
    }

    public double Momentum => _momentum;

    public bool BiasCorrection { get; }

    public override int SmallestBatch => 2;

    public override bool IsOrderFree => false;

    protected override IReadOnlyList<(string Option, string Value)> RuleSettings =>
        [("WholeDataStatistics", "false"), ("Momentum", Format(_momentum)), ("BiasCorrection", Format(BiasCorrection)), ("UnbiasedRunningVariance", Format(UnbiasedVariance))];

    protected override byte Tag => FormatTag;

    public override (double Mean, double Second) Start(double initialMean, double initialVariance) => (initialMean, initialVariance);

    public override void Run<TLoop>(ref TLoop loop) => loop.Run(new Folding(this));

    public override void Combine(FitState into, FitState later)
    {
        var decay = new Decay(_momentum);
        var moments = into.Moments;
        var laterMoments = later.Moments;
        for (int j = 0; j < moments.Length; j++)
        {
            ref var unit = ref moments[j];
            var other = laterMoments[j];
            double t2 = other.Count;
            if (t2 == 0)
            {
                continue;
            }

            if (unit.Count == 0 && into.InitialMean[j] == later.InitialMean[j] && into.InitialVariance[j] == later.InitialVariance[j])
            {
                // Nothing before, from the same start: the later chunk's state is the concatenation's, bit for bit.
                unit = other;
                continue;
            }

            double d = decay.Of(t2);
            unit.Mean = (d * unit.Mean) + (other.Mean - (d * later.InitialMean[j]));
            unit.Second = (d * unit.Second) + (other.Second - (d * later.InitialVariance[j]));
            unit.Count += t2;
        }
    }

    public override void Finish(FitState state, int first, Span<double> mean, Span<double> variance)
    {
        var decay = new Decay(_momentum);
        var moments = state.Moments;
        for (int i = 0; i < mean.Length; i++)
        {
            int j = first + i;
            var unit = moments[j];
            double m = unit.Mean, v = unit.Second, t = unit.Count;
            if (BiasCorrection && t > 0)
            {
                double d = decay.Of(t);
                m = (m - (d * state.InitialMean[j])) / (1 - d);
                v = (v - (d * state.InitialVariance[j])) / (1 - d);
            }

            mean[i] = m;
            variance[i] = v;
        }
    }

    protected override void WriteSettings(BinaryWriter writer)
    {
        writer.Write(_momentum);
        writer.Write(BiasCorrection);
        writer.Write(UnbiasedVariance);
    }

    public static MomentumRule ReadSettings(ModelBodyReader reader, bool weighted)
    {
        double momentum = reader.ReadDouble();
        if (!(momentum >= 0 && momentum < 1))
        {
            throw reader.Corrupt($"a momentum is {momentum}, expected [0, 1)");
        }

        return new MomentumRule(momentum, ReadFlag(reader, "a bias-correction flag"), ReadFlag(reader, "an unbiased-variance flag"), ReadWeightColumn(reader, weighted));
    }

    private double[] Powers => _powers ??= MakePowers(_momentum);

    private static double[] MakePowers(double momentum)
    {
        var powers = new double[PowerCacheSize];
        powers[0] = 1;
        for (int g = 1; g < PowerCacheSize; g++)
        {
            powers[g] = Math.Pow(momentum, g);
        }

        return powers;
    }

    /// <summary>The rule's per-unit arithmetic (<see cref="IUnitFold"/>).</summary>
    private readonly struct Folding(MomentumRule rule) : IUnitFold
    {
        private readonly double _momentum = rule._momentum;
        private readonly bool _unbiasedVariance = rule.UnbiasedVariance;
        private readonly double[] _powers = rule.Powers;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Fold(ref UnitMoments unit, double batchShift, double batchMeanOffset, double batchVariance, double n)
        {
            if (!RunningBatch(_unbiasedVariance, batchShift, batchMeanOffset, batchVariance, n, out double batchMean, out double variance))
            {
                return;
            }

            double m = _momentum;
            unit.Count++;
            unit.Mean = (m * unit.Mean) + ((1 - m) * batchMean);
            unit.Second = (m * unit.Second) + ((1 - m) * variance);
        }

        /// <summary><c>running *= m^batches</c>: one multiplication instead of a rounding per batch (relative difference at most about (batches + 1) * 2^-53).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void FoldZeroBatches(ref UnitMoments unit, long batches, long rows)
        {
            double factor = (ulong)batches < (ulong)_powers.Length ? _powers[batches] : Math.Pow(_momentum, batches);
            unit.Mean *= factor;
            unit.Second *= factor;
            unit.Count += batches;
        }
    }

    /// <summary>m^t for the units of one pass, which mostly share their counted batches: one Pow per distinct t.</summary>
    private struct Decay(double momentum)
    {
        private double _t = double.NaN;
        private double _power = double.NaN;

        public double Of(double t)
        {
            if (t != _t)
            {
                (_t, _power) = (t, Math.Pow(momentum, t));
            }

            return _power;
        }
    }
}
