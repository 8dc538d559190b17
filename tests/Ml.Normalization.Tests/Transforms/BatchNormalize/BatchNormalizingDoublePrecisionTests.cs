using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>A Double column keeps double statistics and parameters: fit, parameters, save/load and transform.</summary>
public class BatchNormalizingDoublePrecisionTests
{
    private const double DoubleTolerance = 1e-12; // relative; float storage is off by ~6e-8

    [Fact]
    public void DoubleColumn_OfMagnitude1e20_Fits_AndNormalizes()
    {
        // Variances of ~4e40 are beyond float's range (3.4e38).
        var ml = new MLContext(seed: 1);
        var rows = Rows(seed: 41, count: 600, slots: 3, mean: 5e20, std: 2e20);
        var model = ml.Transforms.BatchNormalize("Out", "Features", batchSize: 64).Fit(TestData.DoubleVectors(ml, rows, 3));

        var (mean, variance) = ReferenceStatistics.Running(rows, 64, 0.9);
        AssertStatistics(mean, variance, model.Columns[0]);
        AssertOutputs(rows, mean, variance, ml, model);
    }

    [Fact]
    public void DoubleColumn_Statistics_MatchAnExactDoubleReference_ToDoublePrecision()
    {
        // An offset float would round by ~0.06: the statistics and outputs must keep double's 16 digits.
        var ml = new MLContext(seed: 1);
        var rows = Rows(seed: 42, count: 1000, slots: 5, mean: 1.234567890123e6, std: 0.37);
        var model = ml.Transforms.BatchNormalize("Out", "Features", batchSize: 64).Fit(TestData.DoubleVectors(ml, rows, 5));

        var (mean, variance) = ReferenceStatistics.Running(rows, 64, 0.9);
        AssertStatistics(mean, variance, model.Columns[0]);
        AssertOutputs(rows, mean, variance, ml, model);
    }

    [Fact]
    public void DoubleStatistics_SurviveSaveAndLoad_Exactly()
    {
        var ml = new MLContext(seed: 1);
        var rows = Rows(seed: 43, count: 300, slots: 4, mean: -3.141592653589793e15, std: 1.5e3);
        var data = TestData.DoubleVectors(ml, rows, 4);
        var model = ml.Transforms.BatchNormalize("Out", "Features", batchSize: 50).Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        stream.Position = 0;

        var loaded = new MLContext(seed: 2).Model.Load(stream, out _);

        var stage = Assert.IsType<BatchNormalizingTransformer>(loaded is TransformerChain<ITransformer> chain ? chain.Single() : loaded);
        var (mean, variance) = ReferenceStatistics.Running(rows, 50, 0.9);
        AssertStatistics(mean, variance, stage.Columns[0]);
        Assert.Equal(model.Columns[0].RunningMean, stage.Columns[0].RunningMean);
        Assert.Equal(model.Columns[0].RunningVariance, stage.Columns[0].RunningVariance);
        Assert.Equal(Read(model.Transform(data)), Read(loaded.Transform(data)));
    }

    private static double[][] Rows(int seed, int count, int slots, double mean, double std)
    {
        var flat = SeededData.NormalDouble(seed, count * slots, mean, std);
        return Enumerable.Range(0, count).Select(i => flat.AsSpan(i * slots, slots).ToArray()).ToArray();
    }

    private static void AssertStatistics(double[] mean, double[] variance, BatchNormalizationParameters p)
    {
        for (int j = 0; j < mean.Length; j++)
        {
            Assert.Equal(mean[j], p.RunningMean[j], DoubleTolerance * Math.Abs(mean[j]));
            Assert.Equal(variance[j], p.RunningVariance[j], DoubleTolerance * variance[j]);
        }
    }

    private static void AssertOutputs(double[][] rows, double[] mean, double[] variance, MLContext ml, BatchNormalizingTransformer model)
    {
        var output = Read(model.Transform(TestData.DoubleVectors(ml, rows, mean.Length)));
        for (int i = 0; i < rows.Length; i++)
        {
            for (int j = 0; j < mean.Length; j++)
            {
                double expected = (rows[i][j] - mean[j]) / Math.Sqrt(variance[j] + 1e-5);
                Assert.Equal(expected, output[i][j], 1e-9 * (1 + Math.Abs(expected)));
            }
        }
    }

    private static double[][] Read(IDataView view) =>
        view.GetColumn<VBuffer<double>>("Out").Select(v => v.DenseValues().ToArray()).ToArray();
}
