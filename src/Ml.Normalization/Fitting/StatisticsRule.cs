using System.Globalization;
using System.Runtime.CompilerServices;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.Fitting;

/// <summary>
/// How a fit turns the statistics of its mini-batches into each unit's (slot's or channel's) statistics: one type per
/// rule (<see cref="MomentumRule"/>, <see cref="AverageRule"/>, <see cref="WholeDataRule"/>). A rule owns everything that
/// depends on it: folding one batch into a unit's state, folding batches in which a unit was 0 throughout (the sparse
/// fit), finishing the state into a mean and a variance, combining the states of two chunks of rows (continue, merge),
/// telling which of its settings another rule differs in, and writing its settings into the model.
/// </summary>
/// <remarks>
/// <para>The state a rule works on is one record per unit (<see cref="UnitMoments"/>, in <see cref="FitState.Moments"/>):
/// <c>count</c>, <c>mean</c>, <c>second</c> and, for a rule that keeps one, <c>origin</c>, whose meaning is the rule's,
/// and the unit's initial mean and variance, which stand for a unit that never had a counted batch.</para>
/// <para>Folding is combining with the state of a single batch. Fitting a column, continuing a fit and merging the
/// fits of consecutive chunks are therefore one operation; a rule whose result does not depend on the order of the
/// batches (<see cref="IsOrderFree"/>) combines chunks in any order.</para>
/// <para>A new rule is a new subclass and one line in <see cref="Read"/>.</para>
/// </remarks>
internal abstract class StatisticsRule
{
    /// <summary>The model format's flag on a rule's tag: the rule's settings are followed by its example-weight column's name.</summary>
    private const byte WeightedFlag = 0x80;

    protected StatisticsRule(bool unbiasedVariance, string? weightColumn)
    {
        UnbiasedVariance = unbiasedVariance;
        WeightColumn = weightColumn;
    }

    /// <summary>Whether variances are divided by n - 1 (per batch, or over all values for whole-data statistics).</summary>
    public bool UnbiasedVariance { get; }

    /// <summary>
    /// The example-weight column the fit read (<c>ExampleWeightColumnName</c>), null for an unweighted fit. With weights,
    /// the <c>n</c> a rule is given for a batch is the weight sum of the unit's finite values there, not their count:
    /// frequency weights, so a weight of 2 is the row twice and 0 leaves the row out.
    /// </summary>
    public string? WeightColumn { get; }

    /// <summary>
    /// A batch counts in a unit when it has at least this many finite values there (with weights: when their weight sum
    /// is at least this, as that many rows of weight 1 would be); also the smallest final batch a fit closes.
    /// </summary>
    public abstract int SmallestBatch { get; }

    /// <summary>Whether the state's counts are whole numbers (a model holding another count is corrupt).</summary>
    public virtual bool WholeCounts => true;

    /// <summary>Whether chunks combine in any order (otherwise in row order only).</summary>
    public abstract bool IsOrderFree { get; }

    /// <summary>
    /// Whether the result does not depend on how rows are grouped into batches either, so rows may be read in any order
    /// and split among threads row by row (a source's own cursor set); only statistics over all values.
    /// </summary>
    public virtual bool IgnoresBatches => false;

    /// <summary>
    /// The options this rule stands for, as the user sets them (<c>BatchNormalizingEstimator.Options</c>' names), in an
    /// order every rule shares: the first one two rules differ in names their difference.
    /// </summary>
    public IReadOnlyList<(string Option, string Value)> Settings =>
        [.. RuleSettings, ("ExampleWeightColumnName", WeightColumn is null ? "null" : $"'{WeightColumn}'")];

    /// <summary>The settings of <see cref="Settings"/> that are the rule's own (all but the example-weight column).</summary>
    protected abstract IReadOnlyList<(string Option, string Value)> RuleSettings { get; }

    /// <summary>The state of a unit before any batch: what <c>mean</c> and <c>second</c> start at, from its initial values.</summary>
    public abstract (double Mean, double Second) Start(double initialMean, double initialVariance);

    /// <summary>
    /// Whether the rule keeps a per-unit origin (<see cref="UnitMoments.Origin"/>) that its mean is relative to, so that a
    /// large common offset does not round away the digits its variance needs.
    /// </summary>
    public virtual bool KeepsOrigin => false;

