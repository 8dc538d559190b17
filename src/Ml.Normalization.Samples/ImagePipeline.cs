using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers;
using OxyPlot;

namespace Ml.Normalization.Samples;

/// <summary>Test-set metrics of one image pipeline variant.</summary>
public sealed record ImageMetrics(string Name, double MicroAccuracy, double MacroAccuracy, double LogLoss);

/// <summary>
/// One colour channel of the training pixels (scaled to [0, 1]): the statistics the fitted stage keeps, the same
/// statistics computed directly over all training pixels, and the mean and standard deviation of the channel after the
/// fitted stage and after the ImageNet constants.
/// </summary>
public sealed record ChannelStatistics(string Channel,
    double FittedMean, double FittedStd, double DirectMean, double DirectStd,
    double MeanAfterFitted, double StdAfterFitted, double MeanAfterImageNet, double StdAfterImageNet);

/// <summary>What <see cref="ImagePipeline.Run"/> measured and wrote.</summary>
/// <param name="Classes">The photos, which are the labels.</param>
/// <param name="TrainingRows">Patches in the training set.</param>
/// <param name="TestRows">Patches in the test set.</param>
/// <param name="Metrics">Test-set metrics, one per pipeline variant.</param>
/// <param name="Channels">Per-channel statistics, in R, G, B order.</param>
/// <param name="FittedStatistics">The fitted BatchNormalize stage's parameters.</param>
/// <param name="Files">The pictures written.</param>
/// <param name="TrainingPixels">The training rows' pixels in the order the BatchNormalize fit saw them, channels first
/// ([3, Size, Size]), scaled to [0, 1]: what a test needs to recompute the fitted statistics.</param>
public sealed record ImageReport(
    IReadOnlyList<string> Classes,
    int TrainingRows,
    int TestRows,
    IReadOnlyList<ImageMetrics> Metrics,
    IReadOnlyList<ChannelStatistics> Channels,
    BatchNormalizationParameters FittedStatistics,
    IReadOnlyList<float[]> TrainingPixels,
    IReadOnlyList<string> Files);

/// <summary>
/// The image run: colour patches of four photos (Data/images/), read with Microsoft.ML.ImageAnalytics (LoadImages,
/// ResizeImages, ExtractPixels), normalized per colour channel by BatchNormalize, and classified by photo with a
/// multiclass logistic regression. The fitted statistics are set beside the ImageNet constants of torchvision's
/// <c>Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])</c>.
/// </summary>
public static class ImagePipeline
{
    /// <summary>Knobs of the run; the defaults are what <c>dotnet run -- images</c> uses.</summary>
    /// <param name="Seed">Seed of the MLContext, the shuffle of the patches and the train/test split.</param>
    /// <param name="Size">Side in pixels that ResizeImages gives each 48 x 48 patch.</param>
    /// <param name="BatchSize">Rows per mini-batch of the BatchNormalize fit: three batches on the ~160 training rows.</param>
    /// <param name="Iterations">Cap on the L-BFGS iterations of the classifier: it has converged on the test metrics well before.</param>
    public sealed record Options(int Seed = 1, int Size = 16, int BatchSize = 64, int Iterations = 100);

    /// <summary>torchvision's <c>Normalize</c> constants for ImageNet, in R, G, B order.</summary>
    public static readonly double[] ImageNetMean = [0.485, 0.456, 0.406];

    /// <inheritdoc cref="ImageNetMean"/>
    public static readonly double[] ImageNetStd = [0.229, 0.224, 0.225];

    /// <summary>The channels in the order ExtractPixels writes them (its default, ColorsOrder.ARGB without alpha).</summary>
    public static readonly string[] ChannelNames = ["red", "green", "blue"];

    public static string ImagesDirectory => Path.Combine(SampleData.Directory, "images");

