namespace Ml.Normalization.Samples;

/// <summary>The pictures of the samples, drawn as SVG charts (<see cref="SvgChart"/>).</summary>
public static class Plots
{
    private static readonly string[] Palette = SvgChart.Palette;

    /// <summary>
    /// Top row: the raw values of each feature, each on its own axis (the scales differ by orders of magnitude).
    /// Bottom row: the same values after BatchNormalize, all on one shared axis.
    /// </summary>
    public static string FeatureHistograms(string path, IReadOnlyList<(string Name, double[] Before, double[] After)> features)
    {
        var chart = new SvgChart(1500, 800, rows: 2, columns: features.Count);
        double afterMin = features.Min(f => f.After.Min()), afterMax = features.Max(f => f.After.Max());
        for (int i = 0; i < features.Count; i++)
        {
            var (name, before, after) = features[i];
            var top = chart[i];
            top.Bars(Histogram.Of(before, 30), Palette[i]);
            top.Title = $"{name}: raw";
            top.XLabel = "value";
            top.YLabel = "rows";

            var bottom = chart[features.Count + i];
            var histogram = new Histogram(30, afterMin, afterMax);
            histogram.AddRange(after);
            bottom.Bars(histogram, Palette[i]);
            bottom.VerticalRule(0, "#000", LineStyle.Dashed);
            bottom.Title = $"{name}: after BatchNormalize";
            bottom.XLabel = "value (shared axis)";
            bottom.YLabel = "rows";
            bottom.XLimits = (afterMin - 0.2, afterMax + 0.2);
        }

        return chart.Save(path);
    }

    /// <summary>Two panels: running mean and running variance of one feature against the number of mini-batches.</summary>
    public static string RunningStatistics(string path, string featureName, int batchSize, IReadOnlyList<RunningStatisticsPoint> points,
        double wholeSetMean, double wholeSetVariance)
    {
        double[] k = [.. points.Select(p => (double)p.Batches)];
        var chart = new SvgChart(1400, 550, rows: 1, columns: 2);

        var meanPlot = chart[0];
        meanPlot.Line(k, [.. points.Select(p => p.Mean)], "running mean (default: bias-corrected)", Palette[0]);
        meanPlot.Line(k, [.. points.Select(p => p.MeanNoBiasCorrection)], "running mean, BiasCorrection = false", Palette[1], LineStyle.Dotted);
        meanPlot.HorizontalRule(wholeSetMean, "#000", LineStyle.Dashed, "mean of the whole training set");
        meanPlot.Title = $"'{featureName}': running mean";
        meanPlot.XLabel = $"mini-batches seen ({batchSize} rows each)";
        meanPlot.YLabel = "mean";
        meanPlot.Legend = LegendCorner.LowerRight;
        meanPlot.YLimits = (0, 1.1 * Math.Max(wholeSetMean, points.Max(p => Math.Max(p.Mean, p.MeanNoBiasCorrection))));

        var variancePlot = chart[1];
        variancePlot.Line(k, [.. points.Select(p => p.Variance)], "running variance (default: bias-corrected)", Palette[0]);
        variancePlot.Line(k, [.. points.Select(p => p.VarianceNoBiasCorrection)], "running variance, BiasCorrection = false", Palette[1], LineStyle.Dotted);
        variancePlot.HorizontalRule(wholeSetVariance, "#000", LineStyle.Dashed, "variance of the whole training set");
        variancePlot.Title = $"'{featureName}': running variance";
        variancePlot.XLabel = $"mini-batches seen ({batchSize} rows each)";
        variancePlot.YLabel = "variance";
        variancePlot.Legend = LegendCorner.LowerRight;
        variancePlot.YLimits = (0, 1.1 * Math.Max(wholeSetVariance, points.Max(p => Math.Max(p.Variance, p.VarianceNoBiasCorrection))));

        return chart.Save(path);
    }

    /// <summary>Two panels: training loss and validation accuracy per epoch, one line per variant.</summary>
    public static string TrainingCurves(string path, IReadOnlyList<LayersRun> runs)
    {
        var chart = new SvgChart(1400, 550, rows: 1, columns: 2);
        var loss = chart[0];
        var accuracy = chart[1];
        for (int i = 0; i < runs.Count; i++)
        {
            double[] epochs = [.. Enumerable.Range(1, runs[i].TrainingLoss.Count).Select(e => (double)e)];
            loss.Line(epochs, [.. runs[i].TrainingLoss], runs[i].Name, Palette[i]);
            accuracy.Line(epochs, [.. runs[i].ValidationAccuracy], runs[i].Name, Palette[i]);
        }

        loss.Title = "Training loss (mean cross-entropy per epoch)";
        loss.XLabel = "epoch";
        loss.YLabel = "loss";
        loss.Legend = LegendCorner.UpperRight;
        accuracy.Title = "Validation accuracy (test mode)";
        accuracy.XLabel = "epoch";
        accuracy.YLabel = "accuracy";
        accuracy.YLimits = (0, 1.02);
        accuracy.HorizontalRule(0.1, "#808080", LineStyle.Dotted, "chance (10 classes)");
        accuracy.Legend = LegendCorner.LowerRight;

        return chart.Save(path);
    }
}
