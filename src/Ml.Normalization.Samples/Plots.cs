using ScottPlot;

namespace Ml.Normalization.Samples;

/// <summary>The pictures of the samples, drawn with ScottPlot 5 and saved as PNG.</summary>
public static class Plots
{
    private static readonly Color[] Palette =
        [Colors.C0, Colors.C1, Colors.C2, Colors.C3, Colors.C4, Colors.C5];

    /// <summary>
    /// Top row: the raw values of each feature, each on its own axis (the scales differ by orders of magnitude).
    /// Bottom row: the same values after BatchNormalize, all on one shared axis.
    /// </summary>
    public static string FeatureHistograms(string path, IReadOnlyList<(string Name, double[] Before, double[] After)> features)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2 * features.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows: 2, columns: features.Count);
        double afterMin = features.Min(f => f.After.Min()), afterMax = features.Max(f => f.After.Max());
        for (int i = 0; i < features.Count; i++)
        {
            var (name, before, after) = features[i];
            var top = multiplot.GetPlot(i);
            top.Add.Histogram(ScottPlot.Statistics.Histogram.WithBinCount(30, before), Palette[i]);
            top.Title($"{name}: raw");
            top.XLabel("value");
            top.YLabel("rows");

            var bottom = multiplot.GetPlot(features.Count + i);
            var histogram = ScottPlot.Statistics.Histogram.WithBinCount(30, afterMin, afterMax);
            histogram.AddRange(after);
            bottom.Add.Histogram(histogram, Palette[i]);
            bottom.Add.VerticalLine(0, 1, Colors.Black, LinePattern.Dashed);
            bottom.Title($"{name}: after BatchNormalize");
            bottom.XLabel("value (shared axis)");
            bottom.YLabel("rows");
            bottom.Axes.SetLimitsX(afterMin - 0.2, afterMax + 0.2);
        }

        multiplot.SavePng(path, 1500, 800);
        return path;
    }

    /// <summary>Two panels: running mean and running variance of one feature against the number of mini-batches.</summary>
    public static string RunningStatistics(string path, string featureName, int batchSize, IReadOnlyList<RunningStatisticsPoint> points,
        double wholeSetMean, double wholeSetVariance)
    {
        double[] k = [.. points.Select(p => (double)p.Batches)];
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();

        var meanPlot = multiplot.GetPlot(0);
        AddSeries(meanPlot, k, [.. points.Select(p => p.Mean)], "running mean (default: bias-corrected)", Palette[0], LinePattern.Solid);
        AddSeries(meanPlot, k, [.. points.Select(p => p.MeanNoBiasCorrection)], "running mean, BiasCorrection = false", Palette[1], LinePattern.Dotted);
        var meanLine = meanPlot.Add.HorizontalLine(wholeSetMean, 1.5f, Colors.Black, LinePattern.Dashed);
        meanLine.LegendText = "mean of the whole training set";
        meanPlot.Title($"'{featureName}': running mean");
        meanPlot.XLabel($"mini-batches seen ({batchSize} rows each)");
        meanPlot.YLabel("mean");
        meanPlot.ShowLegend(Alignment.LowerRight);
        meanPlot.Axes.SetLimitsY(0, 1.1 * Math.Max(wholeSetMean, points.Max(p => Math.Max(p.Mean, p.MeanNoBiasCorrection))));

        var variancePlot = multiplot.GetPlot(1);
        AddSeries(variancePlot, k, [.. points.Select(p => p.Variance)], "running variance (default: bias-corrected)", Palette[0], LinePattern.Solid);
        AddSeries(variancePlot, k, [.. points.Select(p => p.VarianceNoBiasCorrection)], "running variance, BiasCorrection = false", Palette[1], LinePattern.Dotted);
        var varianceLine = variancePlot.Add.HorizontalLine(wholeSetVariance, 1.5f, Colors.Black, LinePattern.Dashed);
        varianceLine.LegendText = "variance of the whole training set";
        variancePlot.Title($"'{featureName}': running variance");
        variancePlot.XLabel($"mini-batches seen ({batchSize} rows each)");
        variancePlot.YLabel("variance");
        variancePlot.ShowLegend(Alignment.LowerRight);
        variancePlot.Axes.SetLimitsY(0, 1.1 * Math.Max(wholeSetVariance, points.Max(p => Math.Max(p.Variance, p.VarianceNoBiasCorrection))));

        multiplot.SavePng(path, 1400, 550);
        return path;
    }

    /// <summary>Two panels: training loss and validation accuracy per epoch, one line per variant.</summary>
    public static string TrainingCurves(string path, IReadOnlyList<LayersRun> runs)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var loss = multiplot.GetPlot(0);
        var accuracy = multiplot.GetPlot(1);
        for (int i = 0; i < runs.Count; i++)
        {
            double[] epochs = [.. Enumerable.Range(1, runs[i].TrainingLoss.Count).Select(e => (double)e)];
            AddSeries(loss, epochs, [.. runs[i].TrainingLoss], runs[i].Name, Palette[i], LinePattern.Solid);
            AddSeries(accuracy, epochs, [.. runs[i].ValidationAccuracy], runs[i].Name, Palette[i], LinePattern.Solid);
        }

        loss.Title("Training loss (mean cross-entropy per epoch)");
        loss.XLabel("epoch");
        loss.YLabel("loss");
        loss.ShowLegend(Alignment.UpperRight);
        accuracy.Title("Validation accuracy (test mode)");
        accuracy.XLabel("epoch");
        accuracy.YLabel("accuracy");
        accuracy.Axes.SetLimitsY(0, 1.02);
        accuracy.Add.HorizontalLine(0.1, 1, Colors.Gray, LinePattern.Dotted).LegendText = "chance (10 classes)";
        accuracy.ShowLegend(Alignment.LowerRight);

        multiplot.SavePng(path, 1400, 550);
        return path;
    }

    private static void AddSeries(Plot plot, double[] xs, double[] ys, string label, Color color, LinePattern pattern)
    {
        var line = plot.Add.Scatter(xs, ys, color);
        line.LegendText = label;
        line.LinePattern = pattern;
        line.LineWidth = 2;
        line.MarkerSize = 5;
    }
}
