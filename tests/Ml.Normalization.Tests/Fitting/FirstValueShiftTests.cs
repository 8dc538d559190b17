using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// A per-slot column whose very first value is far from the rest (an imputed 0 before values near 1e9) keeps the
/// variance of its later batches: each batch's sums are shifted by that batch's own first value, not the fit's.
/// Before, the shift was the first value ever, 0 here, and the later batches' variance of ~1/12 came out as rounding
/// noise of 1e18-sized sums (found in review).
/// </summary>
public class FirstValueShiftTests
{
    private const int BatchSize = 8;
    private const double Offset = 1e9;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Fit_AFirstValueFarFromTheRest_KeepsTheLaterBatchesVariance(bool sparse)
    {
        var random = new Random(3);
        var rows = new double[5 * BatchSize][];
        for (int r = 0; r < rows.Length; r++)
        {
            rows[r] = [r == 0 ? 0 : Offset + random.NextDouble(), 1 + random.NextDouble()];
        }

        var ml = new MLContext(seed: 1);
        var view = View(ml, rows, sparse);
        // Momentum 0: the running statistics are the last batch's, computed here exactly by two passes.
        var options = new BatchNormalizingEstimator.Options { BatchSize = BatchSize, Momentum = 0f, BiasCorrection = false, Center = !sparse };
        var fitted = ml.Transforms.BatchNormalize([new InputOutputColumnPair("X")], options).Fit(view).Columns[0];

        var last = rows[^BatchSize..].Select(r => r[0]).ToArray();
        double mean = last.Average(), variance = last.Sum(v => (v - mean) * (v - mean)) / last.Length;
        Assert.InRange(variance, 0.02, 0.2);
        Assert.Equal(mean, fitted.RunningMean[0], mean * 1e-15);
        Assert.Equal(variance, fitted.RunningVariance[0], variance * 1e-6); // sums of ~1 deviations, not of ~1e9 values
    }

    private static IDataView View(MLContext ml, double[][] rows, bool sparse)
    {
        var data = rows.Select(r => new Row
        {
            X = sparse && r[0] == 0 ? new VBuffer<double>(2, 1, [r[1]], [1]) : new VBuffer<double>(2, r),
        }).ToArray();
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Double, 2);
        return ml.Data.LoadFromEnumerable(data, schema);
    }

    private sealed class Row
    {
        public VBuffer<double> X { get; set; }
    }
}
