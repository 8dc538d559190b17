using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// A fit on several threads (issue 21, item 1): consecutive chunks of whole batches, each fitted on a thread of its own
/// and combined in row order, equal the serial fit within 1e-12 relative for every rule and layout, dense, per channel,
/// sparse and Double; one thread is the serial fit itself.
/// </summary>
public class ParallelFitTests
{
    private const int Rows = 1003, Size = 9, BatchSize = 32;

    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var mode in Modes.Keys)
        {
            foreach (int threads in new[] { 2, 3, 4 })
            {
                data.Add(mode, threads);
            }
        }

        return data;
    }

    private static readonly Dictionary<string, Func<BatchNormalizingEstimator.Options>> Modes = new()
    {
        ["momentum"] = () => new() { BatchSize = BatchSize },
        ["momentum, unbiased, no bias correction"] = () => new() { BatchSize = BatchSize, UnbiasedRunningVariance = true, BiasCorrection = false, InitialRunningVariance = 1 },
        ["average"] = () => new() { BatchSize = BatchSize, Momentum = null },
        ["whole data"] = () => new() { BatchSize = BatchSize, WholeDataStatistics = true },
        ["channels first"] = () => new() { BatchSize = BatchSize, ChannelLayout = ChannelLayout.ChannelsFirst, ChannelCount = 3 },
        ["channels last, whole data"] = () => new() { BatchSize = BatchSize, ChannelLayout = ChannelLayout.ChannelsLast, ChannelCount = 3, WholeDataStatistics = true },
        ["sparse scale-only"] = () => new() { BatchSize = BatchSize, Center = false },
        ["sparse whole data"] = () => new() { BatchSize = BatchSize, Center = false, WholeDataStatistics = true },
        ["double"] = () => new() { BatchSize = BatchSize },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fit_OnSeveralThreads_EqualsTheSerialFit_Within1e12(string mode, int threads)
    {
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) =>
        {
            lock (messages)
            {
                messages.Add(e.Message);
            }
        };
        var data = View(ml, mode);
        var serialOptions = Modes[mode]();
        var parallelOptions = Modes[mode]();
        parallelOptions.NumberOfThreads = threads;

        var serial = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], serialOptions).Fit(data).Columns[0];
        var parallel = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], parallelOptions).Fit(data).Columns[0];

        double scale = serial.RunningMean.Max(Math.Abs) + Math.Sqrt(serial.RunningVariance.Max());
        Approx.Equal([.. serial.RunningMean], [.. parallel.RunningMean], 1e-12, 1e-12 * scale, $"{mode}, {threads} threads: mean");
        Approx.Equal([.. serial.RunningVariance], [.. parallel.RunningVariance], 1e-12, 0, $"{mode}, {threads} threads: variance");
        Assert.Equal((serial.BatchCount, serial.RowCount), (parallel.BatchCount, parallel.RowCount));
        Assert.Contains(messages, m => m.Contains($"on {threads} threads", StringComparison.Ordinal)); // the chunks did run apart
    }

    [Fact]
    public void Fit_OnOneThread_IsTheSerialFit_BitForBit()
    {
        var ml = new MLContext(seed: 1);
        var data = View(ml, "momentum");
        var serial = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], Modes["momentum"]()).Fit(data).Columns[0];
        var options = Modes["momentum"]();
        options.NumberOfThreads = 1;
        var one = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data).Columns[0];

        Assert.Equal(serial.RunningMean, one.RunningMean);
        Assert.Equal(serial.RunningVariance, one.RunningVariance);
    }

    [Fact]
    public void Fit_OfASourceWithoutARowCount_ReadsOnOneThread_BitForBit()
    {
        var ml = new MLContext(seed: 1);
        // A filter that keeps every row, but cannot say how many there are.
        var data = ml.Data.FilterRowsByColumn(View(ml, "momentum"), "Id", lowerBound: -1, upperBound: Rows + 1);
        Assert.Null(data.GetRowCount());
        var options = Modes["momentum"]();
        options.NumberOfThreads = 4;

        var parallel = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data).Columns[0];
        var serial = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], Modes["momentum"]()).Fit(data).Columns[0];

        Assert.Equal(serial.RunningMean, parallel.RunningMean);
    }

    [Fact]
    public void Fit_OnSeveralThreads_ContinuesAPreviousFit_AsTheSerialFitDoes()
    {
        var ml = new MLContext(seed: 1);
        var data = View(ml, "momentum");
        var estimator = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], Modes["momentum"]());
        var previous = estimator.Fit(data);
        var options = Modes["momentum"]();
        options.NumberOfThreads = 2;

        var serial = estimator.Fit(data, previous).Columns[0];
        var parallel = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data, previous).Columns[0];

        Approx.Equal([.. serial.RunningVariance], [.. parallel.RunningVariance], 1e-12, 0, "continued variance");
        Assert.Equal(serial.BatchCount, parallel.BatchCount);
    }

    [Fact]
    public void Fit_OnSeveralThreads_ThrowsARefusedRowsError_AsItIs()
    {
        // A malformed sparse row in the last chunk fails the fit with the same exception as on one thread.
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 200).Select(i => new SparseRow { Id = i, Features = i == 190 ? new VBuffer<float>(Size, 2, [1f, 2f], [5, 5]) : new VBuffer<float>(Size, 1, [i], [i % Size]) }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows, SparseSchema());
        var options = new BatchNormalizingEstimator.Options { BatchSize = BatchSize, Center = false, NumberOfThreads = 2 };

        var error = Assert.Throws<InvalidOperationException>(() => ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], options).Fit(data));
        Assert.Contains("'Features'", error.Message);
    }

    [Theory]
    [InlineData("momentum")]
    [InlineData("average")]
    [InlineData("whole data")]
    public void Fit_OfASourceThatSplitsItself_ComputesEachRowOnce(string mode)
    {
        // ML.NET's transforms feed their cursors from worker threads that compute every active column of every row they
        // pass, skipped or not: chunks of consecutive rows would compute the rows before each chunk again. Momentum and the
        // average (whose batches are rows in order) then read one cursor (ML.NET's workers already use the cores), whole
        // data the source's own cursor set.
        var ml = new MLContext(seed: 1);
        int computed = 0;
        var mapped = ml.Transforms.CustomMapping<FixedRow, MappedRow>((input, output) =>
        {
            Interlocked.Increment(ref computed);
            output.Mapped = input.Features;
        }, contractName: null).Fit(View(ml, "momentum")).Transform(View(ml, "momentum"));
        var serial = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Mapped")], Modes[mode]()).Fit(mapped).Columns[0];
        Assert.Equal(Rows, Interlocked.Exchange(ref computed, 0));
        var options = Modes[mode]();
        options.NumberOfThreads = 2;

        var parallel = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Mapped")], options).Fit(mapped).Columns[0];

        Assert.Equal(Rows, computed);
        double scale = serial.RunningMean.Max(Math.Abs) + Math.Sqrt(serial.RunningVariance.Max());
        Approx.Equal([.. serial.RunningMean], [.. parallel.RunningMean], 1e-12, 1e-12 * scale, $"{mode}: mean");
        Approx.Equal([.. serial.RunningVariance], [.. parallel.RunningVariance], 1e-12, 0, $"{mode}: variance");
        Assert.Equal(serial.RowCount, parallel.RowCount);
    }

    [Fact]
    public void Fit_OfMlNetsCache_ReadsConsecutiveChunks_AndComputesEachRowOnce()
    {
        // The cache splits itself too, but holds its rows in memory once computed: stepping over them is cheap.
        var ml = new MLContext(seed: 1);
        var messages = new List<string>();
        ml.Log += (_, e) =>
        {
            lock (messages)
            {
                messages.Add(e.Message);
            }
        };
        int computed = 0;
        var cached = ml.Data.Cache(ml.Transforms.CustomMapping<FixedRow, MappedRow>((input, output) =>
        {
            Interlocked.Increment(ref computed);
            output.Mapped = input.Features;
        }, contractName: null).Fit(View(ml, "momentum")).Transform(View(ml, "momentum")));
        var options = Modes["momentum"]();
        options.NumberOfThreads = 2;

        var parallel = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Mapped")], options).Fit(cached).Columns[0];
        var serial = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Mapped")], Modes["momentum"]()).Fit(cached).Columns[0];

        Assert.Equal(Rows, computed);
        Assert.Contains(messages, m => m.Contains("on 2 threads", StringComparison.Ordinal));
        Approx.Equal([.. serial.RunningVariance], [.. parallel.RunningVariance], 1e-12, 0, "variance");
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(100, 2)]
    [InlineData(31_250, 2)]
    [InlineData(4, 4)]
    [InlineData(1_000, 4)]
    [InlineData(7, 7)]
    public void ChunkBatches_GiveEveryBatchOnce_LaterChunksFewer(long batches, int count)
    {
        // Chunk k steps over the rows before it first, so it takes fewer: every thread finishes at about the same time.
        var chunks = Ml.Normalization.Transforms.BatchNormalize.BatchNormalizationFit.ChunkBatches(batches, count);

        Assert.Equal(count, chunks.Length);
        Assert.Equal(batches, chunks.Sum());
        Assert.All(chunks, c => Assert.True(c >= 1));
        for (int k = 1; k < count; k++)
        {
            Assert.True(chunks[k] <= chunks[k - 1] + 1, $"chunk {k}: {chunks[k]} after {chunks[k - 1]}");
        }

        if (batches >= 100)
        {
            Assert.True(chunks[0] > chunks[^1], "the first chunk takes more than the last");
        }
    }

    [Fact]
    public void NumberOfThreads_BelowOne_IsRefused()
    {
        var ml = new MLContext(seed: 1);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { NumberOfThreads = 0 }));
        Assert.Equal("NumberOfThreads", error.ParamName);
    }

    private static IDataView View(MLContext ml, string mode)
    {
        var random = new Random(3);
        if (mode == "double")
        {
            var doubles = Enumerable.Range(0, Rows).Select(i => new DoubleRow { Id = i, Features = [.. Enumerable.Range(0, Size).Select(j => 1e3 + (j * random.NextDouble()))] }).ToArray();
            var doubleSchema = SchemaDefinition.Create(typeof(DoubleRow));
            doubleSchema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Double, Size);
            return ml.Data.LoadFromEnumerable(doubles, doubleSchema);
        }

        if (mode.StartsWith("sparse", StringComparison.Ordinal))
        {
            var sparse = Enumerable.Range(0, Rows).Select(i =>
            {
                var indices = Enumerable.Range(0, Size).Where(_ => random.Next(3) == 0).ToArray();
                return new SparseRow { Id = i, Features = new VBuffer<float>(Size, indices.Length, [.. indices.Select(_ => (float)(5 + random.NextDouble()))], indices) };
            }).ToArray();
            return ml.Data.LoadFromEnumerable(sparse, SparseSchema());
        }

        var dense = Enumerable.Range(0, Rows).Select(i => new DenseRow { Id = i, Features = [.. Enumerable.Range(0, Size).Select(j => (float)(100 + (j * random.NextDouble()) + (i * 0.01)))] }).ToArray();
        var schema = SchemaDefinition.Create(typeof(DenseRow));
        schema["Features"].ColumnType = mode.StartsWith("channels", StringComparison.Ordinal)
            ? new VectorDataViewType(NumberDataViewType.Single, 3, 3) // [C, S] channels first, [S, C] channels last
            : new VectorDataViewType(NumberDataViewType.Single, Size);
        return ml.Data.LoadFromEnumerable(dense, schema);
    }

    private static SchemaDefinition SparseSchema()
    {
        var schema = SchemaDefinition.Create(typeof(SparseRow));
        schema["Features"].ColumnType = new VectorDataViewType(NumberDataViewType.Single, Size);
        return schema;
    }

    private sealed class DenseRow
    {
        public float Id { get; set; }

        public float[] Features { get; set; } = [];
    }

    private sealed class FixedRow
    {
        [VectorType(Size)]
        public float[] Features { get; set; } = [];
    }

    private sealed class MappedRow
    {
        [VectorType(Size)]
        public float[] Mapped { get; set; } = [];
    }

    private sealed class DoubleRow
    {
        public float Id { get; set; }

        public double[] Features { get; set; } = [];
    }

    private sealed class SparseRow
    {
        public float Id { get; set; }

        public VBuffer<float> Features { get; set; }
    }
}
