using Ml.Normalization.Persistence;

namespace Ml.Normalization.Fitting;

/// <summary>
/// What a fitted column needs to continue its fit or to be combined with another chunk's fit: its
/// <see cref="StatisticsRule"/> and, per unit (slot or channel), the rule's state and the initial values.
/// </summary>
/// <remarks>
/// The arrays are the rule's per-unit state (<see cref="StatisticsRule"/> says what each holds), written in place by
/// the fit that owns this state; a state kept in fitted parameters is never changed (continue and merge copy it).
/// </remarks>
internal sealed class FitState
{
    private FitState(StatisticsRule rule, double[] count, double[] mean, double[] second, UnitValues initialMean, UnitValues initialVariance, double[]? origin = null)
    {
        if (rule.KeepsOrigin != origin is not null)
        {
            throw new ArgumentException(rule.KeepsOrigin ? "The rule keeps an origin per unit." : "The rule keeps no origin.", nameof(origin));
        }

        Rule = rule;
        Origin = origin;
        Count = count;
        Mean = mean;
        Second = second;
        InitialMean = initialMean;
        InitialVariance = initialVariance;
    }

    /// <summary>How the batches are combined.</summary>
    public StatisticsRule Rule { get; }

    /// <summary>Per unit, the rule's count (batches or values).</summary>
    public double[] Count { get; }

    /// <summary>Per unit, the rule's mean (raw running mean, average, or mean of all values).</summary>
    public double[] Mean { get; }

    /// <summary>Per unit, the rule's second moment (raw running variance, average variance, or M2).</summary>
    public double[] Second { get; }

    /// <summary>Per unit, the mean a unit without a counted batch keeps (and the momentum rule starts from); held once when the same for all.</summary>
    public UnitValues InitialMean { get; }

    /// <summary>Per unit, the variance a unit without a counted batch keeps; held once when the same for all.</summary>
    public UnitValues InitialVariance { get; }

    /// <summary>Per unit, the value the rule's mean is relative to (<see cref="StatisticsRule.KeepsOrigin"/>); null for the other rules.</summary>
    public double[]? Origin { get; }

    public int Units => Mean.Length;

    /// <summary>A fresh state: every unit at the rule's start from the same initial values, nothing counted.</summary>
    public static FitState Fresh(StatisticsRule rule, int units, double initialMean, double initialVariance)
    {
        // The running mean and second moment are filled whole: no need to zero them first. The initial values are held
        // once; the counts (and origins) are zeroed memory, which the system hands out as it is first written.
        var (mean, second) = rule.Start(initialMean, initialVariance);
        return new FitState(rule, new double[units], Filled(units, mean), Filled(units, second), UnitValues.Uniform(units, initialMean), UnitValues.Uniform(units, initialVariance),
            rule.KeepsOrigin ? new double[units] : null);
    }

    /// <summary>A fresh state whose initial values are given per unit (a fit that continues from known parameters).</summary>
    public static FitState StartingFrom(StatisticsRule rule, ReadOnlySpan<double> initialMean, ReadOnlySpan<double> initialVariance)
    {
        int units = initialMean.Length;
        var mean = GC.AllocateUninitializedArray<double>(units);
        var second = GC.AllocateUninitializedArray<double>(units);
        for (int j = 0; j < units; j++)
        {
            (mean[j], second[j]) = rule.Start(initialMean[j], initialVariance[j]);
        }

        return new FitState(rule, new double[units], mean, second, UnitValues.Of(initialMean), UnitValues.Of(initialVariance), rule.KeepsOrigin ? new double[units] : null);
    }

    public FitState Copy() =>
        new(Rule, (double[])Count.Clone(), (double[])Mean.Clone(), (double[])Second.Clone(), InitialMean, InitialVariance, (double[]?)Origin?.Clone());

    /// <summary>Combines the state of the rows after this state's (any rows, for an order-free rule) into this one.</summary>
    public void Combine(FitState later) => Rule.Combine(this, later);

    /// <summary>
    /// Each unit's mean and variance; a variance that rounding pushed below 0 is 0.
    /// </summary>
    /// <exception cref="InvalidOperationException">A statistic is beyond double's range (names the column and the unit).</exception>
    public (double[] Mean, double[] Variance) Finish(string columnName, string unitName)
    {
        var mean = GC.AllocateUninitializedArray<double>(Units);
        var variance = GC.AllocateUninitializedArray<double>(Units);
        Finish(columnName, unitName, mean, variance);
        return (mean, variance);
    }