    public static ImageReport Run(string outputDirectory, Options? options = null, TextWriter? log = null)
    {
        options ??= new Options();
        log ??= TextWriter.Null;
        Directory.CreateDirectory(outputDirectory);
        var ml = new MLContext(seed: options.Seed);

        // The label is the photo a patch was cut from (its folder). The patches are listed in a seeded random order, so
        // every mini-batch of the fit mixes all four photos: batches of one photo each would make the running
        // statistics follow whichever photo came last.
        var random = new Random(options.Seed);
        var patches = Directory.GetFiles(ImagesDirectory, "*.jpg", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .Select(f => new ImagePatch { ImagePath = Path.GetRelativePath(ImagesDirectory, f), Label = Path.GetFileName(Path.GetDirectoryName(f)!) })
            .ToArray();
        random.Shuffle(patches);
        var classes = patches.Select(p => p.Label).Distinct().Order(StringComparer.Ordinal).ToList();
        var split = ml.Data.TrainTestSplit(ml.Data.LoadFromEnumerable(patches), testFraction: 0.2, seed: options.Seed);
        int trainRows = CountRows(split.TrainSet), testRows = CountRows(split.TestSet);
        log.WriteLine($"Image patches: {patches.Length} ({string.Join(", ", classes)}), {trainRows} training and {testRows} test rows, " +
            $"resized to {options.Size} x {options.Size}: 3 x {options.Size} x {options.Size} = {3 * options.Size * options.Size} pixel values a row.");

        // 1. The reader, fitted once: LoadImages, ResizeImages, ExtractPixels. Without interleaving ExtractPixels writes
        //    the channels one after another, [C, H, W], each value scaled to [0, 1] (as torchvision's ToTensor). Its
        //    output on the training set is cached, so each patch is decoded once however many passes the trainer makes.
        var reader = Reader(ml, options).Fit(split.TrainSet);
        var pixels = ml.Data.Cache(reader.Transform(split.TrainSet));

        // 2. Three variants behind it, the same trainer each time: no normalization, BatchNormalize fitted per channel,
        //    and the ImageNet constants (a stage with known parameters, nothing to fit). Each model is the whole chain,
        //    reader + normalization + trainer, and is scored on the test patches from their files.
        var variants = new (string Name, Func<IDataView, ITransformer?> Normalization, string Features)[]
        {
            ("no normalization", _ => null, "Pixels"),
            ("BatchNormalize per channel", data => ml.Transforms.BatchNormalize("Normalized", "Pixels",
                new BatchNormalizingEstimator.Options { ChannelLayout = ChannelLayout.ChannelsFirst, BatchSize = options.BatchSize }).Fit(data), "Normalized"),
            ("ImageNet constants", data => ImageNetStage(ml).Fit(data), "Normalized"),
        };

        var metrics = new List<ImageMetrics>();
        var stages = new Dictionary<string, ITransformer?>();
        foreach (var (name, normalization, features) in variants)
        {
            log.Write($"  training: {name,-28}");
            var clock = Stopwatch.StartNew();
            var stage = normalization(pixels);
            var input = stage is null ? pixels : ml.Data.Cache(stage.Transform(pixels));
            var model = stage is null ? reader : reader.Append(stage);
            var scored = model.Append(Trainer(ml, features, options.Iterations).Fit(input)).Transform(split.TestSet);
            var m = ml.MulticlassClassification.Evaluate(scored);
            metrics.Add(new ImageMetrics(name, m.MicroAccuracy, m.MacroAccuracy, m.LogLoss));
            log.WriteLine($" {clock.Elapsed.TotalSeconds:F2} s");
            stages[name] = stage;
        }

        // 3. The fitted stage's statistics beside a direct computation over the same training pixels, and the channels
        //    after each stage.
        var fittedStage = (BatchNormalizingTransformer)stages["BatchNormalize per channel"]!;
        var before = pixels.GetColumn<float[]>("Pixels").ToArray();
        var afterFitted = fittedStage.Transform(pixels).GetColumn<float[]>("Normalized").ToArray();
        var afterImageNet = stages["ImageNet constants"]!.Transform(pixels).GetColumn<float[]>("Normalized").ToArray();

        int plane = options.Size * options.Size;
        var fitted = fittedStage.Columns[0];
        var channels = new List<ChannelStatistics>();
        for (int c = 0; c < 3; c++)
        {
            var (mean, std) = MeanAndStd(before, c, plane);
            var (meanFitted, stdFitted) = MeanAndStd(afterFitted, c, plane);
            var (meanImageNet, stdImageNet) = MeanAndStd(afterImageNet, c, plane);
            channels.Add(new ChannelStatistics(ChannelNames[c], fitted.RunningMean[c], Math.Sqrt(fitted.RunningVariance[c]), mean, std,
                meanFitted, stdFitted, meanImageNet, stdImageNet));
        }

        // 4. The picture: each channel's pixel values before and after.
        var files = new List<string>
        {
            ChannelHistograms(Path.Combine(outputDirectory, "image-channels.svg"), before, afterFitted, afterImageNet, plane, channels),
            PatchGrid(Path.Combine(outputDirectory, "image-patches.svg"), classes, pixels.GetColumn<string>(nameof(ImagePatch.Label)).ToArray(),
                before, afterFitted, afterImageNet, options.Size),
        };
        return new ImageReport(classes, trainRows, testRows, metrics, channels, fitted, before, files);
    }

    /// <summary>Prints the report the way the app shows it.</summary>
    public static void Print(ImageReport report, TextWriter output)
    {
        output.WriteLine();
        output.WriteLine($"Test set ({report.TestRows} patches, {report.Classes.Count} photos)   micro-accuracy   macro-accuracy   log-loss");
        foreach (var m in report.Metrics)
        {
            output.WriteLine($"  {m.Name,-36} {m.MicroAccuracy,14:P1} {m.MacroAccuracy,16:P1} {m.LogLoss,10:F3}");
        }

        var fitted = report.FittedStatistics;
        output.WriteLine();
        output.WriteLine($"Per-channel statistics of the {report.TrainingRows} training patches (pixels scaled to [0, 1]); " +
            $"the stage saw {fitted.RowCount} rows in {fitted.BatchCount} mini-batches:");
        output.WriteLine("  channel   fitted mean   direct mean   fitted std   direct std   ImageNet mean   ImageNet std");
        for (int c = 0; c < report.Channels.Count; c++)
        {
            var s = report.Channels[c];
            output.WriteLine($"  {s.Channel,-7} {s.FittedMean,13:F4} {s.DirectMean,13:F4} {s.FittedStd,12:F4} {s.DirectStd,12:F4} {ImageNetMean[c],15:F3} {ImageNetStd[c],14:F3}");
        }

        output.WriteLine("  (fitted: the stage's running statistics, a moving average over the mini-batches; direct: one pass over all");
        output.WriteLine("   training pixels of the channel, in double)");
        output.WriteLine();
        output.WriteLine("After normalization (training pixels):   mean, std");
        output.WriteLine("  channel   fitted BatchNormalize    ImageNet constants");
        foreach (var s in report.Channels)
        {
            output.WriteLine($"  {s.Channel,-7} {s.MeanAfterFitted,10:F3}, {s.StdAfterFitted,6:F3} {s.MeanAfterImageNet,13:F3}, {s.StdAfterImageNet,6:F3}");
        }
    }

    /// <summary>LoadImages, ResizeImages, ExtractPixels: the patch files to a [3, Size, Size] vector "Pixels" in [0, 1].</summary>
    private static IEstimator<ITransformer> Reader(MLContext ml, Options options) =>
        ml.Transforms.LoadImages("Image", ImagesDirectory, nameof(ImagePatch.ImagePath))
            .Append(ml.Transforms.ResizeImages("Image", options.Size, options.Size))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Image", interleavePixelColors: false, scaleImage: 1f / 255))
            .Append(ml.Transforms.DropColumns("Image"));

    /// <summary>
    /// torchvision's <c>Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])</c> as a stage with known constants:
    /// <c>y = (x - mean[c]) / std[c]</c>. Nothing to learn: its Fit only checks the data's columns.
    /// </summary>
    private static KnownParametersBatchNormalizingEstimator ImageNetStage(MLContext ml) =>
        ml.Transforms.BatchNormalize(BatchNormalizationParameters.FromMeanAndStd("Normalized", "Pixels", ChannelLayout.ChannelsFirst, ImageNetMean, ImageNetStd));

    /// <summary>Mean and (biased) standard deviation of channel <paramref name="channel"/> over all rows, in double.</summary>
    public static (double Mean, double Std) MeanAndStd(IReadOnlyList<float[]> rows, int channel, int plane)
    {
        double sum = 0;
        foreach (var row in rows)
        {
            for (int i = channel * plane; i < (channel + 1) * plane; i++)
            {
                sum += row[i];
            }
        }

        double mean = sum / ((double)rows.Count * plane), squares = 0;
        foreach (var row in rows)
        {
            for (int i = channel * plane; i < (channel + 1) * plane; i++)
            {
                squares += (row[i] - mean) * (row[i] - mean);
            }
        }

        return (mean, Math.Sqrt(squares / ((double)rows.Count * plane)));
    }

    // One thread: the optimizer's result then depends only on the data, so every run prints the same table.
    private static IEstimator<ITransformer> Trainer(MLContext ml, string features, int iterations) =>
        ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(new LbfgsMaximumEntropyMulticlassTrainer.Options
            {
                LabelColumnName = "Label",
                FeatureColumnName = features,
                NumberOfThreads = 1,
                MaximumNumberOfIterations = iterations,
            }));

