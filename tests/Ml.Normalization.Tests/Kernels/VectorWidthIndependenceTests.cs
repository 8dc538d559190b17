using System.Security.Cryptography;
using Ml.Normalization.Layers;

namespace Ml.Normalization.Tests.Kernels;

/// <summary>
/// The kernels promise the same bits whatever vector width the machine offers (512-bit, 256-bit, scalar): each
/// element sees the same operations in the same order. These tests pin a hash of every output bit of the layers,
/// computed on seeded data over sizes that cover each width's tails; .ci/run repeats them with
/// DOTNET_EnableAVX512F=0 and with DOTNET_EnableHWIntrinsic=0, so a width-dependent result fails CI.
/// </summary>
public class VectorWidthIndependenceTests
{
    public static TheoryData<int, int, string> Cases => new()
    {
        // features, rows, the first 16 hex digits of SHA-256 over every output: forward (training, lean, test), both
        // backward passes, dropout forward and backward. Recorded on AVX-512; identical with it off and with hardware
        // intrinsics off (re-pinned when dropout moved to one 32-bit draw per element).
        { 1, 5, "102A1CD0CFC8B782" },
        { 7, 5, "D24582196903CDA7" },
        { 8, 3, "0E5CEBF06F6FB648" },
        { 9, 4, "730FCBDAB703B99F" },
        { 17, 6, "B7C1A32DD0C83084" },
        { 63, 5, "BF9370DF396CE4AC" },
        { 64, 5, "3080FF358260A461" },
        { 65, 7, "1682CD731CAC9055" },
        { 257, 9, "FF182EC206FEE308" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void LayerOutputs_HaveTheSameBits_OnEveryVectorWidth(int features, int rows, string expected)
    {
        var random = new Random(features * 1000 + rows);
        float[] x = [.. Enumerable.Range(0, features * rows).Select(_ => (float)(random.NextDouble() * 20 - 7))];
        float[] dy = [.. Enumerable.Range(0, features * rows).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        var bn = new BatchNormLayer(features);
        var y = new float[x.Length];
        bn.Forward(x, y, rows, training: true);
        Add(hash, y);
        var dx = new float[x.Length];
        var dGamma = new float[features];
        var dBeta = new float[features];
        bn.Backward(dy, dx, dGamma, dBeta);
        Add(hash, dx);
        Add(hash, dGamma);
        Add(hash, dBeta);

        var lean = new BatchNormLayer(features) { KeepNormalizedInput = false };
        lean.Forward(x, y, rows, training: true);
        Add(hash, y);
        lean.Backward(x, dy, dx, dGamma, dBeta);
        Add(hash, dx);

        bn.Forward(x, y, rows, training: false);
        Add(hash, y);

        var dropout = new DropoutLayer(0.3f, seed: 5);
        dropout.Forward(x, y, training: true);
        Add(hash, y);
        dropout.Backward(dy, dx);
        Add(hash, dx);

        string actual = Convert.ToHexString(hash.GetHashAndReset())[..16];
        Assert.Equal(expected, actual);
    }

    public static TheoryData<int, int, int, string> SpatialCases => new()
    {
        // channels, batch, spatialSize, the first 16 hex digits of SHA-256 over every output of the spatial layer:
        // training forward (and the running statistics), test forward, backward. Plane lengths below one vector, with
        // every tail, and across a run of the plane sums (1024). Recorded on AVX2; identical with hardware intrinsics off.
        { 3, 2, 1, "4CDB523A16926C19" },
        { 2, 3, 7, "8D76FBBBDA034D8F" },
        { 3, 2, 33, "03CEB5C00B15D846" },
        { 2, 2, 65, "25778400B0F7EB19" },
        { 3, 2, 1100, "3D0F8644A710D562" },
    };

    [Theory]
    [MemberData(nameof(SpatialCases))]
    public void SpatialLayerOutputs_HaveTheSameBits_OnEveryVectorWidth(int channels, int batch, int spatialSize, string expected)
    {
        int length = channels * batch * spatialSize;
        var random = new Random((channels * 100000) + (batch * 10000) + spatialSize);
        float[] x = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 20 - 7))];
        float[] dy = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        var layer = new SpatialBatchNormLayer(channels);
        var y = new float[length];
        layer.Forward(x, y, batch, spatialSize, training: true);
        Add(hash, y);
        Add(hash, layer.RunningMean);
        Add(hash, layer.RunningVariance);
        var dx = new float[length];
        var dGamma = new float[channels];
        var dBeta = new float[channels];
        layer.Backward(dy, dx, dGamma, dBeta);
        Add(hash, dx);
        Add(hash, dGamma);
        Add(hash, dBeta);
        layer.Forward(x, y, batch, spatialSize, training: false);
        Add(hash, y);

        string actual = Convert.ToHexString(hash.GetHashAndReset())[..16];
        Assert.Equal(expected, actual);
    }

    private static void Add(IncrementalHash hash, float[] values) =>
        hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
}
