using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Inverse;

/// <summary>
/// The inverse exports as BatchNormalize does (Sub, Mul, Add; scale only: Mul) with the inverse's constants, and ONNX
/// Runtime gives ML.NET's outputs bit for bit: per slot and per channel, Single and Double, scalar and vector, alone and
/// after the normalization it undoes.
/// </summary>
public class InverseOnnxTests
{
    private const int Rows = 12;

    public static TheoryData<ChannelLayout, int, bool, bool> Cases()
    {
        var data = new TheoryData<ChannelLayout, int, bool, bool>();
        foreach (var (layout, slots) in new[] { (ChannelLayout.None, 0), (ChannelLayout.None, 9), (ChannelLayout.ChannelsFirst, 63), (ChannelLayout.ChannelsLast, 65) })
        {
            foreach (bool isDouble in new[] { false, true })
            {
                foreach (bool centered in new[] { true, false })
                {
                    data.Add(layout, slots, isDouble, centered);
                }
            }
        }

        return data;
    }

    // slots 0: a scalar column.
    [Theory]
    [MemberData(nameof(Cases))]
    public void Inverse_RunsInOnnxRuntime_BitIdentical(ChannelLayout layout, int slots, bool isDouble, bool centered)
    {
        var ml = new MLContext(seed: 1);
        int channels = layout == ChannelLayout.None ? Math.Max(slots, 1) : InverseData.ChannelsOf(slots).Channels;
        var p = InverseData.Parameters(seed: 20 + slots, channels, layout, centered);
        var random = new Random(21);
        var rows = Enumerable.Range(0, Rows).Select(_ => Enumerable.Range(0, Math.Max(slots, 1)).Select(_ => (6 * random.NextDouble()) - 3).ToArray()).ToArray(); // normalized values
        int[] dimensions = slots == 0 ? [] : InverseData.Dimensions(layout, slots);
        var data = InverseData.View(ml, rows, isDouble, dimensions);
        var model = ml.Transforms.InverseBatchNormalize("Restored", "X", p).Fit(data);

        var (onnx, shape) = RunOnnx(ml, model, data, rows, isDouble, dimensions);

        Assert.Equal([Rows, .. dimensions.Length == 0 ? [1] : dimensions], shape);
        Assert.Equal(InverseData.Read(model.Transform(data), "Restored").SelectMany(r => r), onnx);
    }

    [Fact]
    public void NormalizeThenInverse_ExportInOneGraph_BitIdentical()
    {
        var ml = new MLContext(seed: 1);
        var p = InverseData.Parameters(seed: 30, 7, ChannelLayout.None, centered: true);
        var rows = InverseData.Rows(seed: 31, Rows, p, 7, 1);
        var data = InverseData.View(ml, rows, isDouble: false, 7);
        var normalize = ml.Transforms.BatchNormalize(p).Fit(data);
        var model = normalize.Append(normalize.GetInverse("Restored", "Normalized"));

        var (onnx, _) = RunOnnx(ml, model, data, rows, isDouble: false, [7], "Restored.output");

        Assert.Equal(InverseData.Read(model.Transform(data), "Restored").SelectMany(r => r), onnx);
    }

    /// <summary>Converts the model, feeds "X" as [rows, dimensions...] ([rows, 1] for a scalar), returns the output's values and shape.</summary>
    private static (double[] Values, int[] Shape) RunOnnx(MLContext ml, ITransformer model, IDataView data, double[][] rows, bool isDouble, int[] dimensions, string output = "Restored.output")
    {
        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        using var session = new InferenceSession(stream.ToArray());
        int[] shape = [rows.Length, .. dimensions.Length == 0 ? [1] : dimensions];
        var input = isDouble
            ? NamedOnnxValue.CreateFromTensor("X", new DenseTensor<double>(rows.SelectMany(r => r).ToArray(), shape))
            : NamedOnnxValue.CreateFromTensor("X", new DenseTensor<float>(rows.SelectMany(r => r.Select(v => (float)v)).ToArray(), shape));
        using var results = session.Run([input]);
        var result = results.Single(r => r.Name == output);
        return isDouble
            ? (result.AsTensor<double>().ToArray(), result.AsTensor<double>().Dimensions.ToArray())
            : ([.. result.AsTensor<float>().ToArray().Select(v => (double)v)], result.AsTensor<float>().Dimensions.ToArray());
    }
}
