using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Ml.Normalization.Kernels;
using Ml.Normalization.Layers;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// The threaded layers, below and at the parallel threshold (524288 values) and at the big shapes, against the calls
/// the layer made before it had threads (its argument checks and the same kernels on the calling thread, kept here as
/// each op's baseline): the threshold must leave no op slower than that, and the big shapes show what the threads give
/// (issue 21, item 3).
/// </summary>
[Config(typeof(TorchComparisonConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class LayerThreadsBenchmarks
{
    private float[] _x = [];
    private float[] _y = [];
    private float[] _dy = [];
    private float[] _dx = [];
    private float[] _gamma = [];
    private float[] _beta = [];
    private float[] _mean = [];
    private float[] _variance = [];
    private float[] _inverseStd = [];
    private float[] _runningMean = [];
    private float[] _runningVariance = [];
    private float[] _scale = [];
    private float[] _dGamma = [];
    private float[] _dBeta = [];
    private XHatCache _cache = null!;
    private BatchNormLayer _layer = null!;

    /// <summary>Rows x features.</summary>
    [Params("128x64", "256x64", "1024x256", "2048x256", "4096x256", "65536x64")]
    public string Shape { get; set; } = "256x64";

    /// <summary>The layer's MaxDegreeOfParallelism.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    private int Rows => BenchShape.Parse(Shape).Rows;

    private int Features => BenchShape.Parse(Shape).Features;

    /// <summary>Seeded data; one training forward on each side.</summary>
    [GlobalSetup]
    public void Setup()
    {
        int f = Features;
        (_x, _y, _dy, _dx) = LayerBatch.RowMajor(Rows, f);
        _gamma = new float[f];
        Array.Fill(_gamma, 1f);
        _beta = new float[f];
        _mean = new float[f];
        _variance = new float[f];
        _inverseStd = new float[f];
        _runningMean = new float[f];
        _runningVariance = new float[f];
        _scale = new float[f];
        _dGamma = new float[f];
        _dBeta = new float[f];
        _cache = new XHatCache();
        _layer = new BatchNormLayer(f) { MaxDegreeOfParallelism = Threads };
        UnthreadedForwardTraining();
        _layer.Forward(_x, _y, Rows, training: true);
    }

    /// <summary>Before threads: the layer's argument checks and the training forward's kernels, keeping x-hat.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("1 forward (training)")]
    public void UnthreadedForwardTraining()
    {
        int rows = Rows;
        CheckLikeTheLayer(rows);
        NormalizationKernels.BatchMoments<float>(_x, rows, _mean, _variance);
        TensorPrimitives.Add(_variance, 1e-5f, _inverseStd);
        TensorPrimitives.ReciprocalSqrt(_inverseStd, _inverseStd);
        NormalizationKernels.NormalizeTraining<float>(_x, rows, _mean, _inverseStd, _gamma, _beta, _cache.PlacedFor(_x, _y), _y);
        TensorPrimitives.Multiply(_runningMean, 0.9f, _runningMean);
        TensorPrimitives.MultiplyAdd(_mean, 0.1f, _runningMean, _runningMean);
        TensorPrimitives.Multiply(_runningVariance, 0.9f, _runningVariance);
        TensorPrimitives.MultiplyAdd(_variance, 0.1f, _runningVariance, _runningVariance);
    }

    /// <summary>The layer now.</summary>
    [Benchmark]
    [BenchmarkCategory("1 forward (training)")]
    public void LayerForwardTraining() => _layer.Forward(_x, _y, Rows, training: true);

    /// <summary>Before threads: test mode.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("2 forward (test)")]
    public void UnthreadedForwardTest()
    {
        CheckLikeTheLayer(Rows);
        TensorPrimitives.Add(_runningVariance, 1e-5f, _scale);
        TensorPrimitives.ReciprocalSqrt(_scale, _scale);
        TensorPrimitives.Multiply(_scale, _gamma, _scale);
        NormalizationKernels.Normalize<float>(_x, Rows, _runningMean, _scale, _beta, _y);
    }

    /// <summary>The layer now.</summary>
    [Benchmark]
    [BenchmarkCategory("2 forward (test)")]
    public void LayerForwardTest() => _layer.Forward(_x, _y, Rows, training: false);

    /// <summary>Before threads: the layer's checks and the backward kernel from the kept x-hat.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("3 backward")]
    public void UnthreadedBackward()
    {
        ThrowHelper.ThrowIfLengthDiffers(_x.Length, _dy.Length, "dy");
        ThrowHelper.ThrowIfLengthDiffers(_x.Length, _dx.Length, "dx");
        NormalizationKernels.BatchNormBackward<float>(_dy, _cache.Last(_dy.Length), Rows, _gamma, _inverseStd, _dx, _dGamma, _dBeta);
    }

    /// <summary>The layer now.</summary>
    [Benchmark]
    [BenchmarkCategory("3 backward")]
    public void LayerBackward() => _layer.Backward(_dy, _dx, _dGamma, _dBeta);

    // The argument checks the layer's Forward made before threads (rows, the block length, x's and y's lengths).
    private void CheckLikeTheLayer(int rows)
    {
        if (rows < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(rows), rows, "at least 1");
        }

        int length = ThrowHelper.BlockLength(rows, Features);
        ThrowHelper.ThrowIfLengthDiffers(length, _x.Length, "x");
        ThrowHelper.ThrowIfLengthDiffers(length, _y.Length, "y");
    }
}
