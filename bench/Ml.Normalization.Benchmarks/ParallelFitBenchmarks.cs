using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using Microsoft.ML;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms.BatchNormalize;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// The fit on 1 and 2 threads (issue 21, item 1), beside NormalizeMeanVariance's fit, in one run: 1M x 64 floats in
/// memory, and FeaturizeText over 50,000 short texts in front (its getters run on the fit's threads).
/// </summary>
/// <remarks>
/// Two floors run beside them: summing 1M x 64 floats (256 MB, the values the fit reads, in one array) on 1 and 2
/// threads, with no cursor; and merely reading every row through ML.NET's cursors, one cursor, or two on two threads
/// over the row ranges the 2-thread fit reads (even halves of the user's array, each a view of its own). The fit reads
/// the user's arrays in place (InMemoryRows), so the getters' copy these cursors pay is no longer part of it.
/// </remarks>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 6)]
public class ParallelFitBenchmarks
{
    private MLContext _ml = null!;
    private IDataView _vectors = null!;
    private IDataView _texts = null!;
    private float[] _values = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        _vectors = BenchData.Vectors(_ml, 1_000_000, 64);
        _values = new float[1_000_000 * 64];
        new Random(3).NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_values.AsSpan()));
        for (int i = 0; i < _values.Length; i++)
        {
            _values[i] = _values[i] is var v && float.IsFinite(v) ? v % 8 : 1;
        }
        var random = new Random(5);
        string[] words = [.. Enumerable.Range(0, 2000).Select(i => $"w{i}")];
        var texts = Enumerable.Range(0, 50_000).Select(_ => new Text { Body = string.Join(' ', Enumerable.Range(0, 20).Select(_ => words[random.Next(words.Length)])) });
        _texts = _ml.Data.LoadFromEnumerable(texts.ToArray());
    }

    [Benchmark(Baseline = true, Description = "1M x 64: BatchNormalize Fit, 1 thread")]
    public object VectorsOneThread() => BatchNormalize(threads: 1, center: true).Fit(_vectors);

    [Benchmark(Description = "1M x 64: BatchNormalize Fit, 2 threads")]
    public object VectorsTwoThreads() => BatchNormalize(threads: 2, center: true).Fit(_vectors);

    [Benchmark(Description = "1M x 64: NormalizeMeanVariance Fit")]
    public object VectorsMeanVariance() => _ml.Transforms.NormalizeMeanVariance("Out", "Features", fixZero: false).Fit(_vectors);

    [Benchmark(Description = "1M x 64: memory floor, sum 256 MB, 1 thread")]
    public float MemoryFloorOneThread() => TensorPrimitives.Sum<float>(_values);

    [Benchmark(Description = "1M x 64: memory floor, sum 256 MB, 2 threads")]
    public float MemoryFloorTwoThreads()
    {
        int half = _values.Length / 2;
        var sums = new float[2];
        Parallel.For(0, 2, k => sums[k] = TensorPrimitives.Sum<float>(_values.AsSpan(k * half, half)));
        return sums[0] + sums[1];
    }

    [Benchmark(Description = "1M x 64: bare cursor, 1 thread")]
    public float CursorOneThread() => BenchData.Drain(_vectors, "Features");

    [Benchmark(Description = "1M x 64: bare cursors, 2 threads, the fit's row ranges")]
    public float CursorTwoThreads()
    {
        long rows = _vectors.GetRowCount()!.Value;
        long firstRows = BatchNormalizationFit.ChunkBatches(rows / 256, 2, skipCost: 0)[0] * 256;
        var ranges = new[] { InMemoryRows.TrySlice(_vectors, 0, firstRows)!, InMemoryRows.TrySlice(_vectors, firstRows, rows - firstRows)! };
        var sums = new float[2];
        Parallel.For(0, 2, k => sums[k] = BenchData.Drain(ranges[k], "Features"));
        return sums[0] + sums[1];
    }

    // The pipeline a user fits: FeaturizeText's own fit (its dictionary) is serial in both; the text is featurized again
    // for BatchNormalize's fit, scale-only as wide sparse columns are normalized. ML.NET feeds even one cursor of
    // FeaturizeText's output from worker threads on every core, so "1 thread" is BatchNormalize's own thread count only.
    [Benchmark(Description = "FeaturizeText (50k) -> BatchNormalize scale-only: pipeline Fit, 1 thread")]
    public object TextOneThread() => _ml.Transforms.Text.FeaturizeText("Features", nameof(Text.Body)).Append(BatchNormalize(threads: 1, center: false)).Fit(_texts);

    [Benchmark(Description = "FeaturizeText (50k) -> BatchNormalize scale-only: pipeline Fit, 2 threads")]
    public object TextTwoThreads() => _ml.Transforms.Text.FeaturizeText("Features", nameof(Text.Body)).Append(BatchNormalize(threads: 2, center: false)).Fit(_texts);

    // Whole-data statistics take the rows in any order: the fit reads FeaturizeText's own cursor set, one cursor per thread.
    [Benchmark(Description = "FeaturizeText (50k) -> BatchNormalize scale-only, whole data: pipeline Fit, 1 thread")]
    public object TextWholeDataOneThread() => _ml.Transforms.Text.FeaturizeText("Features", nameof(Text.Body)).Append(BatchNormalize(threads: 1, center: false, wholeData: true)).Fit(_texts);

    [Benchmark(Description = "FeaturizeText (50k) -> BatchNormalize scale-only, whole data: pipeline Fit, 2 threads")]
    public object TextWholeDataTwoThreads() => _ml.Transforms.Text.FeaturizeText("Features", nameof(Text.Body)).Append(BatchNormalize(threads: 2, center: false, wholeData: true)).Fit(_texts);

    private BatchNormalizingEstimator BatchNormalize(int threads, bool center, bool wholeData = false) =>
        _ml.Transforms.BatchNormalize([new InputOutputColumnPair("Out", "Features")], new BatchNormalizingEstimator.Options { NumberOfThreads = threads, Center = center, WholeDataStatistics = wholeData });

    private sealed class Text
    {
        public string Body { get; set; } = "";
    }
}
