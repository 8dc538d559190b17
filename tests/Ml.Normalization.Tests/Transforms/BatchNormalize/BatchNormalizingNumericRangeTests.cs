using Microsoft.ML;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>Valid data of any finite magnitude fits; what cannot be represented fails with the column and slot named.</summary>
public class BatchNormalizingNumericRangeTests
{
    [Fact]
    public void SingleColumn_OfMagnitude1e18_Fits_AndNormalizes()
    {
        // Nanosecond timestamps (1.7e18) spread over decades: the squared deviations overflow a float sum.
        var ml = new MLContext(seed: 1);
        var rows = TestData.Random(21, 2000, 3, mean: 1.7e18, std: 1e18);
        var data = TestData.Vectors(ml, rows, 3);

        var model = ml.Transforms.BatchNormalize("Features", batchSize: 2000).Fit(data);

        var p = model.Columns[0];
        for (int j = 0; j < 3; j++)
        {
            double mean = rows.Average(r => (double)r[j]);
            double variance = rows.Average(r => Math.Pow(r[j] - mean, 2));
            Assert.Equal(mean, p.RunningMean[j], 1e-6 * Math.Abs(mean));
            Assert.Equal(variance, p.RunningVariance[j], 1e-6 * variance);
        }

        var output = TestData.ReadVectors(model.Transform(data), "Features");
        for (int j = 0; j < 3; j++)
        {
            Assert.Equal(0.0, output.Average(r => (double)r[j]), 1e-5);
            Assert.Equal(1.0, output.Average(r => (double)r[j] * r[j]), 1e-5);
        }
    }

    [Theory]
    [InlineData(3, 1e300, "variance")]   // squares of 1e300 overflow Double
    [InlineData(1, 1.5e308, "mean")]     // deviations of 3e308 from the first value overflow Double
    public void DoubleColumn_WhoseStatisticOverflows_FailsNamingTheColumnAndSlot(int slot, double magnitude, string statistic)
    {
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 40).Select(i =>
        {
            var row = new double[] { i, 2.0 * i, -i, 0.5 * i };
            row[slot] = i % 2 == 0 ? magnitude : -magnitude;
            return row;
        }).ToArray();
        var estimator = ml.Transforms.BatchNormalize("Out", "Features", batchSize: 8);

        var ex = Assert.Throws<InvalidOperationException>(() => estimator.Fit(TestData.DoubleVectors(ml, rows, 4)));

        Assert.Equal($"BatchNormalize cannot fit input column 'Features', slot {slot}: its {statistic} is beyond the range of Double. Scale the column's values down before normalizing.", ex.Message);
    }
}
