using BenchmarkDotNet.Attributes;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Benchmarks;

/// <summary>
/// The one-dimensional kernels on their own, without a cursor around them: the fit's per-slot and per-lane sums and its
/// finiteness check as the fit calls them (row by row), and dropout over 1M values, against a plain copy of 1M floats
/// (the baseline), so a change to one of these loops shows here rather than in the noise of a pipeline benchmark.
/// </summary>
/// <remarks>In process (<see cref="InProcessConfig"/>). All buffers are allocated in <see cref="Setup"/>.</remarks>
[MemoryDiagnoser]
[Config(typeof(InProcessConfig))]
public class KernelBenchmarks
{
    private const int Rows = 1024;
    private const int Slots = 256;
    private const int Side = 224;
    private const int Images = 4;
    private const int SmallPlane = 100;
    private const int DropoutLength = 1 << 20;

    private float[] _rows = [];
    private float[] _image = [];
    private float[] _smallPlanes = [];
    private float[] _dropoutX = [];
    private float[] _dropoutY = [];
    private double[] _dropoutXDouble = [];
    private double[] _dropoutYDouble = [];
    private double[] _shift = [];
    private double[] _sum = [];
    private double[] _sumOfSquares = [];
    private double[] _count = [];
    private double[] _laneShift24 = [];
    private double[] _laneShift8 = [];
    private double[] _laneSum = [];
    private double[] _laneSumOfSquares = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        float Next() => (float)random.NextDouble();
        _rows = [.. Enumerable.Range(0, Rows * Slots).Select(_ => Next())];
        _image = [.. Enumerable.Range(0, Images * 3 * Side * Side).Select(_ => Next())];
        _smallPlanes = [.. Enumerable.Range(0, 3000 * SmallPlane).Select(_ => Next())];
        _dropoutX = [.. Enumerable.Range(0, DropoutLength).Select(_ => Next())];
        _dropoutY = new float[DropoutLength];
        _dropoutXDouble = [.. _dropoutX.Select(v => (double)v)];
        _dropoutYDouble = new double[DropoutLength];
        _shift = [.. _rows.Take(Slots).Select(v => (double)v)];
        _sum = new double[Slots];
        _sumOfSquares = new double[Slots];
        _count = new double[Slots];
        _laneShift24 = [.. Enumerable.Repeat(0.5, 24)];
        _laneShift8 = [.. Enumerable.Repeat(0.5, 8)];
        _laneSum = new double[NormalizationKernels.LaneGroup * 3];
        _laneSumOfSquares = new double[NormalizationKernels.LaneGroup * 3];
    }

    /// <summary>The baseline: a plain copy of 1M floats.</summary>
    [Benchmark(Baseline = true)]
    public void Copy() => _dropoutX.AsSpan().CopyTo(_dropoutY);

    /// <summary>The per-slot fit's fast path: 1024 rows of 256 floats.</summary>
    [Benchmark]
    public void Moments()
    {
        for (int i = 0; i < Rows; i++)
        {
            NormalizationKernels.AccumulateMoments<float>(_rows.AsSpan(i * Slots, Slots), _shift, _sum, _sumOfSquares);
        }
    }

    /// <summary>The per-slot fit's general path on the same rows.</summary>
    [Benchmark]
    public void FiniteMoments()
    {
        for (int i = 0; i < Rows; i++)
        {
            NormalizationKernels.AccumulateFiniteMoments<float>(_rows.AsSpan(i * Slots, Slots), _shift, _sum, _sumOfSquares, _count);
        }
    }

    /// <summary>The fit's finiteness check of each of those rows.</summary>
    [Benchmark]
    public bool AllFinite()
    {
        bool all = true;
        for (int i = 0; i < Rows; i++)
        {
            all &= NormalizationKernels.AllFinite<float>(_rows.AsSpan(i * Slots, Slots));
        }

        return all;
    }

    /// <summary>Channels-first 3 x 224 x 224 images: 16 lanes per plane.</summary>
    [Benchmark]
    public void PlaneMoments()
    {
        int plane = Side * Side;
        for (int p = 0; p < Images * 3; p++)
        {
            NormalizationKernels.AccumulatePlaneMoments<float>(_image.AsSpan(p * plane, plane), 0.5, _laneSum.AsSpan(0, 16), _laneSumOfSquares.AsSpan(0, 16));
        }
    }

    /// <summary>Planes of 100 values (10 x 10): each ends in a partial group of lanes.</summary>
    [Benchmark]
    public void SmallPlaneMoments()
    {
        for (int p = 0; p < _smallPlanes.Length; p += SmallPlane)
        {
            NormalizationKernels.AccumulatePlaneMoments<float>(_smallPlanes.AsSpan(p, SmallPlane), 0.5, _laneSum.AsSpan(0, 16), _laneSumOfSquares.AsSpan(0, 16));
        }
    }

    /// <summary>Channels-last 224 x 224 x 3 images: 24 lanes.</summary>
    [Benchmark]
    public void LaneMomentsRgb()
    {
        int image = 3 * Side * Side;
        for (int i = 0; i < Images; i++)
        {
            NormalizationKernels.AccumulateLaneMoments<float>(_image.AsSpan(i * image, image), _laneShift24, _laneSum.AsSpan(0, 24), _laneSumOfSquares.AsSpan(0, 24));
        }
    }

    /// <summary>Channels-last rows of 8 lanes (two or four channels, or eight).</summary>
    [Benchmark]
    public void LaneMoments8()
    {
        int image = 3 * Side * Side;
        for (int i = 0; i < Images; i++)
        {
            NormalizationKernels.AccumulateLaneMoments<float>(_image.AsSpan(i * image, image), _laneShift8, _laneSum.AsSpan(0, 8), _laneSumOfSquares.AsSpan(0, 8));
        }
    }

    /// <summary>Dropout of 1M floats, p = 0.5.</summary>
    [Benchmark]
    public void Dropout() => NormalizationKernels.Dropout(_dropoutX, _dropoutY, 12345, DropoutMask.KeepThreshold(0.5), 2f);

    /// <summary>Dropout of 1M doubles, p = 0.5.</summary>
    [Benchmark]
    public void DropoutDouble() => NormalizationKernels.Dropout(_dropoutXDouble, _dropoutYDouble, 12345, DropoutMask.KeepThreshold(0.5), 2.0);
}
