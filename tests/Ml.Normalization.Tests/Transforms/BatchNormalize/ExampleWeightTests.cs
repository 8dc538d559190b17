using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// <c>ExampleWeightColumnName</c>: frequency weights. Whole-data statistics of weighted rows equal those of each row
/// repeated its weight times; momentum and average fold each batch's weighted mean and weighted biased variance;
/// continue and merge keep working and must agree on the column; bad weights and bad weight columns are refused.
/// </summary>
public class ExampleWeightTests
{
    private const int Slots = 4;

    public sealed class WeightedRow
    {
        public float[] Features { get; set; } = [];

        public float Weight { get; set; }
    }

    public sealed class DoubleWeightedRow
    {
        public float[] Features { get; set; } = [];

        public double Weight { get; set; }
    }

    [Theory]
    [InlineData(7, false)]
    [InlineData(64, true)]
    [InlineData(1000, false)]
    public void WholeData_WithWholeWeights_EqualsEachRowRepeatedItsWeightTimes(int batchSize, bool unbiased)
    {
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 3, count: 700, offset: 1e4);
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = i % 4; // 0 (left out), 1, 2 and 3
        }

        var weighted = Estimator(ml, new() { BatchSize = batchSize, WholeDataStatistics = true, UnbiasedRunningVariance = unbiased, ExampleWeightColumnName = "Weight" })
            .Fit(Weighted(ml, rows, weights)).Columns[0];
        var repeated = rows.SelectMany((r, i) => Enumerable.Repeat(r, (int)weights[i])).ToArray();
        var unweighted = Estimator(ml, new() { BatchSize = batchSize, WholeDataStatistics = true, UnbiasedRunningVariance = unbiased })
            .Fit(TestData.Vectors(ml, repeated, Slots)).Columns[0];

        for (int j = 0; j < Slots; j++)
        {
            var (mean, variance) = WeightedMoments(rows, weights, j, unbiased);
            Assert.Equal(unweighted.RunningMean[j], weighted.RunningMean[j], 1e-12 * Math.Abs(unweighted.RunningMean[j]));
            Assert.Equal(unweighted.RunningVariance[j], weighted.RunningVariance[j], 1e-12 * unweighted.RunningVariance[j]);
            Assert.Equal(mean, weighted.RunningMean[j], 1e-12 * Math.Abs(mean));
            Assert.Equal(variance, weighted.RunningVariance[j], 1e-12 * variance);
        }
    }

    [Theory]
    [InlineData(0.8, true, false)]
    [InlineData(0.5, false, true)]
    [InlineData(null, false, false)]
    [InlineData(null, false, true)]
    public void MomentumAndAverage_FoldEachBatchsWeightedMeanAndVariance(double? momentum, bool biasCorrection, bool unbiased)
    {
        const int batchSize = 32;
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 5, count: 300, offset: 1e3);
        rows[40][1] = float.NaN; // left out of its slot's sums, weight or not
        for (int i = 64; i < 96; i++)
        {
            weights[i] = 0; // a batch of weight 0: counts in no slot
        }

        var fit = Estimator(ml, new() { BatchSize = batchSize, Momentum = momentum, BiasCorrection = biasCorrection, UnbiasedRunningVariance = unbiased, ExampleWeightColumnName = "Weight" })
            .Fit(Weighted(ml, rows, weights)).Columns[0];

        for (int j = 0; j < Slots; j++)
        {
            // Two-pass reference, batch by batch: a batch counts when its weight sum there is at least 2.
            double runningMean = 0, runningVariance = 0;
            int t = 0;
            for (int start = 0; start < rows.Length; start += batchSize)
            {
                var batch = Enumerable.Range(start, Math.Min(batchSize, rows.Length - start)).ToArray();
                var (mean, variance) = WeightedMoments(batch.Select(i => rows[i]).ToArray(), batch.Select(i => weights[i]).ToArray(), j, unbiased: false);
                double w = batch.Where(i => float.IsFinite(rows[i][j])).Sum(i => (double)weights[i]);
                if (w < 2)
                {
                    continue;
                }

                variance = unbiased ? variance * w / (w - 1) : variance;
                t++;
                if (momentum is double m)
                {
                    runningMean = (m * runningMean) + ((1 - m) * mean);
                    runningVariance = (m * runningVariance) + ((1 - m) * variance);
                }
                else
                {
                    runningMean += (mean - runningMean) / t;
                    runningVariance += (variance - runningVariance) / t;
                }
            }

            if (momentum is double mc && biasCorrection)
            {
                double d = Math.Pow(mc, t);
                (runningMean, runningVariance) = (runningMean / (1 - d), runningVariance / (1 - d));
            }

            Assert.Equal(runningMean, fit.RunningMean[j], 1e-12 * Math.Abs(runningMean));
            Assert.Equal(runningVariance, fit.RunningVariance[j], 1e-12 * runningVariance);
            Assert.Equal(9, t); // 10 batches (the last of 12 rows), one of weight 0
            Assert.Equal(t, fit.FitState!.Moments[j].Count);
        }
    }

    [Fact]
    public void ABatchOfWeightZero_GivesNoStatistics_AsABatchWithoutFiniteValues()
    {
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 7, count: 64, offset: 0);
        for (int i = 32; i < 64; i++)
        {
            rows[i] = [.. rows[i].Select(v => v * 1000)]; // a batch that would dominate, at weight 0
            weights[i] = 0;
        }

        var options = new BatchNormalizingEstimator.Options { BatchSize = 32, Momentum = null, ExampleWeightColumnName = "Weight" };
        var both = Estimator(ml, options).Fit(Weighted(ml, rows, weights)).Columns[0];
        var first = Estimator(ml, options).Fit(Weighted(ml, rows[..32], weights[..32])).Columns[0];

        Assert.Equal(first.RunningMean, both.RunningMean);
        Assert.Equal(first.RunningVariance, both.RunningVariance);
    }

    [Fact]
    public void DoubleWeights_AreReadAsSingleWeightsAre()
    {
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 9, count: 100, offset: 5);
        var options = new BatchNormalizingEstimator.Options { BatchSize = 16, WholeDataStatistics = true, ExampleWeightColumnName = "Weight" };
        var doubles = ml.Data.LoadFromEnumerable(rows.Select((r, i) => new DoubleWeightedRow { Features = r, Weight = weights[i] }).ToArray(), Schema<DoubleWeightedRow>());

        Assert.Equal(Estimator(ml, options).Fit(Weighted(ml, rows, weights)).Columns[0].RunningVariance, Estimator(ml, options).Fit(doubles).Columns[0].RunningVariance);
    }

    [Fact]
    public void Continue_AndMerge_OfWeightedFits_EqualTheWholeWeightedFit()
    {
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 11, count: 200, offset: 100);
        var estimator = Estimator(ml, new() { BatchSize = 16, WholeDataStatistics = true, ExampleWeightColumnName = "Weight" });
        var a = estimator.Fit(Weighted(ml, rows[..96], weights[..96]));
        var b = estimator.Fit(Weighted(ml, rows[96..], weights[96..]));
        var whole = estimator.Fit(Weighted(ml, rows, weights)).Columns[0];

        var continued = estimator.Fit(Weighted(ml, rows[96..], weights[96..]), a).Columns[0];
        var merged = BatchNormalizingTransformer.Merge(a, b).Columns[0];

        for (int j = 0; j < Slots; j++)
        {
            foreach (var fit in new[] { continued, merged })
            {
                Assert.Equal(whole.RunningMean[j], fit.RunningMean[j], 1e-13 * Math.Abs(whole.RunningMean[j]));
                Assert.Equal(whole.RunningVariance[j], fit.RunningVariance[j], 1e-12 * whole.RunningVariance[j]);
            }
        }
    }

    [Fact]
    public void Continue_OrMerge_WithAnotherWeightColumn_IsRefused_NamingTheOption()
    {
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 13, count: 64, offset: 0);
        var data = Weighted(ml, rows, weights);
        var weighted = Estimator(ml, new() { BatchSize = 16, ExampleWeightColumnName = "Weight" }).Fit(data);
        var unweighted = Estimator(ml, new() { BatchSize = 16 }).Fit(data);

        var continuing = Assert.Throws<ArgumentException>(() => Estimator(ml, new() { BatchSize = 16 }).Fit(data, weighted));
        Assert.Contains("ExampleWeightColumnName = 'Weight', this estimator null", continuing.Message);
        var merging = Assert.ThrowsAny<ArgumentException>(() => BatchNormalizingTransformer.Merge(unweighted, weighted));
        Assert.Contains("ExampleWeightColumnName", merging.Message);
    }

    [Fact]
    public void AWeightedModel_SavedAndLoaded_RemembersItsWeightColumn_AndContinues()
    {
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 15, count: 96, offset: 3);
        var estimator = Estimator(ml, new() { BatchSize = 16, WholeDataStatistics = true, ExampleWeightColumnName = "Weight" });
        var a = Weighted(ml, rows[..48], weights[..48]);
        using var stream = new MemoryStream();
        ml.Model.Save(estimator.Fit(a), a.Schema, stream);
        stream.Position = 0;
        var loaded = (BatchNormalizingTransformer)new MLContext(seed: 2).Model.Load(stream, out _);

        var continued = estimator.Fit(Weighted(ml, rows[48..], weights[48..]), loaded).Columns[0];
        var whole = estimator.Fit(Weighted(ml, rows, weights)).Columns[0];

        Assert.Equal(whole.RunningVariance[0], continued.RunningVariance[0], 1e-12 * whole.RunningVariance[0]);
        var refused = Assert.Throws<ArgumentException>(() => Estimator(ml, new() { BatchSize = 16, WholeDataStatistics = true }).Fit(a, loaded));
        Assert.Contains("ExampleWeightColumnName", refused.Message);
    }

    [Theory]
    [InlineData(-1f, "-1")]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "Infinity")]
    public void ABadWeight_FailsTheFit_NamingTheColumnTheWeightAndTheRow(float weight, string shown)
    {
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 17, count: 40, offset: 0);
        weights[17] = weight;

        var error = Assert.Throws<InvalidOperationException>(() => Estimator(ml, new() { BatchSize = 8, ExampleWeightColumnName = "Weight" }).Fit(Weighted(ml, rows, weights)));

        Assert.StartsWith($"Column 'Weight' gave weight {shown} at row 17: ", error.Message);
    }

    [Fact]
    public void ABadWeight_InAParallelFit_IsNamedByItsRowInTheWholeSource()
    {
        // Row 33 is read by the last of three threads (rows 32-47): the message still counts from the source's first row.
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 17, count: 48, offset: 0);
        weights[33] = -1f;

        var error = Assert.Throws<InvalidOperationException>(() => Estimator(ml, new() { BatchSize = 8, ExampleWeightColumnName = "Weight", NumberOfThreads = 3 }).Fit(Weighted(ml, rows, weights)));

        Assert.StartsWith("Column 'Weight' gave weight -1 at row 33: ", error.Message);
    }

    [Fact]
    public void AMissingWeightColumn_IsRefusedAtSchemaTime()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, TestData.Random(1, 10, Slots), Slots);
        var estimator = Estimator(ml, new() { ExampleWeightColumnName = "Weight" });

        Assert.Contains("'Weight'", Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data)).Message);
        Assert.Contains("'Weight'", Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shapes.Of(data.Schema))).Message);
    }

    [Fact]
    public void AWeightColumnThatIsNotAScalarSingleOrDouble_IsRefusedAtSchemaTime_NamingExpectedAndGot()
    {
        var ml = new MLContext(seed: 1);
        var data = TestData.Vectors(ml, TestData.Random(1, 10, Slots), Slots); // "Features" as the weight column: a vector
        var estimator = Estimator(ml, new() { ExampleWeightColumnName = "Features" });

        foreach (var error in new[]
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => estimator.Fit(data)),
            Assert.Throws<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(Shapes.Of(data.Schema))),
        })
        {
            Assert.Contains("example-weight column 'Features': expected scalar Single or Double, got Vector<Single", error.Message);
        }
    }

    [Fact]
    public void TheTrainingPass_NormalizesEachBatch_WithItsWeightedStatistics()
    {
        const int batchSize = 20;
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 19, count: 60, offset: 50);
        for (int i = 40; i < 60; i++)
        {
            weights[i] = i == 45 ? 1.5f : 0; // the last batch weighs 1.5 < 2: the running statistics
        }

        var data = Weighted(ml, rows, weights);
        var model = Estimator(ml, new() { BatchSize = batchSize, BatchStatisticsInTraining = true, Epsilon = 1e-12, ExampleWeightColumnName = "Weight" }).Fit(data);

        var output = TestData.ReadVectors(model.TransformForTraining(data), "Normalized");

        var p = model.Columns[0];
        for (int start = 0; start < rows.Length; start += batchSize)
        {
            for (int j = 0; j < Slots; j++)
            {
                var (mean, variance) = start < 40
                    ? WeightedMoments(rows[start..(start + batchSize)], weights[start..(start + batchSize)], j, unbiased: false)
                    : (p.RunningMean[j], p.RunningVariance[j]);
                for (int i = start; i < start + batchSize; i++)
                {
                    double expected = (rows[i][j] - mean) / Math.Sqrt(variance + 1e-12);
                    Assert.Equal(expected, output[i][j], 1e-5 * Math.Max(1, Math.Abs(expected)));
                }
            }
        }
    }

    [Fact]
    public void TheTrainingPass_OfAWeightedFit_OnDataWithoutTheWeightColumn_IsRefusedNamingIt()
    {
        var ml = new MLContext(seed: 1);
        var (rows, weights) = Rows(seed: 21, count: 40, offset: 0);
        var model = Estimator(ml, new() { BatchSize = 8, BatchStatisticsInTraining = true, ExampleWeightColumnName = "Weight" }).Fit(Weighted(ml, rows, weights));

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.TransformForTraining(TestData.Vectors(ml, rows, Slots)));

        Assert.Contains("'Weight'", error.Message);
    }

    [Fact]
    public void AnEmptyWeightColumnName_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => Estimator(new MLContext(seed: 1), new() { ExampleWeightColumnName = "" }));

        Assert.Equal("ExampleWeightColumnName", error.ParamName);
    }

    internal static BatchNormalizingEstimator Estimator(MLContext ml, BatchNormalizingEstimator.Options options) =>
        ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Features")], options);

    internal static IDataView Weighted(MLContext ml, float[][] rows, float[] weights) =>
        ml.Data.LoadFromEnumerable(rows.Select((r, i) => new WeightedRow { Features = r, Weight = weights[i] }).ToArray(), Schema<WeightedRow>());

    /// <summary>Rows of <see cref="Slots"/> values around <paramref name="offset"/> (slot j: spread j + 1), weights in [0, 3).</summary>
    internal static (float[][] Rows, float[] Weights) Rows(int seed, int count, double offset)
    {
        var rows = TestData.Random(seed, count, Slots, mean: 0, std: 1);
        foreach (var row in rows)
        {
            for (int j = 0; j < Slots; j++)
            {
                row[j] = (float)(offset + ((j + 1) * row[j]));
            }
        }

        var random = new Random(seed);
        return (rows, Enumerable.Range(0, count).Select(_ => (float)(3 * random.NextDouble())).ToArray());
    }

    /// <summary>Two-pass weighted mean and variance (biased, or divided by W - 1) of slot <paramref name="j"/>'s finite values.</summary>
    internal static (double Mean, double Variance) WeightedMoments(float[][] rows, float[] weights, int j, bool unbiased)
    {
        var pairs = rows.Select((r, i) => (X: (double)r[j], W: (double)weights[i])).Where(p => double.IsFinite(p.X)).ToArray();
        double w = pairs.Sum(p => p.W);
        double first = pairs[0].X; // the mean summed relative to a value, so a large offset does not round it
        double mean = first + (pairs.Sum(p => p.W * (p.X - first)) / w);
        double m2 = pairs.Sum(p => p.W * (p.X - mean) * (p.X - mean));
        return (mean, m2 / (unbiased ? w - 1 : w));
    }

    private static SchemaDefinition Schema<TRow>()
    {
        var schema = SchemaDefinition.Create(typeof(TRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Slots);
        return schema;
    }
}
