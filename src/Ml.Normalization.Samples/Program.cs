// The samples app. `dotnet run --project src/Ml.Normalization.Samples` runs the ML.NET pipeline on the
// breast-cancer data.
// `--out DIR` names the folder for the pictures and the saved model (default: samples-output/).
using System.Diagnostics;
using Ml.Normalization.Samples;

string outputDirectory = Path.GetFullPath("samples-output");
string scenario = "pipeline";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out" when i + 1 < args.Length:
            outputDirectory = Path.GetFullPath(args[++i]);
            break;
        case "pipeline":
            scenario = args[i];
            break;
        default:
            Console.Error.WriteLine("usage: Ml.Normalization.Samples [pipeline] [--out DIR]");
            return 2;
    }
}

var clock = Stopwatch.StartNew();
var report = BreastCancerPipeline.Run(outputDirectory, log: Console.Out);
BreastCancerPipeline.Print(report, Console.Out);
var files = report.Files;

Console.WriteLine();
Console.WriteLine($"Wrote {files.Count} files to {outputDirectory}:");
foreach (var file in files)
{
    Console.WriteLine($"  {Path.GetFileName(file)}");
}

Console.WriteLine($"Done in {clock.Elapsed.TotalSeconds:F1} s.");
return 0;
