using BenchmarkDotNet.Attributes;
using Ml.Normalization.Layers;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// The layer API on one 4096 x 256 float batch, each method measured against a plain copy of the same
/// 4096 * 256 floats (the baseline), so the Ratio column reads as "how many memory copies this costs".
/// </summary>
/// <remarks>
/// Targets (issue 2): Forward(training: true) within 2.5x the copy, Forward(training: false) within 1.5x,
/// Backward within 4x, dropout Forward(training: true) within 2x.
/// All buffers are allocated in <see cref="Setup"/>; the measured methods allocate nothing.
/// </remarks>
[MemoryDiagnoser]
public class LayerBenchmarks
{
    private const int Rows = 4096;
    private const int Features = 256;

    private float[] _x = [];
    private float[] _y = [];
    private float[] _dy = [];
    private float[] _dx = [];
    private float[] _dGamma = [];
    private float[] _dBeta = [];
    private BatchNormLayer _batchNorm = null!;
    private BatchNormLayer _batchNormWithoutXHat = null!;
    private DropoutLayer _dropout = null!;

    /// <summary>Seeded random data, both layers, and one training forward so Backward has a cache.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_x, _y, _dy, _dx) = LayerBatch.RowMajor(Rows, Features);
        _dGamma = new float[Features];
        _dBeta = new float[Features];

        _batchNorm = new BatchNormLayer(Features);
        _batchNorm.Forward(_x, _y, Rows, training: true);
        _batchNormWithoutXHat = new BatchNormLayer(Features) { KeepNormalizedInput = false };
        _batchNormWithoutXHat.Forward(_x, _y, Rows, training: true);
        _dropout = new DropoutLayer(0.5f, seed: 42);
    }

    /// <summary>The baseline: a plain memory copy of the same 4096 * 256 floats.</summary>
    [Benchmark(Baseline = true)]
    public void Copy() => _x.AsSpan().CopyTo(_y);

    /// <summary>Batch statistics, normalize, keep x-hat, update the running statistics.</summary>
    [Benchmark]
    public void BatchNormForwardTraining() => _batchNorm.Forward(_x, _y, Rows, training: true);

    /// <summary>Normalize with the running statistics.</summary>
    [Benchmark]
    public void BatchNormForwardTest() => _batchNorm.Forward(_x, _y, Rows, training: false);

    /// <summary>dx, dGamma and dBeta of the last training forward.</summary>
    [Benchmark]
    public void BatchNormBackward() => _batchNorm.Backward(_dy, _dx, _dGamma, _dBeta);

    /// <summary>Training forward of a layer that keeps no x-hat (KeepNormalizedInput = false): writes only y.</summary>
    [Benchmark]
    public void BatchNormForwardTrainingWithoutXHat() => _batchNormWithoutXHat.Forward(_x, _y, Rows, training: true);

    /// <summary>Backward given x again (x-hat recomputed), the partner of the forward pass above.</summary>
    [Benchmark]
    public void BatchNormBackwardGivenX() => _batchNormWithoutXHat.Backward(_x, _dy, _dx, _dGamma, _dBeta);

    /// <summary>Inverted dropout with p = 0.5 and a fresh mask per call.</summary>
    [Benchmark]
    public void DropoutForwardTraining() => _dropout.Forward(_x, _y, training: true);
}
