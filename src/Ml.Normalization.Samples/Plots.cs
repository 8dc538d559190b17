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

        void Panel(int index, string statistic, Func<RunningStatisticsPoint, double> corrected, Func<RunningStatisticsPoint, double> uncorrected, double wholeSet)
        {
            var plot = chart[index];
            plot.Line(k, [.. points.Select(corrected)], $"running {statistic} (default: bias-corrected)", Palette[0]);
            plot.Line(k, [.. points.Select(uncorrected)], $"running {statistic}, BiasCorrection = false", Palette[1], LineStyle.Dotted);
            plot.HorizontalRule(wholeSet, "#000", LineStyle.Dashed, $"{statistic} of the whole training set");
            plot.Title = $"'{featureName}': running {statistic}";
            plot.XLabel = $"mini-batches seen ({batchSize} rows each)";
            plot.YLabel = statistic;
            plot.Legend = LegendCorner.LowerRight;
            plot.YLimits = (0, 1.1 * Math.Max(wholeSet, points.Max(p => Math.Max(corrected(p), uncorrected(p)))));
        }

        Panel(0, "mean", p => p.Mean, p => p.MeanNoBiasCorrection, wholeSetMean);
        Panel(1, "variance", p => p.Variance, p => p.VarianceNoBiasCorrection, wholeSetVariance);

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
