using System.Runtime.InteropServices;
using Ml.Normalization.Kernels;
using Ml.Normalization.Layers;

namespace Ml.Normalization.Tests.Layers;

/// <summary>
/// The layers' outputs do not depend on <c>MaxDegreeOfParallelism</c>: y, the running statistics, dx, dGamma, dBeta and
/// dropout's outputs are the same bit for bit at 1, 2 and 4 threads, on shapes below the parallel threshold and above
/// it, with feature counts that leave vector tails (and fewer features than a vector). Batches of one row block are
/// also the unblocked kernels' results bit for bit.
/// </summary>
public class LayerThreadCountTests
{
    private static readonly int[] ThreadCounts = [1, 2, 4];

    public static TheoryData<int, int> Shapes => new()
    {
        { 256, 64 },     // below the threshold, one block
        { 3000, 7 },     // below the threshold, narrower than a vector
        { 2053, 100 },   // below the threshold, several blocks, an odd row count and a last partial block
        { 16384, 37 },   // above the threshold, vector tails
        { 6007, 100 },   // above, an odd row count and a last partial block
        { 120000, 5 },   // above, narrower than a vector
        { 2048, 256 },   // at the threshold, whole vectors
        { 65536, 64 },   // at the x-hat streaming threshold (x-hat written with non-temporal stores)
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BatchNorm_ThreadCount_ChangesNoBit(int rows, int features)
    {
        var (x, dy, gamma, beta) = Batch(rows, features, seed: (rows * 31) + features);
        Outputs? expected = null;
        foreach (bool keep in new[] { true, false })
        {
            foreach (int threads in ThreadCounts)
            {
                var outputs = Run(rows, features, x, dy, gamma, beta, threads, keep);
                expected ??= outputs;
                outputs.AssertSame(expected, $"{threads} threads, keep x-hat {keep}");
            }
        }
    }

    [Theory]
    [InlineData(256, 64)]
    [InlineData(3000, 7)]
    [InlineData(128, 256)]
    public void BatchNorm_OneBlock_EqualsTheUnblockedKernels_BitForBit(int rows, int features)
    {
        Assert.Equal(1, new RowBlocks(rows, features).Count);
        var (x, dy, gamma, beta) = Batch(rows, features, seed: 7);
        var outputs = Run(rows, features, x, dy, gamma, beta, threads: 2, keep: true);
        var (y, dx, dGamma, dBeta) = UnblockedKernels(rows, features, x, dy, gamma, beta);

        AssertBits(y, outputs.Y, "y");
        AssertBits(dx, outputs.Dx, "dx");
        AssertBits(dGamma, outputs.DGamma, "dGamma");
        AssertBits(dBeta, outputs.DBeta, "dBeta");
    }

    [Theory]
    [InlineData(4096, 256)]
    [InlineData(40000, 5)]
    public void BatchNorm_ManyBlocks_AgreesWithTheUnblockedKernels(int rows, int features)
    {
        var (x, dy, gamma, beta) = Batch(rows, features, seed: 11);
        var outputs = Run(rows, features, x, dy, gamma, beta, threads: 2, keep: true);
        var (y, dx, dGamma, dBeta) = UnblockedKernels(rows, features, x, dy, gamma, beta);

        // Sums over n values in float: a few ulps per term at most, scaled by the magnitudes summed.
        float tolerance = 1e-6f * MathF.Sqrt(rows) * 16f;
        AssertClose(y, outputs.Y, tolerance, 1f);
        AssertClose(dGamma, outputs.DGamma, tolerance, MathF.Sqrt(rows));
        AssertClose(dBeta, outputs.DBeta, tolerance, MathF.Sqrt(rows));
        AssertClose(dx, outputs.Dx, tolerance, 1f);
    }

    // Test forward at and above the threshold walks the block in address order (NormalizeInOrder), below it by rows:
    // both are Normalize's operations, so the layer's y equals the row walk's bit for bit at every thread count.
    [Theory]
    [InlineData(8192, 64)]    // at the threshold, whole vectors
    [InlineData(16384, 37)]   // above, vector tails
    [InlineData(120000, 5)]   // above, narrower than a vector
    [InlineData(6007, 100)]   // above, an odd row count and a last partial block
    [InlineData(2100, 250)]   // above, parameters too long to repeat on the stack (the row walk itself)
    [InlineData(2053, 100)]   // below
    public void BatchNorm_TestForward_EqualsTheRowWalk_BitForBit(int rows, int features)
    {
        var (x, _, gamma, beta) = Batch(rows, features, seed: rows + features);
        var random = new Random(3);
        var runningMean = Enumerable.Range(0, features).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var runningVariance = Enumerable.Range(0, features).Select(_ => (float)(0.5 + random.NextDouble())).ToArray();
        var scale = new float[features];
        System.Numerics.Tensors.TensorPrimitives.Add(runningVariance, 1e-5f, scale);
        System.Numerics.Tensors.TensorPrimitives.ReciprocalSqrt(scale, scale);
        System.Numerics.Tensors.TensorPrimitives.Multiply(scale, gamma, scale);
        var expected = new float[x.Length];
        NormalizationKernels.Normalize<float>(x, rows, runningMean, scale, beta, expected);
        foreach (int threads in ThreadCounts)
        {
            var layer = new BatchNormLayer(features) { MaxDegreeOfParallelism = threads };
            gamma.CopyTo(layer.Gamma, 0);
            beta.CopyTo(layer.Beta, 0);
            runningMean.CopyTo(layer.RunningMean, 0);
            runningVariance.CopyTo(layer.RunningVariance, 0);
            var y = new float[x.Length];
            layer.Forward(x, y, rows, training: false);
            AssertBits(expected, y, $"test y, {threads} threads");
        }
    }

    [Theory]
    [InlineData(16384)]
    [InlineData(300001)]
    [InlineData(1 << 20)]
    public void Dropout_ThreadCount_ChangesNoBit(int length)
    {
        var random = new Random(length);
        var x = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var dy = Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        float[]? expectedY = null, expectedDx = null;
        foreach (int threads in ThreadCounts)
        {
            var layer = new DropoutLayer(0.3f, seed: 5) { MaxDegreeOfParallelism = threads };
            var y = new float[length];
            var dx = new float[length];
            layer.Forward(x, y, training: true);
            layer.Forward(x, y, training: true); // the second call's mask
            layer.Backward(dy, dx);
            expectedY ??= y;
            expectedDx ??= dx;
            AssertBits(expectedY, y, $"dropout y, {threads} threads");
            AssertBits(expectedDx, dx, $"dropout dx, {threads} threads");
        }
    }

    [Fact]
    public void MaxDegreeOfParallelism_DefaultsToTheProcessorCount_AndRefusesLessThanOne()
    {
        Assert.Equal(Environment.ProcessorCount, new BatchNormLayer(3).MaxDegreeOfParallelism);
        Assert.Equal(Environment.ProcessorCount, new DropoutLayer(0.5f).MaxDegreeOfParallelism);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNormLayer(3).MaxDegreeOfParallelism = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DropoutLayer(0.5f).MaxDegreeOfParallelism = 0);
    }

