using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;
using Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;


namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// The sparse fit folds a slot's batch when the slot is next touched, and derives a slot's folded rows from its folded
/// batches: that needs every batch but the last to have the same size, which it checks.
/// </summary>
public class SparseBatchMomentsTests
{
    [Fact]
    public void EndBatch_AfterAShorterBatch_IsRefused()
    {
        var (moments, statistics) = Make();
        AddRows(moments, 2);
        moments.EndBatch(statistics);
        AddRows(moments, 1);
        moments.EndBatch(statistics); // a shorter batch: the last one

        AddRows(moments, 2);
        var error = Assert.Throws<InvalidOperationException>(() => moments.EndBatch(statistics));
        Assert.Contains("same size but the last", error.Message);
    }

    [Fact]
    public void EndBatch_OfALongerBatch_IsRefused()
    {
        var (moments, statistics) = Make();
        AddRows(moments, 2);
        moments.EndBatch(statistics);
        AddRows(moments, 3);
        Assert.Throws<InvalidOperationException>(() => moments.EndBatch(statistics));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void Add_AnIndexOutsideTheSlots_IsRefusedBeforeAnythingIsAdded(int index)
    {
        var (moments, statistics) = Make();
        var error = Assert.Throws<InvalidOperationException>(() => moments.Add([1f, 2f], [0, index]));
        Assert.Contains("'x'", error.Message);
        Assert.Contains($"index {index}", error.Message);

        moments.Add([], []);
        moments.Add([], []);
        moments.EndBatch(statistics);
        moments.Complete(statistics);
        Assert.Equal(0, statistics.State.Moments[0].Mean); // slot 0's 1 of the refused row was not added
    }

    [Fact]
    public void Complete_FoldsEachSlotsLastBatch_AndTheBatchesItMissed()
    {
        // Momentum 0.5 from 0: slot 0 has values 2 and 0 in batch 1 (mean 1, variance 1), then 2 batches of zeros.
        var (moments, statistics) = Make();
        moments.Add([2f], [0]);
        moments.Add([], []);
        moments.EndBatch(statistics);
        AddRows(moments, 2);
        moments.EndBatch(statistics);
        AddRows(moments, 2);
        moments.EndBatch(statistics);
        moments.Add([5f], [0]); // a batch never closed: dropped

        moments.Complete(statistics);

        var state = statistics.State.Moments;
        Assert.Equal(0.5 * 0.25, state[0].Mean);
        Assert.Equal(0.5 * 0.25, state[0].Second);
        Assert.Equal(3, state[0].Count);
        Assert.Equal(0, state[1].Mean);
        Assert.Equal(3, state[1].Count);
    }

    [Fact]
    public void FitAndTransform_OfAMalformedSparseVector_FailNamingTheColumn()
    {
        // VBuffer checks its indices only in ML.NET's debug builds.
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 8).Select(i => new SparseData.FloatRow { Features = new VBuffer<float>(4, 1, [1f + i], [i == 5 ? 9 : 1]) }).ToArray();
        var good = Enumerable.Range(0, 8).Select(i => new SparseData.FloatRow { Features = new VBuffer<float>(4, 1, [1f + i], [1]) }).ToArray();
        var schema = SchemaDefinition.Create(typeof(SparseData.FloatRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, 4);
        var estimator = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { Center = false, BatchSize = 4 });

        var fitError = Assert.Throws<InvalidOperationException>(() => estimator.Fit(ml.Data.LoadFromEnumerable(rows, schema)));
        Assert.Contains("'Features'", fitError.Message);
        Assert.Contains("index 9", fitError.Message);

        var model = estimator.Fit(ml.Data.LoadFromEnumerable(good, schema));
        var transformError = Assert.Throws<InvalidOperationException>(() => model.Transform(ml.Data.LoadFromEnumerable(rows, schema)).GetColumn<VBuffer<float>>("Features").ToArray());
        Assert.Contains("'Features'", transformError.Message);
        Assert.Contains("index 9", transformError.Message);
    }

    /// <summary>
    /// A batch's touched slots are folded in the order the batch reached them, from a pool that grows past its first
    /// capacity (1,024) here: each slot's bits must not depend on that order. The same rows with the slots relabelled
    /// (reversed, so every batch reaches them in another order) give each slot the same bits.
    /// </summary>
    [Theory]
    [InlineData("momentum")]
    [InlineData("average")]
    [InlineData("whole data")]
    public void Fit_GivesEachSlotTheSameBits_WhateverOrderTheSlotsAreReached(string rule)
    {
        const int slots = 3000;
        var random = new Random(7);
        var rows = Enumerable.Range(0, 203).Select(_ =>
        {
            var indices = Enumerable.Range(0, 120).Select(_ => random.Next(slots)).Distinct().Order().ToArray();
            return (Indices: indices, Values: indices.Select(_ => random.Next(5) == 0 ? float.NaN : (float)((random.NextDouble() * 10) - 3)).ToArray());
        }).ToArray();

        UnitMoments[] Fit(Func<int, int> relabel)
        {
            StatisticsRule r = rule switch
            {
                "momentum" => new MomentumRule(0.9, biasCorrection: true, unbiasedVariance: false),
                "average" => new AverageRule(unbiasedVariance: true),
                _ => new WholeDataRule(unbiasedVariance: false),
            };
            var statistics = new ColumnStatistics("x", FitState.Fresh(r, slots, 0.25, 0.75));
            using var moments = new SparseBatchMoments<float>("x", slots, statistics);
            for (int i = 0; i < rows.Length; i++)
            {
                var pairs = rows[i].Indices.Zip(rows[i].Values).Select(p => (Slot: relabel(p.First), Value: p.Second)).OrderBy(p => p.Slot).ToArray();
                moments.Add([.. pairs.Select(p => p.Value)], [.. pairs.Select(p => p.Slot)]);
                if (i % 16 == 15 || i == rows.Length - 1)
                {
                    moments.EndBatch(statistics);
                }
            }

            moments.Complete(statistics);
            return statistics.State.Moments.ToArray();
        }

        var direct = Fit(j => j);
        var reversed = Fit(j => slots - 1 - j);
        Assert.True(direct.Count(m => m.Count > 0) > slots / 2); // most slots counted
        for (int j = 0; j < slots; j++)
        {
            Assert.Equal(Bits(direct[j]), Bits(reversed[slots - 1 - j]));
        }

        static (long, long, long, long) Bits(UnitMoments m) =>
            (BitConverter.DoubleToInt64Bits(m.Count), BitConverter.DoubleToInt64Bits(m.Mean), BitConverter.DoubleToInt64Bits(m.Second), BitConverter.DoubleToInt64Bits(m.Origin));
    }

    private static (SparseBatchMoments<float> Moments, ColumnStatistics Statistics) Make()
    {
        var statistics = new ColumnStatistics("x", FitState.Fresh(new MomentumRule(0.5, biasCorrection: false, unbiasedVariance: false), 2, 0, 0));
        return (new SparseBatchMoments<float>("x", 2, statistics), statistics);
    }

    private static void AddRows(SparseBatchMoments<float> moments, int rows)
    {
        for (int r = 0; r < rows; r++)
        {
            moments.Add([], []);
        }
    }
}
