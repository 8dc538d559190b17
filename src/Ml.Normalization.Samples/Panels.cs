using OxyPlot;
using OxyPlot.Annotations;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace Ml.Normalization.Samples;

/// <summary>
/// The samples' chart panels: OxyPlot plot models in one style (grid lines, titles, a bottom and a left axis), and
/// the few kinds of content the pictures use: lines with markers, histograms of counts, and reference lines.
/// </summary>
public static class Panels
{
    /// <summary>The first colours of matplotlib's tab10 cycle, the ones the charts have always used.</summary>
    public static readonly OxyColor[] Palette = [.. new[] { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b" }.Select(OxyColor.Parse)];

    private static readonly OxyColor GridColor = OxyColor.Parse("#e6e6e6");

    /// <summary>An empty panel: a linear bottom axis and a linear left axis.</summary>
    public static PlotModel Create()
    {
        var model = new PlotModel
        {
            DefaultFont = "Arial", // measured with Helvetica's metrics, which Arial shares
            DefaultFontSize = 11,
            TitleFontSize = 15,
            TitleFontWeight = FontWeights.Bold,
            Padding = new OxyThickness(8),
        };
        model.Axes.Add(Styled(new LinearAxis { Position = AxisPosition.Bottom }));
        model.Axes.Add(Styled(new LinearAxis { Position = AxisPosition.Left }));
        return model;
    }

    /// <summary>Makes the bottom axis base-10 logarithmic (its title kept).</summary>
    public static PlotModel LogarithmicX(this PlotModel model)
    {
        int index = model.Axes.IndexOf(model.XAxis());
        model.Axes[index] = Styled(new LogarithmicAxis { Position = AxisPosition.Bottom, Base = 10, Title = model.Axes[index].Title });
        return model;
    }

    public static Axis XAxis(this PlotModel model) => model.Axes.Single(a => a.Position == AxisPosition.Bottom);

    public static Axis YAxis(this PlotModel model) => model.Axes.Single(a => a.Position == AxisPosition.Left);

    /// <summary>Sets the title and the axis titles.</summary>
    public static PlotModel Titled(this PlotModel model, string title, string xLabel, string yLabel)
    {
        model.Title = title;
        model.XAxis().Title = xLabel;
        model.YAxis().Title = yLabel;
        return model;
    }

    public static void XLimits(this PlotModel model, double min, double max) => (model.XAxis().Minimum, model.XAxis().Maximum) = (min, max);

    public static void YLimits(this PlotModel model, double min, double max) => (model.YAxis().Minimum, model.YAxis().Maximum) = (min, max);

    /// <summary>
    /// A line through the points, with a dot on each unless there are more than 60 (the dots would hide the line); in
    /// the legend when it has a label.
    /// </summary>
    public static void Line(this PlotModel model, IEnumerable<double> xs, IEnumerable<double> ys, string? label, OxyColor color,
        LineStyle style = LineStyle.Solid)
    {
        var series = new LineSeries { Title = label, Color = color, LineStyle = style, StrokeThickness = 2, MarkerSize = 2.5, MarkerFill = color };
        series.Points.AddRange(xs.Zip(ys, (x, y) => new DataPoint(x, y)));
        series.MarkerType = series.Points.Count <= 60 ? MarkerType.Circle : MarkerType.None;
        model.Series.Add(series);
    }

    /// <summary>
    /// A histogram of the values in <paramref name="bins"/> equal bins from min to max (OxyPlot's binning: a value equal
    /// to max goes in the last bin, values outside are left out), drawn as counts; the count axis starts at 0.
    /// </summary>
    public static void Bars(this PlotModel model, IEnumerable<double> values, double min, double max, OxyColor color, int bins = 30)
    {
        var counted = HistogramHelpers.Collect(values, HistogramHelpers.CreateUniformBins(min, max > min ? max : min + 1, bins),
            new BinningOptions(BinningOutlierMode.IgnoreOutliers, BinningIntervalType.InclusiveLowerBound, BinningExtremeValueMode.IncludeExtremeValues));
        var series = new HistogramSeries { FillColor = OxyColor.FromAColor(204, color), StrokeColor = color, StrokeThickness = 0.5 };

        // OxyPlot draws a bar's height as its area over its width: an area of count x width makes the height the count.
        series.Items.AddRange(counted.Select(b => new HistogramItem(b.RangeStart, b.RangeEnd, b.Count * b.Width, b.Count)));
        model.Series.Add(series);
        model.YAxis().Minimum = 0;
    }

    /// <summary>A horizontal reference line across the panel; its label, if any, goes in the legend.</summary>
    public static void HorizontalRule(this PlotModel model, double y, OxyColor color, LineStyle style, string? label = null) =>
        Rule(model, LineAnnotationType.Horizontal, y, color, style, label);

    /// <summary>A vertical reference line across the panel; its label, if any, goes in the legend.</summary>
    public static void VerticalRule(this PlotModel model, double x, OxyColor color, LineStyle style, string? label = null) =>
        Rule(model, LineAnnotationType.Vertical, x, color, style, label);

    /// <summary>A legend of the labelled lines, inside the plot area.</summary>
    public static void Legend(this PlotModel model, LegendPosition position) => model.Legends.Add(new Legend
    {
        LegendPosition = position,
        LegendPlacement = LegendPlacement.Inside,
        LegendBackground = OxyColor.FromAColor(230, OxyColors.White),
        LegendBorder = OxyColor.Parse("#999999"),
        LegendFontSize = 11,
        LegendSymbolLength = 28,
    });

    // An annotation draws the line; annotations have no legend entry, so a labelled rule adds an empty line series of
    // the same look, which has one and draws nothing.
    private static void Rule(PlotModel model, LineAnnotationType type, double value, OxyColor color, LineStyle style, string? label)
    {
        model.Annotations.Add(new LineAnnotation { Type = type, X = value, Y = value, Color = color, LineStyle = style, StrokeThickness = 1.5 });
        if (label is not null)
        {
            model.Series.Add(new LineSeries { Title = label, Color = color, LineStyle = style, StrokeThickness = 1.5 });
        }
    }

    private static Axis Styled(Axis axis)
    {
        axis.MajorGridlineStyle = LineStyle.Solid;
        axis.MajorGridlineColor = GridColor;
        axis.TitleFontSize = 13;
        axis.AxisTitleDistance = 8;
        axis.MinimumPadding = axis.MaximumPadding = 0.05;
        return axis;
    }
}
