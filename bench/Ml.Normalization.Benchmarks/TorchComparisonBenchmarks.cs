using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Ml.Normalization.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// The layers against libtorch 2.10 (TorchSharp-cpu 0.107) in the same process and run, op by op, with the same thread
/// count on both sides (<see cref="Threads"/>: <c>MaxDegreeOfParallelism</c> and <c>torch.set_num_threads</c>); libtorch
/// is each op's baseline, so Ratio is our time over libtorch's at that thread count.
/// </summary>
/// <remarks>
/// <para>Float32 throughout, momentum 0.9 here = 0.1 in torch, epsilon 1e-5, biased variance in the normalization on
/// both sides (torch feeds the unbiased one to its running variance, one multiply per feature). libtorch's ops allocate
/// their outputs (as a PyTorch training step does); ours write into buffers allocated in <see cref="Setup"/>.</para>
/// <para>libtorch's training forward keeps no x-hat (its backward takes x), so it is the baseline of both of ours.
/// Its batch-norm backward is the autograd node (native_batch_norm_backward: dx, dGamma, dBeta) run by
/// <c>torch.autograd.grad</c> on a graph kept from one forward (TorchSharp exposes no direct call), so it includes the
/// autograd engine's per-call cost. Dropout: torch's CPU dropout multiplies by a noise tensor (bernoulli / (1 - p)),
/// and its backward is that multiply again, measured as <c>dy * noise</c> directly.</para>
/// <para>In process (the output's copy of libLibTorchSharp.so is the one the build patched, WeakenGlibcxx.targets).</para>
/// </remarks>
[Config(typeof(TorchComparisonConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
[CategoriesColumn]
public class TorchComparisonBenchmarks
{
    private const float Momentum = 0.9f;
    private const float Epsilon = 1e-5f;
    private const float DropProbability = 0.5f;

    private float[] _x = [];
    private float[] _y = [];
    private float[] _dy = [];
    private float[] _dx = [];
    private float[] _dGamma = [];
    private float[] _dBeta = [];
    private BatchNormLayer _batchNorm = null!;
    private BatchNormLayer _batchNormWithoutXHat = null!;
    private DropoutLayer _dropout = null!;

    private Tensor _tx = null!;
    private Tensor _tdy = null!;
    private Tensor _runningMean = null!;
    private Tensor _runningVariance = null!;
    private Tensor _weight = null!;
    private Tensor _bias = null!;
    private Tensor _gradX = null!;
    private Tensor _gradWeight = null!;
    private Tensor _gradBias = null!;
    private Tensor _gradY = null!;
    private Tensor _noise = null!;

    /// <summary>Rows x features of the batch: <see cref="Shapes"/>.</summary>
    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "4096x256";

    /// <summary>Threads on both sides.</summary>
    [Params(1, 2)]
    public int Threads { get; set; }

    /// <summary>
    /// 4096x256, 65536x64 and 256x64, or those listed (comma-separated) in the environment variable
    /// TORCH_COMPARISON_SHAPES, e.g. <c>TORCH_COMPARISON_SHAPES=65536x64</c> for one shape's cells in a third of the time.
    /// </summary>
    public static IEnumerable<string> Shapes =>
        Environment.GetEnvironmentVariable("TORCH_COMPARISON_SHAPES") is { Length: > 0 } listed
            ? listed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : ["4096x256", "65536x64", "256x64"];

    private int Rows => BenchShape.Parse(Shape).Rows;

    private int Features => BenchShape.Parse(Shape).Features;

    /// <summary>Seeded data, both libraries' state, one training forward on each so backward has its input.</summary>
    [GlobalSetup]
    public void Setup()
    {
        int rows = Rows, features = Features;
        (_x, _y, _dy, _dx) = LayerBatch.RowMajor(rows, features);
        _dGamma = new float[features];
        _dBeta = new float[features];

        _batchNorm = new BatchNormLayer(features, Momentum, Epsilon) { MaxDegreeOfParallelism = Threads };
        _batchNorm.Forward(_x, _y, rows, training: true);
        _batchNormWithoutXHat = new BatchNormLayer(features, Momentum, Epsilon) { KeepNormalizedInput = false, MaxDegreeOfParallelism = Threads };
        _batchNormWithoutXHat.Forward(_x, _y, rows, training: true);
        _dropout = new DropoutLayer(DropProbability, seed: 42) { MaxDegreeOfParallelism = Threads };
        _dropout.Forward(_x, _y, training: true);

        torch.set_num_threads(Threads);
        torch.random.manual_seed(42);
        _tx = torch.tensor(_x, [rows, features]);
        _tdy = torch.tensor(_dy, [rows, features]);
        _runningMean = torch.zeros(features);
        _runningVariance = torch.ones(features);
        _weight = torch.ones(features);
        _bias = torch.zeros(features);

        // One forward with a graph kept for the backward benchmark.
        using (var xWithGrad = _tx.detach().requires_grad_(true))
        {
            _gradX = xWithGrad.alias();
        }

        _gradWeight = torch.ones(features).requires_grad_(true);
        _gradBias = torch.zeros(features).requires_grad_(true);
        _gradY = nn.functional.batch_norm(_gradX, torch.zeros(features), torch.ones(features), _gradWeight, _gradBias, training: true, momentum: 1 - Momentum, eps: Epsilon);
        _noise = torch.empty_like(_tx).bernoulli_(1 - DropProbability).div_(1 - DropProbability);
    }

    /// <summary>Releases the tensors.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { _tx, _tdy, _runningMean, _runningVariance, _weight, _bias, _gradX, _gradWeight, _gradBias, _gradY, _noise })
        {
            t?.Dispose();
        }
    }

    /// <summary>libtorch: training batch norm (batch statistics, running statistics updated).</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("1 forward (training)")]
    public void TorchForwardTraining()
    {
        using var y = nn.functional.batch_norm(_tx, _runningMean, _runningVariance, _weight, _bias, training: true, momentum: 1 - Momentum, eps: Epsilon);
    }

    /// <summary>Ours, keeping x-hat for Backward.</summary>
    [Benchmark]
    [BenchmarkCategory("1 forward (training)")]
    public void OursForwardTrainingKeepingXHat() => _batchNorm.Forward(_x, _y, Rows, training: true);

    /// <summary>Ours, keeping no x-hat (Backward takes x), as libtorch.</summary>
    [Benchmark]
    [BenchmarkCategory("1 forward (training)")]
    public void OursForwardTrainingWithoutXHat() => _batchNormWithoutXHat.Forward(_x, _y, Rows, training: true);

    /// <summary>libtorch: test-mode batch norm (running statistics).</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("2 forward (test)")]
    public void TorchForwardTest()
    {
        using var y = nn.functional.batch_norm(_tx, _runningMean, _runningVariance, _weight, _bias, training: false, momentum: 1 - Momentum, eps: Epsilon);
    }

    /// <summary>Ours, test mode.</summary>
    [Benchmark]
    [BenchmarkCategory("2 forward (test)")]
    public void OursForwardTest() => _batchNorm.Forward(_x, _y, Rows, training: false);

    /// <summary>libtorch: dx, dGamma, dBeta through autograd on the kept graph.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("3 backward")]
    public void TorchBackward()
    {
        var grads = torch.autograd.grad([_gradY], [_gradX, _gradWeight, _gradBias], [_tdy], retain_graph: true);
        foreach (var g in grads)
        {
            g.Dispose();
        }
    }

    /// <summary>Ours, from the kept x-hat.</summary>
    [Benchmark]
    [BenchmarkCategory("3 backward")]
    public void OursBackward() => _batchNorm.Backward(_dy, _dx, _dGamma, _dBeta);

    /// <summary>Ours, given x (x-hat recomputed).</summary>
    [Benchmark]
    [BenchmarkCategory("3 backward")]
    public void OursBackwardGivenX() => _batchNormWithoutXHat.Backward(_x, _dy, _dx, _dGamma, _dBeta);

    /// <summary>libtorch: training dropout, p = 0.5.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("4 dropout forward")]
    public void TorchDropoutForward()
    {
        using var y = nn.functional.dropout(_tx, DropProbability, training: true);
    }

    /// <summary>Ours, a fresh mask per call.</summary>
    [Benchmark]
    [BenchmarkCategory("4 dropout forward")]
    public void OursDropoutForward() => _dropout.Forward(_x, _y, training: true);

    /// <summary>libtorch: dropout's backward, dy times the kept noise.</summary>
    [Benchmark(Baseline = true)]
    [BenchmarkCategory("5 dropout backward")]
    public void TorchDropoutBackward()
    {
        using var dx = _tdy.mul(_noise);
    }

    /// <summary>Ours, the mask recomputed.</summary>
    [Benchmark]
    [BenchmarkCategory("5 dropout backward")]
    public void OursDropoutBackward() => _dropout.Backward(_dy, _dx);
}

/// <summary>In process (the patched libtorch copy), short iterations: 3 shapes x 2 thread counts x 13 methods.</summary>
public sealed class TorchComparisonConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public TorchComparisonConfig() =>
        AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(7)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(200)));
}
