using Microsoft.ML;
using Ml.Normalization.Tests.TestSupport;
using Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// Whole-data statistics of values with a large common offset (|mean| / std up to 1e6) stay within 1e-12 relative of a
/// two-pass reference, for every batch size from 2 up, and through merges and continued fits: the state keeps each
/// unit's mean relative to an origin of its own, so no combination step rounds at the offset's magnitude.
/// </summary>
public class WholeDataLargeOffsetTests
{
    public static TheoryData<int, double, double> Cases()
    {
        var data = new TheoryData<int, double, double>();
        foreach (int batchSize in new[] { 2, 3, 7, 256, 1000 })
        {
            data.Add(batchSize, 1e6, 1);       // around 1e6, spread 1 (the case)
            data.Add(batchSize, -1e3, 1e-3);   // around -1000, spread 0.001
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fit_OfValuesFarFromZero_IsWithin1e12OfTwoPass(int batchSize, double offset, double spread)
    {
        var values = Values(offset, spread);

        var p = Estimator(batchSize).Fit(View(values)).Columns[0];

        AssertMatches(values, p);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MergeAndContinue_OfValuesFarFromZero_AreWithin1e12OfTwoPass(int batchSize, double offset, double spread)
    {
        var values = Values(offset, spread);
        var estimator = Estimator(batchSize);
        var thirds = values.Chunk(1000).Select(chunk => estimator.Fit(View(chunk))).ToArray();

        var merged = BatchNormalizingTransformer.Merge(thirds).Columns[0];
        var continued = estimator.Fit(View(values[2000..]), estimator.Fit(View(values[1000..2000]), thirds[0])).Columns[0];

        AssertMatches(values, merged);
        AssertMatches(values, continued);
    }

    private static void AssertMatches(double[] values, BatchNormalizationParameters fitted)
    {
        var (mean, variance) = ReferenceStatistics.Moments(values);
        Assert.Equal(mean, fitted.RunningMean[0], Math.Abs(mean) * 1e-15);
        double error = Math.Abs(fitted.RunningVariance[0] - variance) / variance;
        Assert.True(error <= 1e-12, $"variance {fitted.RunningVariance[0]:R}, two-pass {variance:R}: relative error {error:E2}");
    }

    /// <summary>3,000 values: the offset, a small drift and uniform noise of the given spread.</summary>
    private static double[] Values(double offset, double spread)
    {
        var random = new Random(19);
        return [.. Enumerable.Range(0, 3000).Select(i => offset + (spread * ((1e-4 * i) + (2 * random.NextDouble()) - 1)))];
    }

    private static BatchNormalizingEstimator Estimator(int batchSize) =>
        new MLContext(seed: 1).Transforms.BatchNormalize("Features", new BatchNormalizingEstimator.Options { WholeDataStatistics = true, BatchSize = batchSize });

    private static IDataView View(double[] values) =>
        SparseData.Doubles(new MLContext(seed: 1), [.. values.Select(v => (new[] { 0 }, new[] { v }))], slots: 1, sparse: false);
}
