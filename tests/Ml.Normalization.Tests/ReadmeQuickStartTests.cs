using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Testing;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests;

/// <summary>The README's code (the quick start, un-normalizing predictions), line for line, so it cannot drift from the API.</summary>
public sealed class ReadmeQuickStartTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mlnorm-readme-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void QuickStart_RunsAsWritten()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ModelIo.ToView(ml, TestData.Random(1, 600, 8, mean: 3, std: 2));

        var pipeline = ml.Transforms.BatchNormalize("Features", batchSize: 256, momentum: 0.9)
            .Append(ml.Transforms.Dropout("Features", dropProbability: 0.2f))
            .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression());
        var model = pipeline.Fit(train);

        ml.Model.Save(model, train.Schema, Path.Combine(_dir, "model.zip"));
        var loaded = new MLContext().Model.Load(Path.Combine(_dir, "model.zip"), out var schema);

        var bn = loaded.GetStages<BatchNormalizingTransformer>().Single();
        Assert.Equal(8, bn.Columns[0].RunningMean.Count);
        Assert.Equal(((BatchNormalizingTransformer)model.First()).Columns[0].RunningMean, bn.Columns[0].RunningMean);

        using (var onnx = File.Create(Path.Combine(_dir, "model.onnx")))
        {
            ml.Model.ConvertToOnnx(model, train, onnx);
        }

        Assert.True(new FileInfo(Path.Combine(_dir, "model.onnx")).Length > 0);
        Assert.Equal(
            model.Transform(train).GetColumn<float>("Score").ToArray(),
            loaded.Transform(train).GetColumn<float>("Score").ToArray());
        Assert.Contains(schema, c => c.Name == "Features");
    }

    [Fact]
    public void UnNormalizingPredictions_RunsAsWritten_AndScoresOnTheLabelsScale()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Prices(seed: 1, 2000));
        IDataView newData = ml.Data.LoadFromEnumerable(Prices(seed: 2, 500));

        var labelScaler = ml.Transforms.BatchNormalize("Label", new BatchNormalizingEstimator.Options { WholeDataStatistics = true })
            .Fit(train);
        var regression = ml.Transforms.BatchNormalize("Features")
            .Append(ml.Regression.Trainers.Sdca(labelColumnName: "Label", featureColumnName: "Features"))
            .Fit(labelScaler.Transform(train));

        var model = regression.Append(labelScaler.GetInverse("Score"));
        var metrics = ml.Regression.Evaluate(model.Transform(newData));

        // The scores are on the label's scale: their mean is the label's (within a tenth of its spread), where the
        // regressor's own scores are centred on 0.
        var labels = newData.GetColumn<float>("Label").Select(v => (double)v).ToArray();
        var scores = model.Transform(newData).GetColumn<float>("Score").Select(v => (double)v).ToArray();
        double labelMean = labels.Average(), labelSpread = Math.Sqrt(labels.Average(v => (v - labelMean) * (v - labelMean)));
        Assert.InRange(scores.Average(), labelMean - (0.1 * labelSpread), labelMean + (0.1 * labelSpread));
        Assert.InRange(regression.Transform(labelScaler.Transform(newData)).GetColumn<float>("Score").Average(), -0.1, 0.1);

        // R² is that of the normalized scale, as it must be for an exact inverse: R² is unchanged when the label and the
        // score go through the same affine map. The difference is float rounding of values around 2.5e5 (~0.1 at most)
        // against residuals of ~1e4, far below 1e-4; a wrong scale or offset would change R² at the first digits.
        var normalized = ml.Regression.Evaluate(regression.Transform(labelScaler.Transform(newData)));
        Assert.True(metrics.RSquared > 0.9, $"R² {metrics.RSquared}");
        Assert.InRange(metrics.RSquared, normalized.RSquared - 1e-4, normalized.RSquared + 1e-4);
        var label = labelScaler.Columns[0];
        double sigma = Math.Sqrt(label.RunningVariance[0] + label.Epsilon); // gamma 1: one normalized unit is sigma
        Assert.InRange(metrics.MeanAbsoluteError / normalized.MeanAbsoluteError, sigma * (1 - 1e-4), sigma * (1 + 1e-4));
    }

    /// <summary>Seeded house prices: around 250,000, linear in four features of different scales, with noise of 10,000.</summary>
    private static PriceRow[] Prices(int seed, int rows)
    {
        var random = new Random(seed);
        double[] weights = [30_000, -20_000, 15_000, 5_000];
        double[] scales = [1, 50, 0.01, 1000];
        return [.. Enumerable.Range(0, rows).Select(_ =>
        {
            var z = Enumerable.Range(0, 4).Select(_ => Gaussian(random)).ToArray();
            double price = 250_000 + z.Select((v, j) => v * weights[j]).Sum() + (10_000 * Gaussian(random));
            return new PriceRow { Features = [.. z.Select((v, j) => (float)((v * scales[j]) + (2 * scales[j])))], Label = (float)price };
        })];
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private sealed class PriceRow
    {
        [VectorType(4)]
        public float[] Features { get; set; } = [];

        public float Label { get; set; }
    }
}
