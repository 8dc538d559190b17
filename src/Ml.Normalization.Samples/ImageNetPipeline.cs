using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Onnx;

namespace Ml.Normalization.Samples;

/// <summary>One image through the ImageNet pipeline.</summary>
/// <param name="ImagePath">The patch file, relative to <see cref="ImagePipeline.ImagesDirectory"/>.</param>
/// <param name="Pixels">ExtractPixels' output: [3, 224, 224], channels first, scaled to [0, 1].</param>
/// <param name="Input">The BatchNormalize stage's output, the model's input: <c>(pixels - mean[c]) / std[c]</c>.</param>
/// <param name="Output">ApplyOnnxModel's output: the model's four values.</param>
public sealed record ImageNetRow(string ImagePath, float[] Pixels, float[] Input, float[] Output);

/// <summary>
/// docs/images.md's ImageNet example, run: LoadImages, ResizeImages to 224 x 224, ExtractPixels scaled to [0, 1], torchvision's
/// <c>Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])</c> as a BatchNormalize stage with known
/// constants (nothing to fit), and ApplyOnnxModel. The model is <c>Data/tiny_classifier.onnx</c>, a tiny untrained network
/// with an ImageNet model's interface (input "input" [N, 3, 224, 224], output "output" [N, 4]) that stands in for a
/// ResNet: <c>Data/make_tiny_classifier.py</c> makes it. Its outputs are four fixed functions of the image, not classes.
/// </summary>
public static class ImageNetPipeline
{
    /// <summary>The side ResizeImages gives each image: the model's input size.</summary>
    public const int Size = 224;

    /// <summary>The committed stand-in model (see <c>Data/make_tiny_classifier.py</c>).</summary>
    public static string ModelPath => Path.Combine(SampleData.Directory, "tiny_classifier.onnx");

    /// <summary>Knobs of the run; the defaults are what <c>dotnet run -- imagenet</c> uses.</summary>
    /// <param name="PerPhoto">Patches taken from each photo's folder (the first ones, in file-name order).</param>
    public sealed record Options(int PerPhoto = 3);

    /// <summary>
    /// The pipeline of docs/images.md, with the committed stand-in model in place of <c>resnet18.onnx</c>. BatchNormalize with
    /// known constants is an estimator with nothing to learn (its Fit checks the columns and returns the transformer of
    /// the constants), so the whole pipeline is one chain, fitted once (nothing in it learns from the data).
    /// </summary>
    public static TransformerChain<OnnxTransformer> Pipeline(MLContext ml, IDataView images, string imageFolder, string modelPath)
    {
        var imageNet = BatchNormalizationParameters.FromMeanAndStd("input", "Pixels", ChannelLayout.ChannelsFirst,
            mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]);
        var pipeline = ml.Transforms.LoadImages("Image", imageFolder, "Path")
            .Append(ml.Transforms.ResizeImages("Image", 224, 224))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", interleavePixelColors: false, scaleImage: 1f / 255))
            .Append(ml.Transforms.BatchNormalize(imageNet))
            .Append(ml.Transforms.ApplyOnnxModel("output", "input", modelPath));
        return pipeline.Fit(images);
    }

    /// <summary>Runs the pipeline on the first <see cref="Options.PerPhoto"/> patches of each photo.</summary>
    public static IReadOnlyList<ImageNetRow> Run(Options? options = null, TextWriter? log = null)
    {
        options ??= new Options();
        log ??= TextWriter.Null;
        var ml = new MLContext(seed: 1);
        string folder = ImagePipeline.ImagesDirectory;
        var paths = Directory.GetDirectories(folder).Order(StringComparer.Ordinal)
            .SelectMany(d => Directory.GetFiles(d, "*.jpg").Order(StringComparer.Ordinal).Take(options.PerPhoto))
            .Select(f => new ImageFile { Path = System.IO.Path.GetRelativePath(folder, f) })
            .ToArray();
        var images = ml.Data.LoadFromEnumerable(paths);
        log.WriteLine($"{paths.Length} patches, resized to {Size} x {Size}, through torchvision's ImageNet Normalize into {System.IO.Path.GetFileName(ModelPath)}:");
        log.WriteLine("  a tiny untrained network standing in for an ImageNet model (Data/make_tiny_classifier.py); its outputs are not classes.");

        using var model = Pipeline(ml, images, folder, ModelPath);
        var scored = model.Transform(images);
        var pixels = scored.GetColumn<float[]>("Pixels").ToArray();
        var input = scored.GetColumn<float[]>("input").ToArray();
        var output = scored.GetColumn<float[]>("output").ToArray();
        return [.. paths.Select((p, i) => new ImageNetRow(p.Path, pixels[i], input[i], output[i]))];
    }

    /// <summary>Prints each image's model output, and the mean and std of the model's input per channel.</summary>
    public static void Print(IReadOnlyList<ImageNetRow> rows, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine("  patch                            output (4 values)");
        foreach (var row in rows)
        {
            output.WriteLine($"  {row.ImagePath,-32} [{string.Join(", ", row.Output.Select(v => v.ToString("F4", CultureInfo.InvariantCulture).PadLeft(8)))}]");
        }

        output.WriteLine();
        output.WriteLine("The model's input per channel (all patches): mean, std");
        var inputs = rows.Select(r => r.Input).ToArray();
        for (int c = 0; c < 3; c++)
        {
            var (mean, std) = ImagePipeline.MeanAndStd(inputs, c, Size * Size);
            output.WriteLine($"  {ImagePipeline.ChannelNames[c],-7} {mean,7:F3}, {std,6:F3}");
        }
    }

    /// <summary>One image file, relative to the image folder.</summary>
    public sealed class ImageFile
    {
        public string Path { get; set; } = "";
    }
}
