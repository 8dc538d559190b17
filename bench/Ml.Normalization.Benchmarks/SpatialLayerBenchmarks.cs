using BenchmarkDotNet.Attributes;
using Ml.Normalization.Layers;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// The spatial layer on one N=32, C=3, H=W=64 NCHW batch (393,216 floats, 1.5 MiB), against a plain copy of the same
/// floats (the baseline) and against <see cref="BatchNormLayer"/> on the same buffer viewed as 1536 rows x 256 features
/// (the feature width of <see cref="LayerBenchmarks"/>), so the Ratio column reads as "how many memory copies this costs"
/// for both layers on the same bytes.
/// </summary>
/// <remarks>
/// Goal (issue 12): each spatial method within 1.2x of the 2-D layer's ratio to the copy for the same method.
/// All buffers are allocated in <see cref="Setup"/>; the measured methods allocate nothing.
/// </remarks>
[MemoryDiagnoser]
public class SpatialLayerBenchmarks
{
    private const int Batch = 32;
    private const int Channels = 3;
    private const int SpatialSize = 64 * 64;
    private const int Length = Batch * Channels * SpatialSize;
    private const int FlatFeatures = 256;
    private const int FlatRows = Length / FlatFeatures;

    private float[] _x = [];
    private float[] _y = [];
    private float[] _dy = [];
    private float[] _dx = [];
    private float[] _dGamma = [];
    private float[] _dBeta = [];
    private float[] _flatDGamma = [];
    private float[] _flatDBeta = [];
    private SpatialBatchNormLayer _spatial = null!;
    private BatchNormLayer _flat = null!;

    /// <summary>Seeded random pixel-like data, both layers, and one training forward each so Backward has a cache.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_x, _y, _dy, _dx) = LayerBatch.Create(Length, (i, u) => (float)u + (i / SpatialSize % Channels * 0.1f));
        _dGamma = new float[Channels];
        _dBeta = new float[Channels];
        _flatDGamma = new float[FlatFeatures];
        _flatDBeta = new float[FlatFeatures];
        _spatial = new SpatialBatchNormLayer(Channels);
        _spatial.Forward(_x, _y, Batch, SpatialSize, training: true);
        _flat = new BatchNormLayer(FlatFeatures);
        _flat.Forward(_x, _y, FlatRows, training: true);
    }

    /// <summary>The baseline: a plain memory copy of the same floats.</summary>
    [Benchmark(Baseline = true)]
    public void Copy() => _x.AsSpan().CopyTo(_y);

    /// <summary>Per-channel batch statistics, normalize, keep x-hat, update the running statistics.</summary>
    [Benchmark]
    public void SpatialForwardTraining() => _spatial.Forward(_x, _y, Batch, SpatialSize, training: true);

    /// <summary>The 2-D layer's training forward on the same bytes as 1536 x 256.</summary>
    [Benchmark]
    public void FlatForwardTraining() => _flat.Forward(_x, _y, FlatRows, training: true);

    /// <summary>Normalize with the per-channel running statistics.</summary>
    [Benchmark]
    public void SpatialForwardTest() => _spatial.Forward(_x, _y, Batch, SpatialSize, training: false);

    /// <summary>The 2-D layer's test forward on the same bytes.</summary>
    [Benchmark]
    public void FlatForwardTest() => _flat.Forward(_x, _y, FlatRows, training: false);

    /// <summary>dx, dGamma and dBeta per channel of the last training forward.</summary>
    [Benchmark]
    public void SpatialBackward() => _spatial.Backward(_dy, _dx, _dGamma, _dBeta);

    /// <summary>The 2-D layer's backward on the same bytes.</summary>
    [Benchmark]
    public void FlatBackward() => _flat.Backward(_dy, _dx, _flatDGamma, _flatDBeta);
}