    private static int CountRows(IDataView view) => view.GetColumn<string>(nameof(ImagePatch.Label)).Count();

    /// <summary>
    /// Three rows of three panels: each channel's pixel values before normalization (in [0, 1]), after the fitted
    /// per-channel BatchNormalize, and after the ImageNet constants; the lower two rows share one axis.
    /// </summary>
    private static string ChannelHistograms(string path, float[][] before, float[][] afterFitted, float[][] afterImageNet, int plane,
        IReadOnlyList<ChannelStatistics> channels)
    {
        OxyColor[] colors = [OxyColors.Crimson, OxyColors.ForestGreen, OxyColors.RoyalBlue];
        var figure = new Figure(1500, 1050, rows: 3, columns: 3);
        double low = Math.Min(Min(afterFitted), Min(afterImageNet)), high = Math.Max(Max(afterFitted), Max(afterImageNet));
        for (int c = 0; c < 3; c++)
        {
            var s = channels[c];
            var raw = figure[c].Titled($"{s.Channel}, pixels / 255: mean {s.DirectMean:F2}, std {s.DirectStd:F2}", "value", "pixels");
            raw.Bars(Channel(before, c, plane), 0, 1, colors[c], bins: 32); // 32 bins of 8 grey levels each
            raw.XLimits(-0.05, 1.05);

            foreach (var (row, values, label, mean, std) in new[]
            {
                (1, afterFitted, "fitted", s.MeanAfterFitted, s.StdAfterFitted),
                (2, afterImageNet, "ImageNet", s.MeanAfterImageNet, s.StdAfterImageNet),
            })
            {
                var plot = figure[(3 * row) + c].Titled($"{s.Channel}, {label}: mean {mean:F2}, std {std:F2}", "value (shared axis)", "pixels");
                plot.Bars(Channel(values, c, plane), low, high, colors[c], bins: 32);
                plot.VerticalRule(0, OxyColors.Black, LineStyle.Dash);
                plot.XLimits(low - 0.1, high + 0.1);
            }
        }

        return figure.Save(path);
    }

