using Ml.Normalization.Persistence;

namespace Ml.Normalization.Fitting;

/// <summary>
/// What a fitted column needs to continue its fit or to be combined with another chunk's fit: its
/// <see cref="StatisticsRule"/> and, per unit (slot or channel), the rule's state (one <see cref="UnitMoments"/> record)
/// and the initial values.
/// </summary>
/// <remarks>
/// The records are the rule's per-unit state (<see cref="StatisticsRule"/> says what each value holds), written in place
/// by the fit that owns this state; a state kept in fitted parameters is never changed (continue and merge copy it).
/// </remarks>
internal sealed class FitState
{
    private FitState(StatisticsRule rule, UnitMoments[] moments, UnitValues initialMean, UnitValues initialVariance)
    {
        Rule = rule;
        Moments = moments;
        InitialMean = initialMean;
        InitialVariance = initialVariance;
    }

    /// <summary>How the batches are combined.</summary>
    public StatisticsRule Rule { get; }

    /// <summary>Per unit, the rule's count, mean, second moment and (for the rule that keeps one) origin.</summary>
    public UnitMoments[] Moments { get; }

    /// <summary>Per unit, the mean a unit without a counted batch keeps (and the momentum rule starts from); held once when the same for all.</summary>
    public UnitValues InitialMean { get; }

    /// <summary>Per unit, the variance a unit without a counted batch keeps; held once when the same for all.</summary>
    public UnitValues InitialVariance { get; }

    public int Units => Moments.Length;

    /// <summary>A fresh state: every unit at the rule's start from the same initial values, nothing counted.</summary>
    public static FitState Fresh(StatisticsRule rule, int units, double initialMean, double initialVariance)
    {
        // Every record is written whole: no need to zero them first. The initial values are held once.
        var (mean, second) = rule.Start(initialMean, initialVariance);
        var moments = GC.AllocateUninitializedArray<UnitMoments>(units);
        moments.AsSpan().Fill(new UnitMoments { Mean = mean, Second = second });
        return new FitState(rule, moments, UnitValues.Uniform(units, initialMean), UnitValues.Uniform(units, initialVariance));
    }

    /// <summary>A fresh state whose initial values are given per unit (a fit that continues from known parameters).</summary>
    public static FitState StartingFrom(StatisticsRule rule, ReadOnlySpan<double> initialMean, ReadOnlySpan<double> initialVariance)
    {
        int units = initialMean.Length;
        var moments = GC.AllocateUninitializedArray<UnitMoments>(units);
        for (int j = 0; j < units; j++)
        {
            var (mean, second) = rule.Start(initialMean[j], initialVariance[j]);
            moments[j] = new UnitMoments { Mean = mean, Second = second };
        }

        return new FitState(rule, moments, UnitValues.Of(initialMean), UnitValues.Of(initialVariance));
    }

    public FitState Copy() => new(Rule, (UnitMoments[])Moments.Clone(), InitialMean, InitialVariance);

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

    /// <summary>
    /// Writes the rule, then the per-unit values a value at a time for all units: the counts, the means, the second
    /// moments, the initial means, the initial variances, and the origins if the rule keeps them.
    /// </summary>
    public void Write(BinaryWriter writer)
    {
        Rule.Write(writer);
        WriteEach(writer, m => m.Count);
        WriteEach(writer, m => m.Mean);
        WriteEach(writer, m => m.Second);
        for (int j = 0; j < Units; j++)
        {
            writer.Write(InitialMean[j]);
        }

        for (int j = 0; j < Units; j++)
        {
            writer.Write(InitialVariance[j]);
        }

        if (Rule.KeepsOrigin)
        {
            WriteEach(writer, m => m.Origin);
        }
    }

    private void WriteEach(BinaryWriter writer, Func<UnitMoments, double> value)
    {
        foreach (var m in Moments)
        {
            writer.Write(value(m));
        }
    }

    /// <summary>Reads what <see cref="Write"/> wrote for <paramref name="units"/> units.</summary>
    /// <exception cref="InvalidDataException">A value no fit writes: a count that is negative or not a whole number, or
    /// a statistic that is not finite.</exception>
    public static FitState Read(ModelBodyReader reader, int units)
    {
        var rule = StatisticsRule.Read(reader);
        var counts = reader.ReadDoubles(units, "fit-state counts"); // checks the body holds them before the records are allocated
        var moments = new UnitMoments[units];
        Set(moments, counts, (ref UnitMoments m, double v) => m.Count = v);
        Set(moments, reader.ReadDoubles(units, "fit-state means"), (ref UnitMoments m, double v) => m.Mean = v);
        Set(moments, reader.ReadDoubles(units, "fit-state second moments"), (ref UnitMoments m, double v) => m.Second = v);
        var state = new FitState(rule, moments, UnitValues.Of(reader.ReadDoubles(units, "fit-state initial means")), UnitValues.Of(reader.ReadDoubles(units, "fit-state initial variances")));
        if (rule.KeepsOrigin)
        {
            Set(moments, reader.ReadDoubles(units, "fit-state origins"), (ref UnitMoments m, double v) => m.Origin = v);
        }

        for (int j = 0; j < units; j++)
        {
            var m = moments[j];
            if (!(m.Count >= 0) || (rule.WholeCounts && m.Count != Math.Floor(m.Count)) || double.IsInfinity(m.Count))
            {
                throw reader.Corrupt($"the fit-state count of unit {j} is {m.Count}, expected {(rule.WholeCounts ? "a whole number" : "a finite number")}, 0 or more");
            }

            foreach (var (value, what) in new (double Value, string What)[] { (m.Mean, "mean"), (m.Second, "second moment"), (state.InitialMean[j], "initial mean"), (state.InitialVariance[j], "initial variance"), (m.Origin, "origin") })
            {
                if (!double.IsFinite(value))
                {
                    throw reader.Corrupt($"the fit-state {what} of unit {j} is {value}, expected a finite value");
                }
            }
        }

        return state;
    }

    private delegate void Setter(ref UnitMoments moments, double value);

    private static void Set(UnitMoments[] moments, double[] values, Setter set)
    {
        for (int j = 0; j < moments.Length; j++)
        {
            set(ref moments[j], values[j]);
        }
    }
}
