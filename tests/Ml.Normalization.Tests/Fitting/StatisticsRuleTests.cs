using Ml.Normalization.Fitting;
using Ml.Normalization.Persistence;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// Each statistics rule's algebra: folding batches one by one is combining the states of consecutive chunks (continue,
/// merge and a parallel fit rest on it), the order-free rules combine in any order, and a rule's settings and state
/// survive the model format.
/// </summary>
public class StatisticsRuleTests
{
    public static TheoryData<string> Rules => ["momentum", "momentum-corrected-unbiased", "average", "average-unbiased", "whole-data", "whole-data-unbiased", "momentum-weighted", "average-weighted", "whole-data-weighted"];

    [Theory]
    [MemberData(nameof(Rules))]
    public void FoldingAllBatches_EqualsCombiningTheChunks_AtEverySplit(string name)
    {
        var batches = Batches(seed: 1, count: 12, units: 5);
        var serial = Fit(Rule(name), batches, 0, batches.Length);
        var (expectedMean, expectedVariance) = serial.Finish("x", "slot");

        for (int split = 0; split <= batches.Length; split++)
        {
            var first = Fit(Rule(name), batches, 0, split);
            first.Combine(Fit(Rule(name), batches, split, batches.Length));

            var (mean, variance) = first.Finish("x", "slot");
            Approx.Equal(expectedMean, mean, 1e-12, 0, $"mean, split at {split}");
            Approx.Equal(expectedVariance, variance, 1e-12, 0, $"variance, split at {split}");
            Assert.Equal(serial.Counts(), first.Counts());
        }
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void CombiningThreeChunks_EqualsTheSerialFold(string name)
    {
        var batches = Batches(seed: 2, count: 9, units: 3);
        var (expectedMean, expectedVariance) = Fit(Rule(name), batches, 0, 9).Finish("x", "slot");

        var merged = Fit(Rule(name), batches, 0, 2);
        merged.Combine(Fit(Rule(name), batches, 2, 7));
        merged.Combine(Fit(Rule(name), batches, 7, 9));

        var (mean, variance) = merged.Finish("x", "slot");
        Approx.Equal(expectedMean, mean, 1e-12, 0, "mean");
        Approx.Equal(expectedVariance, variance, 1e-12, 0, "variance");
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void FinishingTheVarianceOrTheMeanAlone_GivesFinishsBits_AcrossPages(string name)
    {
        // Issue 19, item 5: a scale-only model finishes its variance alone and its mean when read, a page of units at a
        // time; 2,500 units span three pages, some never counted (their initial values).
        var batches = Batches(seed: 4, count: 6, units: 2_500);
        foreach (var (_, _, count) in batches)
        {
            Array.Fill(count, 0.0, 1_000, 30);
        }

        var state = Fit(Rule(name), batches, 0, batches.Length);
        var (mean, variance) = state.Finish("x", "slot");
        Assert.Equal(variance, state.FinishVariance("x", "slot"));
        Assert.Equal(mean, state.FinishMean("x", "slot"));
    }

    [Theory]
    [InlineData("average")]
    [InlineData("whole-data")]
    public void OrderFreeRules_CombineInEitherOrder(string name)
    {
        var batches = Batches(seed: 3, count: 8, units: 4);
        var ab = Fit(Rule(name), batches, 0, 3);
        ab.Combine(Fit(Rule(name), batches, 3, 8));
        var ba = Fit(Rule(name), batches, 3, 8);
        ba.Combine(Fit(Rule(name), batches, 0, 3));

        Assert.True(Rule(name).IsOrderFree);
        Approx.Equal(ab.Finish("x", "slot").Mean, ba.Finish("x", "slot").Mean, 1e-13, 0, "mean");
        Approx.Equal(ab.Finish("x", "slot").Variance, ba.Finish("x", "slot").Variance, 1e-12, 0, "variance");
    }

    [Fact]
    public void Momentum_CombinesFromAnotherStart_AsTheRecurrenceFromTheFirstChunksStart()
    {
        // The later chunk was fitted from other initial values (say a fit continued from known parameters): its own
        // start is taken out, so the result is the recurrence run over both chunks from the first chunk's start.
        var rule = new MomentumRule(0.8, biasCorrection: true, unbiasedVariance: false);
        var batches = Batches(seed: 4, count: 6, units: 2);
        var first = FitState.Fresh(rule, 2, initialMean: 3, initialVariance: 2);
        Fold(first, batches, 0, 2);
        var later = FitState.Fresh(rule, 2, initialMean: -7, initialVariance: 11);
        Fold(later, batches, 2, 6);
        var serial = FitState.Fresh(rule, 2, initialMean: 3, initialVariance: 2);
        Fold(serial, batches, 0, 6);

        first.Combine(later);

        Approx.Equal(serial.Means(), first.Means(), 1e-13, 0, "raw running mean");
        Approx.Equal(serial.Seconds(), first.Seconds(), 1e-13, 0, "raw running variance");
        Assert.Equal(serial.Counts(), first.Counts());
    }

    [Fact]
    public void Momentum_CombinedIntoAnEmptyStateOfTheSameStart_IsTheLaterStateBitForBit()
    {
        var rule = new MomentumRule(0.9, biasCorrection: true, unbiasedVariance: false);
        var later = Fit(rule, Batches(seed: 5, count: 4, units: 3), 0, 4);
        var empty = FitState.Fresh(rule, 3, 0.25, 0.75); // Fit's start

        empty.Combine(later);

        Assert.Equal(later.Means(), empty.Means());
        Assert.Equal(later.Seconds(), empty.Seconds());
        Assert.Equal(later.Counts(), empty.Counts());
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void CombiningAnEmptyLaterState_ChangesNothing(string name)
    {
        var state = Fit(Rule(name), Batches(seed: 6, count: 5, units: 3), 0, 5);
        var before = state.Copy();

        state.Combine(FitState.Fresh(Rule(name), 3, 0.5, 0.25));

        Assert.Equal(before.Means(), state.Means());
        Assert.Equal(before.Seconds(), state.Seconds());
        Assert.Equal(before.Counts(), state.Counts());
    }

    [Theory]
    [InlineData("momentum", "momentum-corrected-unbiased", "BiasCorrection", "false", "true")]
    [InlineData("momentum", "average", "Momentum", "0.5", "null")]
    [InlineData("average", "whole-data", "WholeDataStatistics", "false", "true")]
    [InlineData("average", "average-unbiased", "UnbiasedRunningVariance", "false", "true")]
    [InlineData("whole-data", "whole-data-unbiased", "UnbiasedRunningVariance", "false", "true")]
    [InlineData("average", "average-weighted", "ExampleWeightColumnName", "null", "'W'")]
    [InlineData("whole-data-weighted", "whole-data-unbiased", "ExampleWeightColumnName", "'W'", "null")]
    public void Difference_NamesTheFirstOptionThatDiffers(string mine, string other, string option, string myValue, string otherValue)
    {
        Assert.Equal((option, myValue, otherValue), Rule(mine).Difference(Rule(other)));
        Assert.Null(Rule(mine).Difference(Rule(mine)));
    }

    [Fact]
    public void Difference_OfMomenta_PrintsTheValuesAsGiven()
    {
        Assert.Equal(("Momentum", "0.9", "0.75"), new MomentumRule(0.9, true, false).Difference(new MomentumRule(0.75, true, false)));
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void FitState_WritesAndReadsBack_BitForBit(string name)
    {
        var state = FitState.StartingFrom(Rule(name), [0.1, -2e300, 3], [1e-300, 5, 0.7]);
        Fold(state, Batches(seed: 7, count: 3, units: 3), 0, 3);
        using var stream = new MemoryStream();
        state.Write(new BinaryWriter(stream));
        stream.Position = 0;

        var read = FitState.Read(new ModelBodyReader(new BinaryReader(stream), "BatchNormalize", stream.Length), 3);

        Assert.Equal(stream.Length, stream.Position);
        Assert.Null(read.Rule.Difference(state.Rule));
        Assert.Equal(state.Rule.GetType(), read.Rule.GetType());
        Assert.Equal(state.Counts(), read.Counts());
        Assert.Equal(state.Means(), read.Means());
        Assert.Equal(state.Seconds(), read.Seconds());
        Assert.Equal(state.InitialMean, read.InitialMean);
        Assert.Equal(state.InitialVariance, read.InitialVariance);
    }

    [Theory]
    [InlineData(new byte[] { 0 }, "The BatchNormalize model is corrupt: a statistics rule is 0, expected 1 (momentum), 2 (average) or 3 (whole data), plus 128 with an example-weight column.")]
    [InlineData(new byte[] { 4 }, "The BatchNormalize model is corrupt: a statistics rule is 4, expected 1 (momentum), 2 (average) or 3 (whole data), plus 128 with an example-weight column.")]
    [InlineData(new byte[] { 0x84 }, "The BatchNormalize model is corrupt: a statistics rule is 132, expected 1 (momentum), 2 (average) or 3 (whole data), plus 128 with an example-weight column.")]
    [InlineData(new byte[] { 2, 7 }, "The BatchNormalize model is corrupt: an unbiased-variance flag is 7, expected 0 or 1.")]
    [InlineData(new byte[] { 0x82, 0, 0 }, "The BatchNormalize model is corrupt: an example-weight column name is empty or too long.")]
    [InlineData(new byte[] { 1, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 1, 0 }, "The BatchNormalize model is corrupt: a momentum is 1, expected [0, 1).")]
    public void Read_ACorruptRule_FailsNamingTheField(byte[] bytes, string message)
    {
        using var stream = new MemoryStream(bytes);

        var ex = Assert.Throws<InvalidDataException>(() => StatisticsRule.Read(new ModelBodyReader(new BinaryReader(stream), "BatchNormalize", stream.Length)));

        Assert.Equal(message, ex.Message);
    }

    [Theory]
    [InlineData(0, -1.0, "The BatchNormalize model is corrupt: the fit-state count of unit 1 is -1, expected a whole number, 0 or more.")]
    [InlineData(0, 2.5, "The BatchNormalize model is corrupt: the fit-state count of unit 1 is 2.5, expected a whole number, 0 or more.")]
    [InlineData(0, double.NaN, "The BatchNormalize model is corrupt: the fit-state count of unit 1 is NaN, expected a whole number, 0 or more.")]
    [InlineData(1, double.PositiveInfinity, "The BatchNormalize model is corrupt: the fit-state mean of unit 1 is Infinity, expected a finite value.")]
    [InlineData(4, double.NaN, "The BatchNormalize model is corrupt: the fit-state initial variance of unit 1 is NaN, expected a finite value.")]
    public void Read_AStateNoFitWrites_FailsNamingTheValue(int array, double value, string message)
    {
        // The state as written, with unit 1 of the given array (count, mean, second, initial mean, initial variance) replaced.
        var state = FitState.Fresh(new AverageRule(false), 2, 0.5, 1);
        using var stream = new MemoryStream();
        state.Write(new BinaryWriter(stream));
        stream.Position = stream.Length - ((5 - array) * 2 * sizeof(double)) + sizeof(double);
        new BinaryWriter(stream).Write(value);
        stream.Position = 0;

        var ex = Assert.Throws<InvalidDataException>(() => FitState.Read(new ModelBodyReader(new BinaryReader(stream), "BatchNormalize", stream.Length), 2));

        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void AnUnweightedRule_WritesNoWeightColumn_AWeightedOne_FlagsItsTagAndWritesTheName()
    {
        using var unweighted = new MemoryStream();
        new WholeDataRule(true).Write(new BinaryWriter(unweighted));
        using var weighted = new MemoryStream();
        new WholeDataRule(true, "W").Write(new BinaryWriter(weighted));

        Assert.Equal(new byte[] { 3, 1 }, unweighted.ToArray());
        Assert.Equal(new byte[] { 0x83, 1, 1, (byte)'W' }, weighted.ToArray());
    }

    [Fact]
    public void WeightedWholeData_CountsAWeightSumBelowOne_AndReadsBackItsFractionalCount()
    {
        var state = FitState.Fresh(new WholeDataRule(false, "W"), 1, 0, 0);
        new ColumnStatistics("x", state).Add([10], [0.5], [4], [0.25]);
        using var stream = new MemoryStream();
        state.Write(new BinaryWriter(stream));
        stream.Position = 0;

        var read = FitState.Read(new ModelBodyReader(new BinaryReader(stream), "BatchNormalize", stream.Length), 1);

        Assert.Equal([0.25], read.Counts());
        Assert.Equal([10.5], read.Finish("x", "slot").Mean);
        Assert.Equal([4.0], read.Finish("x", "slot").Variance);
    }

    [Fact]
    public void Finish_OfAValueBeyondDouble_FailsNamingTheColumnAndTheUnit()
    {
        var state = FitState.Fresh(new AverageRule(false), 2, 0, 0);
        var statistics = new ColumnStatistics("Wide", state, "channel");

        var ex = Assert.Throws<InvalidOperationException>(() => statistics.Add([0, 0], [0, 1], [1, double.PositiveInfinity], [4, 4]));

        Assert.Equal("BatchNormalize cannot fit input column 'Wide', channel 1: its variance is beyond the range of Double. Scale the column's values down before normalizing.", ex.Message);
    }

    internal static StatisticsRule Rule(string name) => name switch
    {
        "momentum" => new MomentumRule(0.5, biasCorrection: false, unbiasedVariance: false),
        "momentum-corrected-unbiased" => new MomentumRule(0.5, biasCorrection: true, unbiasedVariance: true),
        "average" => new AverageRule(false),
        "average-unbiased" => new AverageRule(true),
        "whole-data" => new WholeDataRule(false),
        "whole-data-unbiased" => new WholeDataRule(true),
        "momentum-weighted" => new MomentumRule(0.5, biasCorrection: true, unbiasedVariance: false, weightColumn: "W"),
        "average-weighted" => new AverageRule(false, "W"),
        "whole-data-weighted" => new WholeDataRule(true, "W"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>Per batch and unit: (mean, biased variance, finite values); some units skip some batches (fewer than 2 values).</summary>
    private static (double[] Mean, double[] Variance, double[] Count)[] Batches(int seed, int count, int units)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(b => (
            Enumerable.Range(0, units).Select(_ => 100 + (b * 3) + (random.NextDouble() * 10)).ToArray(),
            Enumerable.Range(0, units).Select(_ => 0.5 + (random.NextDouble() * 4)).ToArray(),
            Enumerable.Range(0, units).Select(j => (double)((b + j) % 5 == 4 ? 1 : 2 + random.Next(30))).ToArray()))];
    }

    private static FitState Fit(StatisticsRule rule, (double[] Mean, double[] Variance, double[] Count)[] batches, int from, int to)
    {
        var state = FitState.Fresh(rule, batches[0].Mean.Length, 0.25, 0.75);
        Fold(state, batches, from, to);
        return state;
    }

    private static void Fold(FitState state, (double[] Mean, double[] Variance, double[] Count)[] batches, int from, int to)
    {
        var statistics = new ColumnStatistics("x", state);
        for (int b = from; b < to; b++)
        {
            // Each mean as a whole shift and a small offset, as the accumulators deliver it (exactly the same mean).
            var shift = batches[b].Mean.Select(Math.Floor).ToArray();
            var offset = batches[b].Mean.Select((m, j) => m - shift[j]).ToArray();
            statistics.Add(shift, offset, batches[b].Variance, batches[b].Count);
        }
    }
}
