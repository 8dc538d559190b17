using Ml.Normalization.Samples;

namespace Ml.Normalization.Tests.Samples;

/// <summary>
/// Runs the samples' claims scenario in-process, into a temporary folder, with three weight scales instead of thirteen
/// (the dropout experiment as the app runs it), and checks its pictures, the shape of its curves and the two claims as
/// they come out for the fixed seed.
/// </summary>
public sealed class ClaimsSampleTests : IDisposable
{
    private readonly string _output = Directory.CreateTempSubdirectory("ml-normalization-claims-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Fact]
    public void Claims_BatchNormTrainsAtEveryWeightScale_DropoutNarrowsTheGap_AndThePicturesAreDrawn()
    {
        var options = new ArticleClaims.Options(WeightScales: 3); // 1e-4, 1e-2, 1
        var report = ArticleClaims.Run(_output, options);

        // The curves: one network with and one without batch norm per scale, a point per epoch; three dropout networks.
        Assert.Equal([1e-4, 1e-2, 1], report.WeightScales.Select(r => r.WeightScale).Distinct().Select(s => Math.Round(s, 10)));
        Assert.Equal(6, report.WeightScales.Count);
        Assert.All(report.WeightScales, r => Assert.Equal(options.ScaleEpochs, r.ValidationAccuracy.Count));
        Assert.All(report.WeightScales, r => Assert.Equal(options.ScaleEpochs, r.TrainingLoss.Count));
        Assert.Equal([(0f, 0f), (0.5f, 0f), (0.5f, 0.2f)], report.Dropout.Select(r => (r.DropProbability, r.InputDropProbability)));
        Assert.All(report.Dropout, r => Assert.All(new[] { r.TrainingLoss, r.TrainingAccuracy, r.ValidationAccuracy, r.ValidationLoss },
            curve => Assert.Equal(options.DropoutEpochs, curve.Count)));

        // Claim 1. Chance is 10 % (the commonest class is 11.9 % of the validation rows). Without batch norm the deep
        // network learns nothing at 1e-4 and 1e-2 (the signal vanishes through five layers) nor at 1 (it blows up);
        // with it, every scale trains. Seen: 11.9 %, 11.9 %, 11.7 % without; 94.2 %, 96.4 %, 93.1 % with. In side runs
        // with seeds 2 to 5 it was the same picture (at most 13 % without, at least 72 % with), so the margins are wide.
        foreach (var scale in report.WeightScales.Chunk(2))
        {
            var (without, with) = (scale[0], scale[1]);
            Assert.False(without.BatchNorm);
            Assert.True(with.BatchNorm);
            Assert.True(without.BestValidationAccuracy < 0.2, $"scale {without.WeightScale}: without batch norm {without.BestValidationAccuracy:P1}");
            Assert.True(with.BestValidationAccuracy > 0.8, $"scale {with.WeightScale}: with batch norm {with.BestValidationAccuracy:P1}");
            Assert.True(double.IsFinite(with.FinalTrainingLoss) && with.FinalTrainingLoss < 0.5, $"scale {with.WeightScale}: loss {with.FinalTrainingLoss}");
        }

        // Claim 2, as it comes out for seed 1: every network learns its 100 training rows by heart, and both dropout
        // networks end closer to that on the validation rows (gap 13.6 % without, 11.4 % and 11.9 % with: 5 to 8 rows
        // of 360) and with a lower validation loss (0.399 against 0.363 and 0.362). A small effect: over seeds 1 to 5
        // the gap was smaller with dropout on the inputs as well in 4 of 5, the validation loss lower in all 5.
        var none = report.Dropout[0];
        Assert.All(report.Dropout, r => Assert.Equal(1.0, r.TrainingAccuracy[^1]));
        foreach (var dropout in report.Dropout.Skip(1))
        {
            Assert.True(none.FinalGap > dropout.FinalGap, $"{dropout.Name}: gap {dropout.FinalGap:P1}, without dropout {none.FinalGap:P1}");
            Assert.True(none.ValidationLoss[^1] > dropout.ValidationLoss[^1], $"{dropout.Name}: validation loss {dropout.ValidationLoss[^1]}, without {none.ValidationLoss[^1]}");
        }

        foreach (var (name, title) in new[] { ("claims-weight-scale.svg", "Best validation accuracy"), ("claims-dropout.svg", "Validation loss (cross-entropy)") })
        {
            var svg = SamplesTests.AssertSvg(Assert.Single(report.Files, f => Path.GetFileName(f) == name), minimumBytes: 4096);
            Assert.Contains(svg.Descendants(SamplesTests.SvgNamespace + "text"), t => t.Value == title);
        }
    }

    [Fact]
    public void Claims_SameSeed_SameNumbers()
    {
        var options = new ArticleClaims.Options(WeightScales: 2, ScaleTrainingRows: 100, ScaleEpochs: 2, DropoutEpochs: 3);
        var first = ArticleClaims.Run(Path.Combine(_output, "a"), options);
        var second = ArticleClaims.Run(Path.Combine(_output, "b"), options);
        Assert.Equal(first.WeightScales.Select(r => r.TrainingLoss), second.WeightScales.Select(r => r.TrainingLoss));
        Assert.Equal(first.Dropout.Select(r => r.ValidationLoss), second.Dropout.Select(r => r.ValidationLoss));
    }
}
