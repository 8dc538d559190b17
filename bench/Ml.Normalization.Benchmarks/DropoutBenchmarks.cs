using BenchmarkDotNet.Attributes;
using Microsoft.ML;

namespace Ml.Normalization.Benchmarks;

/// <summary>Dropout's training pass and scoring pass over 1,000,000 x 64 floats, read through a cursor.</summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 6)]
public class DropoutBenchmarks
{
    private IDataView _data = null!;
    private DropoutTransformer _dropout = null!;

    [GlobalSetup]
    public void Setup()
    {
        var ml = new MLContext(seed: 1);
        _data = BenchData.Vectors(ml, 1_000_000, 64);
        _dropout = ml.Transforms.Dropout("Out", "Features", dropProbability: 0.5f, seed: 1).Fit(_data);
    }

    [Benchmark(Baseline = true, Description = "Cursor the input")]
    public float CursorInput() => BenchData.Drain(_data, "Features");

    [Benchmark(Description = "Dropout: training pass + cursor")]
    public float Training() => BenchData.Drain(_dropout.TransformForTraining(_data), "Out");

    [Benchmark(Description = "Dropout: scoring (Transform) + cursor")]
    public float Scoring() => BenchData.Drain(_dropout.Transform(_data), "Out");
}
