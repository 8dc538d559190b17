using OxyPlot;
using OxyPlot.Legends;

namespace Ml.Normalization.Samples;

/// <summary>The pictures of the samples, drawn as OxyPlot panels and written as SVG (<see cref="Figure"/>).</summary>
public static class Plots
{
    private static readonly OxyColor[] Palette = Panels.Palette;

    /// <summary>
    /// Top row: the raw values of each feature, each on its own axis (the scales differ by orders of magnitude).
    /// Bottom row: the same values after BatchNormalize, all on one shared axis.
    /// </summary>
    public static string FeatureHistograms(string path, IReadOnlyList<(string Name, double[] Before, double[] After)> features)
    {
        var figure = new Figure(1500, 800, rows: 2, columns: features.Count);
        double afterMin = features.Min(f => f.After.Min()), afterMax = features.Max(f => f.After.Max());
        for (int i = 0; i < features.Count; i++)
        {
            var (name, before, after) = features[i];
            figure[i].Titled($"{name}: raw", "value", "rows").Bars(before, before.Min(), before.Max(), Palette[i]);

            var bottom = figure[features.Count + i].Titled($"{name}: after BatchNormalize", "value (shared axis)", "rows");
            bottom.Bars(after, afterMin, afterMax, Palette[i]);
            bottom.VerticalRule(0, OxyColors.Black, LineStyle.Dash);
            bottom.XLimits(afterMin - 0.2, afterMax + 0.2);
        }

        return figure.Save(path);
    }

    /// <summary>Two panels: running mean and running variance of one feature against the number of mini-batches.</summary>
    public static string RunningStatistics(string path, string featureName, int batchSize, IReadOnlyList<RunningStatisticsPoint> points,
        double wholeSetMean, double wholeSetVariance)
    {
        double[] k = [.. points.Select(p => (double)p.Batches)];
        var figure = new Figure(1400, 550, rows: 1, columns: 2);

        void Panel(int index, string statistic, Func<RunningStatisticsPoint, double> corrected, Func<RunningStatisticsPoint, double> uncorrected, double wholeSet)
        {
            var plot = figure[index].Titled($"'{featureName}': running {statistic}", $"mini-batches seen ({batchSize} rows each)", statistic);
            plot.Line(k, points.Select(corrected), $"running {statistic} (default: bias-corrected)", Palette[0]);
            plot.Line(k, points.Select(uncorrected), $"running {statistic}, BiasCorrection = false", Palette[1], LineStyle.Dot);
            plot.HorizontalRule(wholeSet, OxyColors.Black, LineStyle.Dash, $"{statistic} of the whole training set");
            plot.Legend(LegendPosition.BottomRight);
            plot.YLimits(0, 1.1 * Math.Max(wholeSet, points.Max(p => Math.Max(corrected(p), uncorrected(p)))));
        }

        Panel(0, "mean", p => p.Mean, p => p.MeanNoBiasCorrection, wholeSetMean);
        Panel(1, "variance", p => p.Variance, p => p.VarianceNoBiasCorrection, wholeSetVariance);

        return figure.Save(path);
    }

    /// <summary>Two panels: training loss and validation accuracy per epoch, one line per variant.</summary>
    public static string TrainingCurves(string path, IReadOnlyList<LayersRun> runs)
    {
        var figure = new Figure(1400, 550, rows: 1, columns: 2);
        var loss = figure[0].Titled("Training loss (mean cross-entropy per epoch)", "epoch", "loss");
        var accuracy = figure[1].Titled("Validation accuracy (test mode)", "epoch", "accuracy");
        for (int i = 0; i < runs.Count; i++)
        {
            double[] epochs = [.. Enumerable.Range(1, runs[i].TrainingLoss.Count).Select(e => (double)e)];
            loss.Line(epochs, runs[i].TrainingLoss, runs[i].Name, Palette[i]);
            accuracy.Line(epochs, runs[i].ValidationAccuracy, runs[i].Name, Palette[i]);
        }

        loss.Legend(LegendPosition.TopRight);
        accuracy.YLimits(0, 1.02);
        accuracy.HorizontalRule(0.1, OxyColors.Gray, LineStyle.Dot, "chance (10 classes)");
        accuracy.Legend(LegendPosition.BottomRight);

        return figure.Save(path);
    }

    /// <summary>
    /// Two panels against the scale of the initial weights (log axis), one line with batch norm and one without: the
    /// best validation accuracy of each network, and its training loss in the last epoch (a network whose loss is not
    /// finite has no point there).
    /// </summary>
    public static string WeightScaleCurves(string path, IReadOnlyList<WeightScaleRun> runs)
    {
        var figure = new Figure(1400, 550, rows: 1, columns: 2);
        var accuracy = figure[0].Titled("Best validation accuracy", "weight scale (std of the initial weights)", "accuracy").LogarithmicX();
        var loss = figure[1].Titled("Training loss, last epoch", "weight scale (std of the initial weights)", "loss").LogarithmicX();
        foreach (var (batchNorm, name, color) in new[] { (false, "without batch norm", Palette[0]), (true, "with batch norm", Palette[1]) })
        {
            var series = runs.Where(r => r.BatchNorm == batchNorm).OrderBy(r => r.WeightScale).ToList();
            accuracy.Line(series.Select(r => r.WeightScale), series.Select(r => r.BestValidationAccuracy), name, color);
            var finite = series.Where(r => double.IsFinite(r.FinalTrainingLoss)).ToList();
            loss.Line(finite.Select(r => r.WeightScale), finite.Select(r => r.FinalTrainingLoss), name, color);
        }

        accuracy.YLimits(0, 1.02);
        accuracy.HorizontalRule(0.1, OxyColors.Gray, LineStyle.Dot, "chance (10 classes)");
        accuracy.Legend(LegendPosition.BottomRight);
        loss.Legend(LegendPosition.TopRight);
        return figure.Save(path);
    }

    /// <summary>
    /// Three panels against the epoch, one colour per network: training accuracy and validation accuracy (test mode),
    /// on one axis from 75 %, so the gap reads across (the first epochs are below it), and the validation loss, up to
    /// twice the largest final one.
    /// </summary>
    public static string DropoutCurves(string path, IReadOnlyList<DropoutRun> runs, int trainingRows)
    {
        var figure = new Figure(1500, 500, rows: 1, columns: 3);
        var training = figure[0].Titled($"Training accuracy ({trainingRows} rows)", "epoch", "accuracy");
        var validation = figure[1].Titled("Validation accuracy", "epoch", "accuracy");
        var loss = figure[2].Titled("Validation loss (cross-entropy)", "epoch", "loss");
        for (int i = 0; i < runs.Count; i++)
        {
            double[] epochs = [.. Enumerable.Range(1, runs[i].ValidationAccuracy.Count).Select(e => (double)e)];
            training.Line(epochs, runs[i].TrainingAccuracy, runs[i].Name, Palette[i]);
            validation.Line(epochs, runs[i].ValidationAccuracy, runs[i].Name, Palette[i]);
            loss.Line(epochs, runs[i].ValidationLoss, runs[i].Name, Palette[i]);
        }

        foreach (var panel in new[] { training, validation })
        {
            panel.YLimits(0.75, 1.005);
            panel.Legend(LegendPosition.BottomRight);
        }

        loss.YLimits(0, 2 * runs.Max(r => r.ValidationLoss[^1]));
        loss.Legend(LegendPosition.TopRight);
        return figure.Save(path);
    }
}
