using BenchmarkDotNet.Attributes;
using Microsoft.ML;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// BatchNormalize beside ML.NET's NormalizeMeanVariance(fixZero: false) on the same in-memory data: Fit, and
/// Transform plus reading every output row through a cursor. The baseline merely cursors the input.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 6)]
public class BatchNormalizeBenchmarks
{
    private MLContext _ml = null!;
    private IDataView _data = null!;
    private ITransformer _batchNormalize = null!;
    private ITransformer _meanVariance = null!;

    [Params("1000000x64", "50000x1024")]
    public string Shape { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var (rows, features) = BenchShape.Parse(Shape);
        _ml = new MLContext(seed: 1);
        _data = BenchData.Vectors(_ml, rows, features);
        _batchNormalize = _ml.Transforms.BatchNormalize("Out", "Features").Fit(_data);
        _meanVariance = _ml.Transforms.NormalizeMeanVariance("Out", "Features", fixZero: false).Fit(_data);
    }

    [Benchmark(Baseline = true, Description = "Cursor the input")]
    public float CursorInput() => BenchData.Drain(_data, "Features");

    [Benchmark(Description = "BatchNormalize: Transform + cursor")]
    public float BatchNormalizeTransform() => BenchData.Drain(_batchNormalize.Transform(_data), "Out");

    [Benchmark(Description = "NormalizeMeanVariance: Transform + cursor")]
    public float MeanVarianceTransform() => BenchData.Drain(_meanVariance.Transform(_data), "Out");

    [Benchmark(Description = "BatchNormalize: Fit")]
    public object BatchNormalizeFit() => _ml.Transforms.BatchNormalize("Out", "Features").Fit(_data);

    [Benchmark(Description = "NormalizeMeanVariance: Fit")]
    public object MeanVarianceFit() => _ml.Transforms.NormalizeMeanVariance("Out", "Features", fixZero: false).Fit(_data);
}