    /// <summary>
    /// One row per photo: its first four training patches as the model's input sees them, raw (pixels / 255), after the
    /// fitted stage and after the ImageNet constants. A normalized value z is shown as 0.5 + z / 6 (so -3..3 fills
    /// the range); each channel is drawn as its own colour, so a colour cast that a channel's centring removes shows.
    /// An SVG with each patch embedded as a PNG (<see cref="PngImage"/>), drawn Zoom x Zoom per pixel.
    /// </summary>
    private static string PatchGrid(string path, IReadOnlyList<string> classes, string[] labels, float[][] before, float[][] afterFitted,
        float[][] afterImageNet, int size)
    {
        const int PerClass = 4, Zoom = 6, Gap = 8, GroupGap = 40, Left = 130, Top = 45;
        int side = size * Zoom, cell = side + Gap, group = (PerClass * cell) + GroupGap;
        var groups = new (string Title, float[][] Rows, Func<float, double> Show)[]
        {
            ("pixels / 255", before, v => v),
            ("fitted BatchNormalize", afterFitted, v => 0.5 + (v / 6)),
            ("ImageNet constants", afterImageNet, v => 0.5 + (v / 6)),
        };
        int width = Left + (groups.Length * group) - GroupGap + 10, height = Top + (classes.Count * cell) + 10;
        Figure.Write(path, width, height, svg =>
        {
            for (int g = 0; g < groups.Length; g++)
            {
                svg.DrawText(new ScreenPoint(Left + (g * group) + (((PerClass * cell) - Gap) / 2.0), Top - 12), groups[g].Title, OxyColors.Black,
                    "Arial", 18, FontWeights.Bold, 0, HorizontalAlignment.Center, VerticalAlignment.Bottom);
            }

            for (int k = 0; k < classes.Count; k++)
            {
                var rows = Enumerable.Range(0, labels.Length).Where(i => labels[i] == classes[k]).Take(PerClass).ToArray();
                int top = Top + (k * cell);
                svg.DrawText(new ScreenPoint(Left - 10, top + (side / 2.0)), classes[k], OxyColors.Black,
                    "Arial", 16, FontWeights.Normal, 0, HorizontalAlignment.Right, VerticalAlignment.Middle);
                for (int g = 0; g < groups.Length; g++)
                {
                    for (int j = 0; j < rows.Length; j++)
                    {
                        var png = new OxyImage(PngImage.Encode(Rgb(groups[g].Rows[rows[j]], size, Zoom, groups[g].Show)));
                        svg.DrawImage(png, 0, 0, side, side, Left + (g * group) + (j * cell), top, side, side, 1, interpolate: false);
                    }
                }
            }
        });
        return path;
    }

    /// <summary>A [3, size, size] pixel vector as a [y, x, rgb] byte array, each pixel drawn zoom x zoom.</summary>
    private static byte[,,] Rgb(float[] pixels, int size, int zoom, Func<float, double> show)
    {
        var rgb = new byte[size * zoom, size * zoom, 3];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < size * zoom; y++)
            {
                for (int x = 0; x < size * zoom; x++)
                {
                    rgb[y, x, c] = (byte)Math.Round(255 * Math.Clamp(show(pixels[(c * size * size) + (y / zoom * size) + (x / zoom)]), 0, 1));
                }
            }
        }

        return rgb;
    }

    /// <summary>Channel <paramref name="channel"/>'s values of all rows.</summary>
    private static IEnumerable<double> Channel(float[][] rows, int channel, int plane) =>
        rows.SelectMany(row => row.Skip(channel * plane).Take(plane).Select(v => (double)v));

    private static double Min(float[][] rows) => rows.Min(r => r.Min());

    private static double Max(float[][] rows) => rows.Max(r => r.Max());

    /// <summary>One patch file and the photo it was cut from.</summary>
    public sealed class ImagePatch
    {
        public string ImagePath { get; set; } = "";

        public string Label { get; set; } = "";
    }
}
