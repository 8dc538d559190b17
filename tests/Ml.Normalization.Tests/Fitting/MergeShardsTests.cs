using Microsoft.ML;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Fitting;

/// <summary>
/// Fits of consecutive shards merge into the fit of their concatenation, for every statistics rule (momentum in row
/// order; the average and whole data in any order), up to double rounding; mismatched shards are refused.
/// </summary>
public sealed class MergeShardsTests : IDisposable
{
    private const int BatchSize = 32;
    private readonly string _dir = Directory.CreateTempSubdirectory("mlnorm-shards-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("whole-data")]
    [InlineData("average")]
    [InlineData("momentum")]
    [InlineData("momentum-unbiased-no-correction")]
    public async Task FourShardsOfABinaryIdv_FittedInParallel_MergeIntoTheSerialFit(string mode)
    {
        var ml = new MLContext(seed: 1);
        var rows = WholeDataStatisticsTests.Drifting(rows: 4 * 8 * BatchSize, slots: 6);
        rows[5][1] = float.NaN;
        string path = Path.Combine(_dir, "data.idv");
        using (var file = File.Create(path))
        {
            ml.Data.SaveAsBinary(TestData.Vectors(ml, rows, 6), file);
        }

        var options = Options(mode);
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
        Approx.Equal([.. s.RunningMean], [.. m.RunningMean], mode == "whole-data" ? 1e-14 : 1e-12, 0, "running mean");
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
    public void MomentumShards_OutOfRowOrder_GiveAnotherFit()
    {
        // The momentum rule weighs later batches more: the order of the shards is the order of the rows.
        var ml = new MLContext(seed: 1);
        var (a, b, all) = ContinueFitTests.Data(ml, rowsA: 64, rowsB: 64);
        var estimator = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Features")], Options("momentum"));
        var (fitA, fitB) = (estimator.Fit(a), estimator.Fit(b));

        var inOrder = BatchNormalizingTransformer.Merge(fitA, fitB).Columns[0];
        var reversed = BatchNormalizingTransformer.Merge(fitB, fitA).Columns[0];
        var serial = estimator.Fit(all).Columns[0];

        Approx.Equal([.. serial.RunningMean], [.. inOrder.RunningMean], 1e-12, 0, "running mean in row order");
        Assert.True(Math.Abs(serial.RunningMean[0] - reversed.RunningMean[0]) > 1e-4 * Math.Abs(serial.RunningMean[0]),
            $"reversed shards gave {reversed.RunningMean[0]}, the serial fit {serial.RunningMean[0]}");
    }

    [Fact]
    public void MismatchedShards_AreRefused()
    {
        var ml = new MLContext(seed: 1);
        var (a, b, _) = ContinueFitTests.Data(ml, rowsA: 32, rowsB: 32);
        var whole = ContinueFitTests.Estimator(ml, "whole-data").Fit(a);
        var average = ContinueFitTests.Estimator(ml, "average").Fit(b);
        var given = ml.Transforms.BatchNormalize(new BatchNormalizationParameters("Normalized", "Features", new double[5], new double[5], epsilon: 1e-5)).Fit(a);

        Assert.Equal("Shard 1's column 'Normalized' was fitted with WholeDataStatistics = false, shard 0's with true; shards merge only with the same statistics options. (Parameter 'shards')",
            Assert.Throws<ArgumentException>(() => BatchNormalizingTransformer.Merge(whole, average)).Message);
        Assert.Contains("no fit state", Assert.Throws<ArgumentException>(() => BatchNormalizingTransformer.Merge(whole, given)).Message);
    }

    [Fact]
    public void MomentumShards_WithAnotherMomentum_AreRefused_NamingMomentum()
    {
        var ml = new MLContext(seed: 1);
        var (a, b, _) = ContinueFitTests.Data(ml, rowsA: 32, rowsB: 32);
        var first = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Features")], new BatchNormalizingEstimator.Options { Momentum = 0.5f }).Fit(a);
        var second = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Features")], new BatchNormalizingEstimator.Options { Momentum = 0.75f }).Fit(b);

        var ex = Assert.Throws<ArgumentException>(() => BatchNormalizingTransformer.Merge(first, second));

        Assert.Equal("shards", ex.ParamName);
        Assert.StartsWith("Shard 1's column 'Normalized' was fitted with Momentum = 0.75, shard 0's with 0.5;", ex.Message);
    }

    private static BatchNormalizingEstimator.Options Options(string mode) => mode switch
    {
        "whole-data" => new() { BatchSize = BatchSize, WholeDataStatistics = true, Momentum = null },
        "average" => new() { BatchSize = BatchSize, Momentum = null },
        "momentum" => new() { BatchSize = BatchSize },
        "momentum-unbiased-no-correction" => new() { BatchSize = BatchSize, Momentum = 0.75f, BiasCorrection = false, UnbiasedRunningVariance = true, InitialRunningVariance = 1 },
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };
}