    /// <summary>
    /// Each unit's variance alone, as <see cref="Finish(string, string)"/> gives it (the same checks): what a scale-only
    /// model keeps, without a mean array beside it (the means go through a small buffer).
    /// </summary>
    /// <exception cref="InvalidOperationException">A statistic is beyond double's range (names the column and the unit).</exception>
    public double[] FinishVariance(string columnName, string unitName)
    {
        var variance = GC.AllocateUninitializedArray<double>(Units);
        Finish(columnName, unitName, null, variance);
        return variance;
    }

    /// <summary>Each unit's mean alone, as <see cref="Finish(string, string)"/> gives it (the same checks).</summary>
    /// <exception cref="InvalidOperationException">A statistic is beyond double's range (names the column and the unit).</exception>
    public double[] FinishMean(string columnName, string unitName)
    {
        var mean = GC.AllocateUninitializedArray<double>(Units);
        Finish(columnName, unitName, mean, null);
        return mean;
    }

    private const int FinishPage = 1024;

    // Writes the means and variances asked for, a page of units at a time: one not asked for goes through a buffer.
    private void Finish(string columnName, string unitName, double[]? mean, double[]? variance)
    {
        Span<double> meanPage = mean is null ? stackalloc double[FinishPage] : default;
        Span<double> variancePage = variance is null ? stackalloc double[FinishPage] : default;
        for (int first = 0; first < Units; first += FinishPage)
        {
            int length = Math.Min(FinishPage, Units - first);
            var means = mean is null ? meanPage[..length] : mean.AsSpan(first, length);
            var variances = variance is null ? variancePage[..length] : variance.AsSpan(first, length);
            Rule.Finish(this, first, means, variances);
            for (int i = 0; i < length; i++)
            {
                ColumnStatistics.CheckFinite(columnName, unitName, first + i, means[i], variances[i]);
                variances[i] = Math.Max(variances[i], 0);
            }
        }
    }

    /// <summary>Writes the rule, then the per-unit arrays (count, mean, second, initial mean, initial variance, and the origin if the rule keeps one).</summary>
    public void Write(BinaryWriter writer)
    {
        Rule.Write(writer);
        foreach (var values in new IReadOnlyList<double>[] { Count, Mean, Second, InitialMean, InitialVariance, Origin ?? [] })
        {
            for (int j = 0; j < values.Count; j++)
            {
                writer.Write(values[j]);
            }
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote for <paramref name="units"/> units.</summary>
    /// <exception cref="InvalidDataException">A value no fit writes: a count that is negative or not a whole number, or
    /// a statistic that is not finite.</exception>
    public static FitState Read(ModelBodyReader reader, int units)
    {
        var rule = StatisticsRule.Read(reader);
        var state = new FitState(rule, reader.ReadDoubles(units, "fit-state counts"), reader.ReadDoubles(units, "fit-state means"),
            reader.ReadDoubles(units, "fit-state second moments"), UnitValues.Of(reader.ReadDoubles(units, "fit-state initial means")), UnitValues.Of(reader.ReadDoubles(units, "fit-state initial variances")),
            rule.KeepsOrigin ? reader.ReadDoubles(units, "fit-state origins") : null);
        for (int j = 0; j < units; j++)
        {
            double count = state.Count[j];
            if (!(count >= 0) || (rule.WholeCounts && count != Math.Floor(count)) || double.IsInfinity(count))
            {
                throw reader.Corrupt($"the fit-state count of unit {j} is {count}, expected {(rule.WholeCounts ? "a whole number" : "a finite number")}, 0 or more");
            }

            foreach (var (values, what) in new (IReadOnlyList<double> Values, string What)[] { (state.Mean, "mean"), (state.Second, "second moment"), (state.InitialMean, "initial mean"), (state.InitialVariance, "initial variance"), (state.Origin ?? state.Mean, "origin") })
            {
                if (!double.IsFinite(values[j]))
                {
                    throw reader.Corrupt($"the fit-state {what} of unit {j} is {values[j]}, expected a finite value");
                }
            }
        }

        return state;
    }

    private static double[] Filled(int length, double value)
    {
        var array = GC.AllocateUninitializedArray<double>(length);
        array.AsSpan().Fill(value);
        return array;
    }
}
