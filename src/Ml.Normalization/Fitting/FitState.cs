using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.Fitting;

/// <summary>
/// What a fitted column needs to continue its fit or to be combined with another chunk's fit: its
/// <see cref="StatisticsRule"/> and, per unit (slot or channel), the rule's state (one <see cref="UnitMoments"/> record)
/// and the initial values.
/// </summary>
/// <remarks>
/// <para>The records are the rule's per-unit state (<see cref="StatisticsRule"/> says what each value holds), written in
/// place by the fit that owns this state; a state kept in fitted parameters is never changed (continue and merge copy
/// it).</para>
/// <para>Each record starts on a 32-byte boundary, so none spans two cache lines: a managed array's elements start 16
/// bytes into a line, which would put every other 32-byte record across two, and the sparse fit, which reaches its
/// touched slots' records at random, would fetch (and write back) both. The records live in an array of doubles, from
/// its first 32-byte boundary on. That array is not pinned: a large one (any state of more than about 2,700 units) sits
/// in the large object heap, which the GC does not move unless asked to compact it, and reuses freed memory there; a
/// pinned one would come from fresh memory every fit, whose first writes cost more than the fit of a few rows does
/// (issue 21, item 5). An array the GC does move (a small state, or a compaction asked for) keeps its values and may
/// lose the alignment: the offset is kept, not recomputed.</para>
/// </remarks>
internal sealed class FitState
{
    private readonly double[] _records; // the records from _start on
    private readonly int _start;

    private FitState(StatisticsRule rule, int units, UnitValues initialMean, UnitValues initialVariance)
    {
        Rule = rule;
        Units = units;
        // An array of doubles starts on an 8-byte boundary: 3 doubles more leave room to reach a 32-byte one.
        _records = GC.AllocateUninitializedArray<double>(checked((units * RecordDoubles) + RecordDoubles - 1));
        _start = FirstAligned(_records);
        InitialMean = initialMean;
        InitialVariance = initialVariance;
    }

    private const int RecordDoubles = 4;

    // The first element on a 32-byte boundary where the array is now (the address is only looked at, not kept).
    private static unsafe int FirstAligned(double[] array)
    {
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        return (int)((-address & ((RecordDoubles * sizeof(double)) - 1)) / sizeof(double));
    }

    /// <summary>How the batches are combined.</summary>
    public StatisticsRule Rule { get; }

    /// <summary>
    /// Per unit, the rule's count, mean, second moment and (for the rule that keeps one) origin: one record, on a
    /// 32-byte boundary.
    /// </summary>
    public Span<UnitMoments> Moments => MemoryMarshal.Cast<double, UnitMoments>(_records.AsSpan(_start, Units * RecordDoubles));

    /// <summary>Per unit, the mean a unit without a counted batch keeps (and the momentum rule starts from); held once when the same for all.</summary>
    public UnitValues InitialMean { get; }

    /// <summary>Per unit, the variance a unit without a counted batch keeps; held once when the same for all.</summary>
    public UnitValues InitialVariance { get; }

    public int Units { get; }

    /// <summary>A fresh state: every unit at the rule's start from the same initial values, nothing counted.</summary>
    public static FitState Fresh(StatisticsRule rule, int units, double initialMean, double initialVariance)
    {
        // Every record is written whole: no need to zero them first. The initial values are held once.
        var (mean, second) = rule.Start(initialMean, initialVariance);
        var state = new FitState(rule, units, UnitValues.Uniform(units, initialMean), UnitValues.Uniform(units, initialVariance));
        state.Moments.Fill(new UnitMoments { Mean = mean, Second = second });
        return state;
    }

    /// <summary>A fresh state whose initial values are given per unit (a fit that continues from known parameters).</summary>
    public static FitState StartingFrom(StatisticsRule rule, ReadOnlySpan<double> initialMean, ReadOnlySpan<double> initialVariance)
    {
        int units = initialMean.Length;
        var state = new FitState(rule, units, UnitValues.Of(initialMean), UnitValues.Of(initialVariance));
        var moments = state.Moments;
        for (int j = 0; j < units; j++)
        {
            var (mean, second) = rule.Start(initialMean[j], initialVariance[j]);
            moments[j] = new UnitMoments { Mean = mean, Second = second };
        }

        return state;
    }

    public FitState Copy()
    {
        var copy = new FitState(Rule, Units, InitialMean, InitialVariance);
        Moments.CopyTo(copy.Moments);
        return copy;
    }

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
        var means = reader.ReadDoubles(units, "fit-state means");
        var seconds = reader.ReadDoubles(units, "fit-state second moments");
        var state = new FitState(rule, units, UnitValues.Of(reader.ReadDoubles(units, "fit-state initial means")), UnitValues.Of(reader.ReadDoubles(units, "fit-state initial variances")));
        var moments = state.Moments;
        moments.Clear(); // the origin stays 0 for a rule that keeps none
        Set(moments, counts, (ref UnitMoments m, double v) => m.Count = v);
        Set(moments, means, (ref UnitMoments m, double v) => m.Mean = v);
        Set(moments, seconds, (ref UnitMoments m, double v) => m.Second = v);
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

    private static void Set(Span<UnitMoments> moments, double[] values, Setter set)
    {
        for (int j = 0; j < moments.Length; j++)
        {
            set(ref moments[j], values[j]);
        }
    }
}
