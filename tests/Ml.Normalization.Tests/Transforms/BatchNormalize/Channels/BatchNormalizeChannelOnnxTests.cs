using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ml.Normalization.Tests.TestSupport;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize.Channels;

/// <summary>
/// The per-channel stage exports to ONNX with per-channel constants broadcast over the reshaped input, and ONNX Runtime
/// gives the transform's outputs bit for bit, in the input's own dimensions.
/// </summary>
public class BatchNormalizeChannelOnnxTests
{
    public static TheoryData<ChannelLayout, bool, bool> Cases()
    {
        var data = new TheoryData<ChannelLayout, bool, bool>();
        foreach (var layout in new[] { ChannelLayout.ChannelsFirst, ChannelLayout.ChannelsLast })
        {
            foreach (bool isDouble in new[] { false, true })
            {
                foreach (bool withDimensions in new[] { true, false })
                {
                    data.Add(layout, isDouble, withDimensions);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FittedChannels_RunInOnnxRuntime_BitIdentical(ChannelLayout layout, bool isDouble, bool withDimensions)
    {
        var ml = new MLContext(seed: 1);
        const int channels = 3, height = 4, width = 5, rows = 12;
        var values = ImageData.Rows(11, rows, channels, height * width, layout);
        int[] dimensions = !withDimensions ? [channels * height * width] : layout == ChannelLayout.ChannelsFirst ? [channels, height, width] : [height, width, channels];
        var data = isDouble
            ? ImageData.DoubleView(ml, values.Select(r => r.Select(v => (double)v).ToArray()).ToArray(), dimensions)
            : ImageData.View(ml, values, dimensions);
        var options = new BatchNormalizingEstimator.Options { ChannelLayout = layout, ChannelCount = withDimensions ? 0 : channels, BatchSize = 4, Gamma = [1.5f, -2f, 0.25f], Beta = [0.5f, 0f, -3f] };
        var model = ml.Transforms.BatchNormalize([new InputOutputColumnPair("Normalized", "Pixels")], options).Fit(data);

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        using var session = new InferenceSession(stream.ToArray());
        var shape = new[] { rows }.Concat(dimensions).ToArray();
        var input = isDouble
            ? NamedOnnxValue.CreateFromTensor("Pixels", new DenseTensor<double>(values.SelectMany(r => r.Select(v => (double)v)).ToArray(), shape))
            : NamedOnnxValue.CreateFromTensor("Pixels", new DenseTensor<float>(values.SelectMany(r => r).ToArray(), shape));
        using var results = session.Run([input]);
        var output = results.Single(r => r.Name == "Normalized.output");

        var transformed = model.Transform(data);
        if (isDouble)
        {
            var tensor = output.AsTensor<double>();
            Assert.Equal(shape, tensor.Dimensions.ToArray());
            Assert.Equal(transformed.GetColumn<VBuffer<double>>("Normalized").SelectMany(v => v.DenseValues()).ToArray(), tensor.ToArray());
        }
        else
        {
            var tensor = output.AsTensor<float>();
            Assert.Equal(shape, tensor.Dimensions.ToArray());
            Assert.Equal(transformed.GetColumn<VBuffer<float>>("Normalized").SelectMany(v => v.DenseValues()).ToArray(), tensor.ToArray());
        }
    }

    [Fact]
    public void ImageNetConstants_ExportAsThreeValuesPerConstant()
    {
        var ml = new MLContext(seed: 1);
        var values = ImageData.Rows(12, 2, 3, 16, ChannelLayout.ChannelsFirst);
        var data = ImageData.View(ml, values, 3, 4, 4);
        var model = ml.Transforms.BatchNormalize(BatchNormalizationParameters.FromMeanAndStd("Input", "Pixels", ChannelLayout.ChannelsFirst, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])).Fit(data);

        using var stream = new MemoryStream();
        ml.Model.ConvertToOnnx(model, data, stream);
        using var session = new InferenceSession(stream.ToArray());
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("Pixels", new DenseTensor<float>(values.SelectMany(r => r).ToArray(), [2, 3, 4, 4]))]);

        Assert.Equal(model.Transform(data).GetColumn<VBuffer<float>>("Input").SelectMany(v => v.DenseValues()).ToArray(),
            results.Single(r => r.Name == "Input.output").AsTensor<float>().ToArray());
        // The constants are per channel ([3, 1]), not repeated per slot.
        var modelProto = stream.ToArray();
        Assert.True(modelProto.Length < 4000, $"the ONNX model is {modelProto.Length} bytes");
    }
}
