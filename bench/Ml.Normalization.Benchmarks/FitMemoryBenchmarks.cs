using BenchmarkDotNet.Attributes;
using Microsoft.ML;

namespace Ml.Normalization.Benchmarks;

/// <summary>Fit's allocated bytes must not grow with the row count: compare 100,000 and 1,000,000 rows of 64 slots.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class FitMemoryBenchmarks
{
    private MLContext _ml = null!;
    private IDataView _data = null!;

    [Params(100_000, 1_000_000)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _ml = new MLContext(seed: 1);
        _data = BenchData.Vectors(_ml, Rows, 64);
    }

    [Benchmark(Baseline = true, Description = "Cursor the input")]
    public float CursorInput() => BenchData.Drain(_data, "Features");

    [Benchmark(Description = "BatchNormalize: Fit")]
    public object Fit() => _ml.Transforms.BatchNormalize("Out", "Features").Fit(_data);
}
