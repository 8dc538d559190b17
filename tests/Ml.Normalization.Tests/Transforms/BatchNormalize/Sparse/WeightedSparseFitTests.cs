using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Sparse;

/// <summary>
/// A weighted fit of sparse rows: fitted dense, each implicit zero carrying its row's weight, so it equals the weighted
/// fit of the same rows given dense, bit for bit.
/// </summary>
public class WeightedSparseFitTests
{
    private const int Slots = 12;

    public sealed class WeightedRow
    {
        public VBuffer<float> Features { get; set; }

        public float Weight { get; set; }
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(false, 0.9)]
    [InlineData(false, null)]
    public void SparseRows_FitAsTheirDenseForm_WithTheRowsWeights(bool wholeData, double? momentum)
    {
        var ml = new MLContext(seed: 1);
        var rows = SparseData.Make(seed: 4, rows: 300, Slots, withNaN: true);
        var random = new Random(5);
        var weights = rows.Select(_ => random.Next(4) == 0 ? 0f : (float)(3 * random.NextDouble())).ToArray();
        var options = new BatchNormalizingEstimator.Options { BatchSize = 32, WholeDataStatistics = wholeData, Momentum = momentum, ExampleWeightColumnName = "Weight" };

        var sparse = Fit(ml, options, rows, weights, sparse: true);
        var dense = Fit(ml, options, rows, weights, sparse: false);
        var unweighted = Fit(ml, new BatchNormalizingEstimator.Options { BatchSize = 32, WholeDataStatistics = wholeData, Momentum = momentum }, rows, weights, sparse: true);

        Assert.Equal(dense.RunningMean, sparse.RunningMean);
        Assert.Equal(dense.RunningVariance, sparse.RunningVariance);
        Assert.NotEqual(unweighted.RunningVariance, sparse.RunningVariance);
    }

    private static BatchNormalizationParameters Fit(MLContext ml, BatchNormalizingEstimator.Options options, (int[] Indices, double[] Values)[] rows, float[] weights, bool sparse)
    {
        var schema = SchemaDefinition.Create(typeof(WeightedRow));
        schema[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Slots);
        var data = ml.Data.LoadFromEnumerable(rows.Select((r, i) => new WeightedRow { Features = SparseData.Vector(r, Slots, sparse, v => (float)v), Weight = weights[i] }).ToArray(), schema);
        return ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data).Columns[0];
    }
}