    /// <summary>
    /// Runs <paramref name="loop"/> with this rule's per-unit arithmetic as a struct (<see cref="IUnitFold"/>), which the
    /// loop's code inlines: one virtual call for the whole loop.
    /// </summary>
    public abstract void Run<TLoop>(ref TLoop loop)
        where TLoop : struct, IUnitFoldLoop, allows ref struct;

    /// <summary>
    /// Combines <paramref name="later"/>, the state of a chunk of rows, into <paramref name="into"/>, the state of the
    /// rows before it (any rows, for an order-free rule): afterwards <paramref name="into"/> is the state of both.
    /// <paramref name="later"/> was made by a rule of the same settings.
    /// </summary>
    public abstract void Combine(FitState into, FitState later);

    /// <summary>
    /// Writes the mean and variance of units <paramref name="first"/> to <paramref name="first"/> + <c>mean.Length</c> - 1
    /// from <paramref name="state"/> (unit <c>first + i</c> at <c>i</c>); a unit without a counted batch gets its initial values.
    /// </summary>
    public abstract void Finish(FitState state, int first, Span<double> mean, Span<double> variance);

    /// <summary>The first setting in which <paramref name="other"/> differs from this rule, or null when they are the same rule.</summary>
    public (string Option, string Mine, string Other)? Difference(StatisticsRule other)
    {
        var theirs = other.Settings;
        foreach (var (option, value) in Settings)
        {
            string? otherValue = null;
            foreach (var (o, v) in theirs)
            {
                if (o == option)
                {
                    otherValue = v;
                }
            }

            if (otherValue != value)
            {
                return (option, value, otherValue ?? "not used");
            }
        }

        return null;
    }

    /// <summary>The rule's tag in the model format.</summary>
    protected abstract byte Tag { get; }

    /// <summary>
    /// Writes the rule: its tag, then its settings; a weighted rule's tag has the flag 0x80 and its settings are followed
    /// by the weight column's name, so an unweighted rule writes the bytes it always did.
    /// </summary>
    public void Write(BinaryWriter writer)
    {
        writer.Write(WeightColumn is null ? Tag : (byte)(Tag | WeightedFlag));
        WriteSettings(writer);
        if (WeightColumn is not null)
        {
            writer.Write(WeightColumn);
        }
    }

    protected abstract void WriteSettings(BinaryWriter writer);

    /// <summary>Reads a rule that <see cref="Write"/> wrote: the registration of every rule.</summary>
    public static StatisticsRule Read(ModelBodyReader reader)
    {
        byte tag = reader.ReadByte();
        bool weighted = (tag & WeightedFlag) != 0;
        return (tag & ~WeightedFlag) switch
        {
            MomentumRule.FormatTag => MomentumRule.ReadSettings(reader, weighted),
            AverageRule.FormatTag => AverageRule.ReadSettings(reader, weighted),
            WholeDataRule.FormatTag => WholeDataRule.ReadSettings(reader, weighted),
            _ => throw reader.Corrupt($"a statistics rule is {tag}, expected 1 (momentum), 2 (average) or 3 (whole data), plus 128 with an example-weight column"),
        };
    }

    /// <summary>After a rule's settings: the example-weight column's name when the tag said the rule has one, else null.</summary>
    protected static string? ReadWeightColumn(ModelBodyReader reader, bool weighted) =>
        weighted ? reader.ReadString("an example-weight column name") : null;

    /// <summary>
    /// A batch as the running rules (momentum, plain average) fold it: it counts when it has at least 2 finite values
    /// (with example weights, a weight sum of at least 2), and then its mean is <c>batchShift + batchMeanOffset</c> and its
    /// variance the biased one, times n/(n - 1) when unbiased.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected static bool RunningBatch(bool unbiasedVariance, double batchShift, double batchMeanOffset, double biasedVariance, double n, out double mean, out double variance)
    {
        mean = batchShift + batchMeanOffset;
        variance = unbiasedVariance ? biasedVariance * n / (n - 1) : biasedVariance;
        return n >= 2;
    }

    protected static bool ReadFlag(ModelBodyReader reader, string what)
    {
        byte flag = reader.ReadByte();
        return flag <= 1 ? flag == 1 : throw reader.Corrupt($"{what} is {flag}, expected 0 or 1");
    }

    protected static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    protected static string Format(bool value) => value ? "true" : "false";

    public override string ToString() => string.Join(", ", Settings.Select(s => $"{s.Option} = {s.Value}"));
}
