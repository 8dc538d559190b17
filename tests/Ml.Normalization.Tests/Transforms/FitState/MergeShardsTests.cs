using Microsoft.ML;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.FitState;

/// <summary>
/// Fits of disjoint shards merge into the fit of their concatenation (whole-data statistics, or Momentum = null with
/// shards of whole batches), up to double rounding; momentum fits and mismatched shards are refused.
/// </summary>
public sealed class MergeShardsTests : IDisposable
{
    private const int BatchSize = 32;
    private readonly string _dir = Directory.CreateTempSubdirectory("mlnorm-shards-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FourShardsOfABinaryIdv_FittedInParallel_MergeIntoTheSerialFit(bool wholeData)
    {
        var ml = new MLContext(seed: 1);
        var rows = WholeDataStatisticsTests.Drifting(rows: 4 * 8 * BatchSize, slots: 6);
        rows[5][1] = float.NaN;
        string path = Path.Combine(_dir, "data.idv");
        using (var file = File.Create(path))
        {
            ml.Data.SaveAsBinary(TestData.Vectors(ml, rows, 6), file);
        }

        var options = new BatchNormalizingEstimator.Options { BatchSize = BatchSize, WholeDataStatistics = wholeData, Momentum = null };
        var data = ml.Data.LoadFromBinary(path);
        long shardRows = rows.Length / 4;
        var shards = Enumerable.Range(0, 4).Select(k => Task.Run(() =>
        {
            // Each worker: its own context and its own slice of the file, as on separate machines.
            var worker = new MLContext(seed: k);
            var file = worker.Data.LoadFromBinary(path);
            var shard = worker.Data.TakeRows(k == 0 ? file : worker.Data.SkipRows(file, k * shardRows), shardRows);
            return worker.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(shard);
        })).ToArray();
        var merged = BatchNormalizingTransformer.Merge(await Task.WhenAll(shards));
        var serial = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data);

        var (m, s) = (merged.Columns[0], serial.Columns[0]);
        Approx.Equal([.. s.RunningMean], [.. m.RunningMean], 1e-14, 0, "running mean");
        Approx.Equal([.. s.RunningVariance], [.. m.RunningVariance], 1e-12, 0, "running variance");
        Assert.Equal(s.BatchCount, m.BatchCount);
        Assert.Equal(s.RowCount, m.RowCount);
    }

    [Fact]
    public void MergedModel_SavesLoads_AndContinues()
    {
        var ml = new MLContext(seed: 1);
        var (a, b, all) = ContinueFitTests.Data(ml, rowsA: 64, rowsB: 40);
        var estimator = ContinueFitTests.Estimator(ml, "whole-data");
        var merged = BatchNormalizingTransformer.Merge(estimator.Fit(a), estimator.Fit(b));
        using var stream = new MemoryStream();
        ml.Model.Save(merged, all.Schema, stream);
        stream.Position = 0;
        var loaded = (BatchNormalizingTransformer)ml.Model.Load(stream, out _);

        Assert.Equal(merged.Columns[0].RunningVariance, loaded.Columns[0].RunningVariance);
        var continued = estimator.Fit(a, loaded); // A counted twice: the statistics of A + B + A
        var twice = estimator.Fit(TestData.Vectors(ml, TestData.ReadVectors(all, "Features").Concat(TestData.ReadVectors(a, "Features")), 5));
        Approx.Equal([.. twice.Columns[0].RunningMean], [.. continued.Columns[0].RunningMean], 1e-14, 0, "running mean");
    }

    [Fact]
    public void MomentumFits_AreRefused_NamingMomentum()
    {
        var ml = new MLContext(seed: 1);
        var (a, b, _) = ContinueFitTests.Data(ml, rowsA: 32, rowsB: 32);
        var estimator = ContinueFitTests.Estimator(ml, "momentum");

        var ex = Assert.Throws<ArgumentException>(() => BatchNormalizingTransformer.Merge(estimator.Fit(a), estimator.Fit(b)));

        Assert.Equal("shards", ex.ParamName);
        Assert.Contains("Momentum = 0.9:", ex.Message); // the default as written, not a widened float
    }

    [Fact]
    public void MismatchedShards_AreRefused()
    {
        var ml = new MLContext(seed: 1);
        var (a, b, _) = ContinueFitTests.Data(ml, rowsA: 32, rowsB: 32);
        var whole = ContinueFitTests.Estimator(ml, "whole-data").Fit(a);
        var average = ContinueFitTests.Estimator(ml, "average").Fit(b);
        var given = ml.Transforms.BatchNormalize(new BatchNormalizationParameters("Normalized", "Features", new double[5], new double[5], epsilon: 1e-5)).Fit(a);

        Assert.Contains("other statistics options", Assert.Throws<ArgumentException>(() => BatchNormalizingTransformer.Merge(whole, average)).Message);
        Assert.Contains("no fit state", Assert.Throws<ArgumentException>(() => BatchNormalizingTransformer.Merge(whole, given)).Message);
    }
}
