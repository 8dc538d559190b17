using System.Xml.Linq;
using Ml.Normalization.Samples;

namespace Ml.Normalization.Tests.Samples;

/// <summary>
/// Runs both scenarios of the samples app in-process, into a temporary folder, and checks that they write real
/// pictures and that their numbers make sense. Everything is seeded, so the numbers are the same on every run.
/// </summary>
public sealed class SamplesTests : IDisposable
{
    internal static readonly XNamespace SvgNamespace = "http://www.w3.org/2000/svg";

    private readonly string _output = Directory.CreateTempSubdirectory("ml-normalization-samples-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Fact]
    public void Pipeline_BatchNormalizeScoresLikeNormalizeMeanVariance_AndWritesItsPictures()
    {
        var report = BreastCancerPipeline.Run(_output);

        var metrics = report.Metrics.ToDictionary(m => m.Name);
        Assert.Equal(["no normalization", "NormalizeMeanVariance", "BatchNormalize", "BatchNormalize + Dropout"], metrics.Keys);
        double batchNorm = metrics["BatchNormalize"].Accuracy, meanVariance = metrics["NormalizeMeanVariance"].Accuracy;
        Assert.True(Math.Abs(batchNorm - meanVariance) <= 0.02, $"BatchNormalize {batchNorm:P1} vs NormalizeMeanVariance {meanVariance:P1}");
        Assert.All(report.Metrics, m => Assert.True(m.Accuracy > 0.85 && m.Auc > 0.95, $"{m.Name}: accuracy {m.Accuracy:P1}, AUC {m.Auc:F3}"));

        // Dropout reached the trainer: same data, same seed, a different model.
        Assert.NotEqual(metrics["BatchNormalize"].Auc, metrics["BatchNormalize + Dropout"].Auc);

        Assert.NotEmpty(report.SavedModelChecks);
        Assert.All(report.SavedModelChecks, c => Assert.True(c.Matches, $"row {c.Row}: {c.ProbabilityBefore} before, {c.ProbabilityAfter} after Model.Load"));

        // Refitting on the first k batches replays the full fit: the last point is the model's own statistics.
        var last = report.RunningStatistics[^1];
        Assert.Equal(15, last.Batches); // 455 training rows in batches of 32
        Assert.Equal(report.FittedStatistics.BatchCount, last.Batches);
        Assert.Equal(report.FittedStatistics.RunningMean[BreastCancerPipeline.TrackedFeature], last.Mean);
        Assert.Equal(report.FittedStatistics.RunningVariance[BreastCancerPipeline.TrackedFeature], last.Variance);
        Assert.InRange(last.Mean, 550f, 750f); // 'mean area' of the training rows is ~640

        Assert.Contains(report.Files, f => f.EndsWith("breast-cancer-batchnormalize.zip", StringComparison.Ordinal) && File.Exists(f));
        AssertPictures(report.Files, "breast-cancer-histograms.svg", "breast-cancer-running-statistics.svg");
    }

    [Fact]
    public void Layers_TheNetworkLearnsTheDigits_AndTheCurvesAreDrawn()
    {
        var report = DigitsLayers.Run(_output, new DigitsLayers.Options(Epochs: 4));

        Assert.Equal(["plain", "batch norm", "dropout", "batch norm + dropout"], report.Runs.Select(r => r.Name));
        Assert.All(report.Runs, r => Assert.Equal(4, r.ValidationAccuracy.Count));
        Assert.All(report.Runs, r => Assert.All(r.TrainingLoss, l => Assert.True(double.IsFinite(l), $"{r.Name}: loss {l}")));
        foreach (var name in new[] { "batch norm", "batch norm + dropout" })
        {
            var run = report.Runs.Single(r => r.Name == name);
            Assert.True(run.ValidationAccuracy[^1] > 0.5, $"{name}: validation accuracy {run.ValidationAccuracy[^1]:P1}, chance is 10 %");
            Assert.True(run.TrainingLoss[^1] < run.TrainingLoss[0], $"{name}: loss went from {run.TrainingLoss[0]} to {run.TrainingLoss[^1]}");
        }

        AssertPictures(report.Files, "digits-training.svg");
    }

    [Fact]
    public void Layers_SameSeed_SameNumbers()
    {
        var options = new DigitsLayers.Options(Epochs: 2, Hidden: 32);
        var first = DigitsLayers.Run(Path.Combine(_output, "a"), options);
        var second = DigitsLayers.Run(Path.Combine(_output, "b"), options);
        Assert.Equal(first.Runs.Select(r => r.TrainingLoss), second.Runs.Select(r => r.TrainingLoss));
        Assert.Equal(first.Runs.Select(r => r.ValidationAccuracy), second.Runs.Select(r => r.ValidationAccuracy));
    }

    private static void AssertPictures(IReadOnlyList<string> files, params string[] names)
    {
        foreach (var name in names)
        {
            var svg = AssertSvg(Assert.Single(files, f => Path.GetFileName(f) == name), minimumBytes: 4096);
            Assert.NotEmpty(svg.Descendants(SvgNamespace + "text")); // titles, tick and axis labels
        }
    }

    /// <summary>The file is well-formed XML with an svg root element of at least the given size.</summary>
    internal static XDocument AssertSvg(string path, int minimumBytes)
    {
        long length = new FileInfo(path).Length;
        Assert.True(length > minimumBytes, $"{Path.GetFileName(path)} is only {length} bytes");
        var svg = XDocument.Load(path);
        Assert.Equal(SvgNamespace + "svg", svg.Root!.Name);
        return svg;
    }
}
