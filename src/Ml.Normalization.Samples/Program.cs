// The samples app. `dotnet run --project src/Ml.Normalization.Samples` runs the ML.NET pipeline on the
// breast-cancer data; `-- layers` trains a small network on the digits with the layers API.
// `-- large [--rows N]` fits BatchNormalize on a few million generated rows read from disk, with a progress bar.
// `-- images` normalizes image patches per colour channel (ImageAnalytics in front, a classifier behind).
// `-- imagenet` runs the ImageNet example of docs/images.md: torchvision's Normalize constants in front of ApplyOnnxModel.
// `-- claims` tries the seed article's two claims with the layers API on the digits: batch norm against the scale of the
// initial weights, dropout against a small training set.
// `--out DIR` names the folder for the pictures and the saved model (default: samples-output/).
using System.Diagnostics;
using Ml.Normalization.Samples;

if (args.Contains("large"))
{
    return LargeRunConsole.Run(args);
}

string outputDirectory = Path.GetFullPath("samples-output");
string scenario = "pipeline";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out" when i + 1 < args.Length:
            outputDirectory = Path.GetFullPath(args[++i]);
            break;
        case "pipeline" or "layers" or "images" or "imagenet" or "claims":
            scenario = args[i];
            break;
        default:
            Console.Error.WriteLine("usage: Ml.Normalization.Samples [pipeline | layers | claims | large [--rows N] | images | imagenet] [--out DIR]");
            return 2;
    }
}

var clock = Stopwatch.StartNew();
IReadOnlyList<string> files;
if (scenario == "layers")
{
    var report = DigitsLayers.Run(outputDirectory, log: Console.Out);
    DigitsLayers.Print(report, Console.Out);
    files = report.Files;
}
else if (scenario == "claims")
{
    var report = ArticleClaims.Run(outputDirectory, log: Console.Out);
    ArticleClaims.Print(report, Console.Out);
    files = report.Files;
}
else if (scenario == "images")
{
    var report = ImagePipeline.Run(outputDirectory, log: Console.Out);
    ImagePipeline.Print(report, Console.Out);
    files = report.Files;
}
else if (scenario == "imagenet")
{
    var rows = ImageNetPipeline.Run(log: Console.Out);
    ImageNetPipeline.Print(rows, Console.Out);
    files = [];
}
else
{
    var report = BreastCancerPipeline.Run(outputDirectory, log: Console.Out);
    BreastCancerPipeline.Print(report, Console.Out);
    files = report.Files;
}

Console.WriteLine();
if (files.Count > 0) // imagenet writes nothing
{
    Console.WriteLine($"Wrote {files.Count} file{(files.Count == 1 ? "" : "s")} to {outputDirectory}:");
    foreach (var file in files)
    {
        Console.WriteLine($"  {Path.GetFileName(file)}");
    }
}


Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F1} s.");
if (scenario == "pipeline")
{
    Console.WriteLine("Next: dotnet run --project src/Ml.Normalization.Samples -- layers");
}

return 0;
