using Ml.Normalization.Layers;
using Ml.Normalization.Tests.TestSupport;
using static Ml.Normalization.Tests.TestSupport.GoldenVectors;

namespace Ml.Normalization.Tests.Layers;

/// <summary>
/// The spatial layer against float64 <c>torch.nn.BatchNorm2d</c> (Golden/torch_batchnorm2d.json), under matching options:
/// our momentum = 1 - torch's, <see cref="SpatialBatchNormLayer.UnbiasedRunningVariance"/> set and the running variance
/// started at 1 as PyTorch does.
/// </summary>
/// <remarks>
/// The inputs are floats, so the references differ from the layer only by float arithmetic on values of the size of the
/// normalized data: the tolerances are a few float epsilons (6e-8) times the magnitude of each quantity, with no term for
/// the size of x. That holds for x = 1e4 + noise too, because the layer subtracts a per-channel shift before anything else
/// (a layer that subtracted a float mean of 1e4 directly would be off by up to 5e-4 there and fail).
/// </remarks>
public class SpatialBatchNormLayerGoldenTests
{
    public static TheoryData<string> Cases => Torch2dNames();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_Training_MatchesBatchNorm2d_ForEveryBatch(string name)
    {
        var c = Torch2dCase(name);
        var layer = NewLayer(c);
        for (int b = 0; b < c.Batches.Length; b++)
        {
            var y = new float[c.Length];
            layer.Forward(F(c.Batches[b]), y, c.N, c.SpatialSize, training: true);
            Approx.Equal(c.Train_Out[b], y, 1e-5, 1e-5 * Scale(c.Train_Out[b]), $"{name} train_out[{b}]");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_Training_UpdatesRunningStatistics_AsBatchNorm2d(string name)
    {
        var c = Torch2dCase(name);
        var layer = NewLayer(c);
        for (int b = 0; b < c.Batches.Length; b++)
        {
            layer.Forward(F(c.Batches[b]), new float[c.Length], c.N, c.SpatialSize, training: true);
            Approx.Equal(c.Running_Mean_After[b], layer.RunningMean, 1e-6, 1e-6 * Scale(c.Running_Mean_After[b]), $"{name} running_mean[{b}]");
            Approx.Equal(c.Running_Var_After[b], layer.RunningVariance, 1e-5, 1e-6 * Scale(c.Running_Var_After[b]), $"{name} running_var[{b}]");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_Test_UsesRunningStatistics_AsBatchNorm2dEval(string name)
    {
        var c = Torch2dCase(name);
        var layer = NewLayer(c);
        foreach (var batch in c.Batches)
        {
            layer.Forward(F(batch), new float[c.Length], c.N, c.SpatialSize, training: true);
        }

        var y = new float[c.Test_N * c.C * c.SpatialSize];
        layer.Forward(F(c.Test_X), y, c.Test_N, c.SpatialSize, training: false);
        Approx.Equal(c.Eval_Out, y, 1e-5, 1e-5 * Scale(c.Eval_Out), $"{name} eval_out");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_MatchesAutograd_dx_dWeight_dBias(string name)
    {
        var c = Torch2dCase(name);
        var layer = NewLayer(c);
        foreach (var batch in c.Batches)
        {
            layer.Forward(F(batch), new float[c.Length], c.N, c.SpatialSize, training: true);
        }

        var dx = new float[c.Length];
        var dGamma = new float[c.C];
        var dBeta = new float[c.C];
        layer.Backward(F(c.Grad_Out), dx, dGamma, dBeta);

        // dx is a difference of terms of size gamma * dy / std; dGamma and dBeta are sums of n = N x H x W terms of size |dy|.
        double dxScale = c.Weight.Max(Math.Abs) * Scale(c.Grad_Out) * MaxInverseStd(c);
        double sumScale = Scale(c.Grad_Out) * Math.Sqrt(c.N * c.SpatialSize);
        Approx.Equal(c.Dx, dx, 1e-4, 1e-5 * dxScale, $"{name} dx");
        Approx.Equal(c.Dweight, dGamma, 1e-5, 1e-5 * sumScale, $"{name} dweight");
        Approx.Equal(c.Dbias, dBeta, 1e-5, 1e-5 * sumScale, $"{name} dbias");
    }

    private static SpatialBatchNormLayer NewLayer(TorchBatchNorm2dCase c)
    {
        var layer = new SpatialBatchNormLayer(c.C, (float)(1 - c.Torch_Momentum), (float)c.Eps) { UnbiasedRunningVariance = true };
        Array.Fill(layer.RunningVariance, 1f);
        F(c.Weight).CopyTo(layer.Gamma, 0);
        F(c.Bias).CopyTo(layer.Beta, 0);
        return layer;
    }

    private static double Scale(double[] values) => Math.Max(1, values.Max(Math.Abs));

    private static double MaxInverseStd(TorchBatchNorm2dCase c)
    {
        var x = c.Batches[^1];
        int s = c.SpatialSize;
        double max = 0;
        for (int ch = 0; ch < c.C; ch++)
        {
            var values = Enumerable.Range(0, c.N).SelectMany(n => x.Skip(((n * c.C) + ch) * s).Take(s)).ToArray();
            double mean = values.Average();
            double variance = values.Average(v => (v - mean) * (v - mean));
            max = Math.Max(max, 1 / Math.Sqrt(variance + c.Eps));
        }

        return max;
    }
}