    private static Outputs Run(int rows, int features, float[] x, float[] dy, float[] gamma, float[] beta, int threads, bool keep)
    {
        var layer = new BatchNormLayer(features) { KeepNormalizedInput = keep, MaxDegreeOfParallelism = threads };
        gamma.CopyTo(layer.Gamma, 0);
        beta.CopyTo(layer.Beta, 0);
        var y = new float[x.Length];
        layer.Forward(x, y, rows, training: true);
        var test = new float[x.Length];
        layer.Forward(x, test, rows, training: false);
        var dx = new float[x.Length];
        var dGamma = new float[features];
        var dBeta = new float[features];
        if (keep)
        {
            layer.Backward(dy, dx, dGamma, dBeta);
        }
        else
        {
            layer.Backward(x, dy, dx, dGamma, dBeta);
        }

        return new Outputs(y, test, (float[])layer.RunningMean.Clone(), (float[])layer.RunningVariance.Clone(), dx, dGamma, dBeta);
    }

    // The training forward and the backward through the unblocked kernels, as the layer called them before threads.
    private static (float[] Y, float[] Dx, float[] DGamma, float[] DBeta) UnblockedKernels(int rows, int features, float[] x, float[] dy, float[] gamma, float[] beta)
    {
        var mean = new float[features];
        var variance = new float[features];
        NormalizationKernels.BatchMoments<float>(x, rows, mean, variance);
        var inverseStd = new float[features];
        System.Numerics.Tensors.TensorPrimitives.Add(variance, 1e-5f, inverseStd);
        System.Numerics.Tensors.TensorPrimitives.ReciprocalSqrt(inverseStd, inverseStd);
        var y = new float[x.Length];
        var xHat = new float[x.Length];
        NormalizationKernels.NormalizeTraining<float>(x, rows, mean, inverseStd, gamma, beta, xHat, y);
        var dx = new float[x.Length];
        var dGamma = new float[features];
        var dBeta = new float[features];
        NormalizationKernels.BatchNormBackward<float>(dy, xHat, rows, gamma, inverseStd, dx, dGamma, dBeta);
        return (y, dx, dGamma, dBeta);
    }

    private static (float[] X, float[] Dy, float[] Gamma, float[] Beta) Batch(int rows, int features, int seed)
    {
        var random = new Random(seed);
        var x = new float[rows * features];
        var dy = new float[rows * features];
        for (int i = 0; i < x.Length; i++)
        {
            // An offset per feature, so the shifted sums matter.
            x[i] = (float)((random.NextDouble() * 4.0) - 2.0 + ((i % features) * 0.5));
            dy[i] = (float)(random.NextDouble() - 0.5);
        }

        var gamma = Enumerable.Range(0, features).Select(_ => (float)(0.5 + random.NextDouble())).ToArray();
        var beta = Enumerable.Range(0, features).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        return (x, dy, gamma, beta);
    }

    private static void AssertBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        var e = MemoryMarshal.Cast<float, int>(expected);
        var a = MemoryMarshal.Cast<float, int>(actual);
        for (int i = 0; i < e.Length; i++)
        {
            if (e[i] != a[i])
            {
                Assert.Fail($"{what}: element {i} differs: {expected[i]:R} vs {actual[i]:R}");
            }
        }
    }

    private static void AssertClose(float[] expected, float[] actual, float relative, float scale)
    {
        float magnitude = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(MathF.Abs(expected[i] - actual[i]) <= relative * scale * Math.Max(magnitude, 1f), $"element {i}: {expected[i]:R} vs {actual[i]:R}");
        }
    }

    private sealed record Outputs(float[] Y, float[] Test, float[] RunningMean, float[] RunningVariance, float[] Dx, float[] DGamma, float[] DBeta)
    {
        public void AssertSame(Outputs expected, string what)
        {
            AssertBits(expected.Y, Y, $"y ({what})");
            AssertBits(expected.Test, Test, $"test y ({what})");
            AssertBits(expected.RunningMean, RunningMean, $"running mean ({what})");
            AssertBits(expected.RunningVariance, RunningVariance, $"running variance ({what})");
            AssertBits(expected.Dx, Dx, $"dx ({what})");
            AssertBits(expected.DGamma, DGamma, $"dGamma ({what})");
            AssertBits(expected.DBeta, DBeta, $"dBeta ({what})");
        }
    }
}
