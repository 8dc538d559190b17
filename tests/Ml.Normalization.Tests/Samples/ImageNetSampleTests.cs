using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ml.Normalization.Samples;

namespace Ml.Normalization.Tests.Samples;

/// <summary>
/// Runs the samples' imagenet scenario, the ImageNet example of docs/images.md: image patches resized to 224 x 224, pixels scaled
/// to [0, 1], torchvision's ImageNet <c>Normalize</c> as a BatchNormalize stage with known constants, then ApplyOnnxModel
/// with the committed stand-in model (Data/tiny_classifier.onnx).
/// </summary>
public sealed class ImageNetSampleTests
{
    private static readonly float[] Mean = [0.485f, 0.456f, 0.406f];
    private static readonly float[] Std = [0.229f, 0.224f, 0.225f];

    [Fact]
    public void ImageNet_ApplyOnnxModelGivesWhatTheModelGivesOnTorchvisionsNormalizedTensor()
    {
        var rows = ImageNetPipeline.Run();
        const int Plane = ImageNetPipeline.Size * ImageNetPipeline.Size;

        Assert.Equal(12, rows.Count); // 3 patches from each of the 4 photos
        Assert.All(rows, r => Assert.Equal(3 * Plane, r.Pixels.Length));
        Assert.All(rows, r => Assert.All(r.Pixels, v => Assert.InRange(v, 0f, 1f)));
        Assert.All(rows, r => Assert.Equal(4, r.Output.Length));

        // The model's input as torchvision builds it from the pipeline's own "Pixels": ToTensor's [0, 1] float32 values,
        // then Normalize's float32 tensor.sub_(mean).div_(std), with mean and std float32 tensors.
        var torchvision = new float[rows.Count * 3 * Plane];
        for (int i = 0; i < rows.Count; i++)
        {
            for (int j = 0; j < 3 * Plane; j++)
            {
                int c = j / Plane;
                float expected = (rows[i].Pixels[j] - Mean[c]) / Std[c];
                torchvision[(i * 3 * Plane) + j] = expected;

                // The stage computes (x - mean) / std in float too: the same bits.
                float actual = rows[i].Input[j];
                Assert.True(actual == expected, $"row {i} slot {j}: the stage gives {actual:R}, torchvision {expected:R}");
            }
        }

        // The same ONNX file in ONNX Runtime directly, on that tensor ([N, 3, 224, 224], one batch).
        using var session = new InferenceSession(ImageNetPipeline.ModelPath);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input",
            new DenseTensor<float>(torchvision, [rows.Count, 3, ImageNetPipeline.Size, ImageNetPipeline.Size]))]);
        var direct = results.Single(r => r.Name == "output").AsTensor<float>().ToArray();
        Assert.Equal(rows.Count * 4, direct.Length);

        // Tolerance 1e-5 absolute, on outputs of magnitude 0.01 to 3. Both sides run the same model in the same ONNX
        // Runtime on the same input bits (the stage's are torchvision's), so they could differ only where the runtime
        // sums a convolution in another order for one row (ApplyOnnxModel) than for a batch of 12: a few ulps of the
        // outputs, < 1e-5 (observed: 0). A wrong layout (interleaved channels), scale (0..255) or constant would move
        // outputs by 0.01 or more.
        for (int i = 0; i < rows.Count; i++)
        {
            for (int k = 0; k < 4; k++)
            {
                double difference = Math.Abs(rows[i].Output[k] - direct[(i * 4) + k]);
                Assert.True(difference <= 1e-5, $"{rows[i].ImagePath}, output {k}: ApplyOnnxModel {rows[i].Output[k]:R}, ONNX Runtime {direct[(i * 4) + k]:R}");
            }
        }

        // The model sees the images: the outputs differ between patches, by far more than the tolerance.
        for (int k = 0; k < 4; k++)
        {
            var values = rows.Select(r => r.Output[k]).ToArray();
            Assert.True(values.Max() - values.Min() > 0.1, $"output {k} hardly varies: {string.Join(", ", values)}");
        }

        Assert.True(rows.Select(r => string.Join(",", r.Output)).Distinct().Count() == rows.Count, "two patches give the same output");
    }
}
