using System.Globalization;
using System.Text;

namespace Ml.Normalization.Samples;

public enum LegendCorner { None, UpperRight, LowerRight }

// One panel of a chart: lines, histograms and reference lines on linear axes, with ticks, a title, axis labels and a
// legend. Limits not set are fitted to the data with a 5 % margin (histograms start at 0).
public sealed class ChartPanel
{
    private readonly List<(double[] Xs, double[] Ys, string? Label, string Color, LineStyle Style)> _lines = [];
    private readonly List<(Histogram Histogram, string Color)> _histograms = [];
    private readonly List<(double Value, bool Vertical, string Color, LineStyle Style, string? Label)> _rules = [];

    public string Title { get; set; } = "";

    public string XLabel { get; set; } = "";

    public string YLabel { get; set; } = "";

    public (double Min, double Max)? XLimits { get; set; }

    public (double Min, double Max)? YLimits { get; set; }

    public LegendCorner Legend { get; set; }

    public void Line(double[] xs, double[] ys, string? label, string color, LineStyle style = LineStyle.Solid) =>
        _lines.Add((xs, ys, label, color, style));

    public void Bars(Histogram histogram, string color) => _histograms.Add((histogram, color));

    public void HorizontalRule(double y, string color, LineStyle style, string? label = null) => _rules.Add((y, false, color, style, label));

    public void VerticalRule(double x, string color, LineStyle style, string? label = null) => _rules.Add((x, true, color, style, label));

    internal void Render(StringBuilder svg, double left, double top, double width, double height)
    {
        // The plot area inside the panel, leaving room for the title, the tick labels and the axis labels.
        double x0 = left + 70, x1 = left + width - 15, y0 = top + 34, y1 = top + height - 48;
        var (xMin, xMax) = XLimits ?? Fit(_lines.SelectMany(l => l.Xs)
            .Concat(_histograms.SelectMany(h => new[] { h.Histogram.Min, h.Histogram.Max }))
            .Concat(_rules.Where(r => r.Vertical).Select(r => r.Value)), fromZero: false);
        var (yMin, yMax) = YLimits ?? Fit(_lines.SelectMany(l => l.Ys)
            .Concat(_histograms.SelectMany(h => h.Histogram.Counts))
            .Concat(_rules.Where(r => !r.Vertical).Select(r => r.Value)), fromZero: _histograms.Count > 0);
        double X(double x) => x0 + ((x - xMin) / (xMax - xMin) * (x1 - x0));
        double Y(double y) => y1 - ((y - yMin) / (yMax - yMin) * (y1 - y0));

        svg.Append(Svg.Text(left + (width / 2), top + 20, Title, 15, "middle", bold: true));
        svg.Append(Svg.Text((x0 + x1) / 2, top + height - 10, XLabel, 13, "middle"));
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Svg.N(left + 16)}\" y=\"{Svg.N((y0 + y1) / 2)}\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 {Svg.N(left + 16)} {Svg.N((y0 + y1) / 2)})\">{Svg.Escape(YLabel)}</text>\n");

        // Grid and ticks.
        foreach (double t in Ticks(xMin, xMax, out string xFormat))
        {
            svg.Append(Svg.Segment(X(t), y0, X(t), y1, "#e6e6e6", 1, LineStyle.Solid));
            svg.Append(Svg.Segment(X(t), y1, X(t), y1 + 5, "#000", 1, LineStyle.Solid));
            svg.Append(Svg.Text(X(t), y1 + 18, t.ToString(xFormat, CultureInfo.InvariantCulture), 11, "middle"));
        }

        foreach (double t in Ticks(yMin, yMax, out string yFormat))
        {
            svg.Append(Svg.Segment(x0, Y(t), x1, Y(t), "#e6e6e6", 1, LineStyle.Solid));
            svg.Append(Svg.Segment(x0 - 5, Y(t), x0, Y(t), "#000", 1, LineStyle.Solid));
            svg.Append(Svg.Text(x0 - 8, Y(t) + 4, t.ToString(yFormat, CultureInfo.InvariantCulture), 11, "end"));
        }

        // The data, clipped to the plot area.
        string clip = $"clip{svg.Length}";
        svg.Append(CultureInfo.InvariantCulture, $"<clipPath id=\"{clip}\"><rect x=\"{Svg.N(x0)}\" y=\"{Svg.N(y0)}\" width=\"{Svg.N(x1 - x0)}\" height=\"{Svg.N(y1 - y0)}\"/></clipPath>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<g clip-path=\"url(#{clip})\">\n");
        foreach (var (histogram, color) in _histograms)
        {
            for (int i = 0; i < histogram.Counts.Length; i++)
            {
                double a = X(histogram.Min + (i * histogram.BinWidth)), b = X(histogram.Min + ((i + 1) * histogram.BinWidth));
                double h = Y(yMin) - Y(histogram.Counts[i]);
                if (h > 0)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Svg.N(a)}\" y=\"{Svg.N(Y(histogram.Counts[i]))}\" width=\"{Svg.N(b - a)}\" height=\"{Svg.N(h)}\" fill=\"{color}\" fill-opacity=\"0.8\" stroke=\"{color}\" stroke-width=\"0.5\"/>\n");
                }
            }
        }

        foreach (var (xs, ys, _, color, style) in _lines)
        {
            string points = string.Join(" ", xs.Select((x, i) => $"{Svg.N(X(x))},{Svg.N(Y(ys[i]))}"));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{points}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{Svg.Dash(style)}/>\n");
            foreach (var (x, i) in xs.Select((x, i) => (x, i)))
            {
                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{Svg.N(X(x))}\" cy=\"{Svg.N(Y(ys[i]))}\" r=\"2.5\" fill=\"{color}\"/>\n");
            }
        }

        foreach (var (value, vertical, color, style, _) in _rules)
        {
            svg.Append(vertical
                ? Svg.Segment(X(value), y0, X(value), y1, color, 1.5, style)
                : Svg.Segment(x0, Y(value), x1, Y(value), color, 1.5, style));
        }

        svg.Append("</g>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Svg.N(x0)}\" y=\"{Svg.N(y0)}\" width=\"{Svg.N(x1 - x0)}\" height=\"{Svg.N(y1 - y0)}\" fill=\"none\" stroke=\"#000\"/>\n");
        RenderLegend(svg, x1, y0, y1);
    }

    private void RenderLegend(StringBuilder svg, double x1, double y0, double y1)
    {
        var entries = _lines.Where(l => l.Label is not null).Select(l => (Label: l.Label!, l.Color, l.Style))
            .Concat(_rules.Where(r => r.Label is not null).Select(r => (Label: r.Label!, r.Color, r.Style)))
            .ToList();
        if (Legend == LegendCorner.None || entries.Count == 0)
        {
            return;
        }

        const double Row = 18, Sample = 28;
        double width = Sample + 16 + (entries.Max(e => e.Label.Length) * 6.6), height = (entries.Count * Row) + 8;
        double left = x1 - width - 8, top = Legend == LegendCorner.UpperRight ? y0 + 8 : y1 - height - 8;
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Svg.N(left)}\" y=\"{Svg.N(top)}\" width=\"{Svg.N(width)}\" height=\"{Svg.N(height)}\" fill=\"#fff\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n");
        for (int i = 0; i < entries.Count; i++)
        {
            double y = top + 4 + (Row * (i + 0.5));
            svg.Append(Svg.Segment(left + 6, y, left + 6 + Sample, y, entries[i].Color, 2, entries[i].Style));
            svg.Append(Svg.Text(left + Sample + 12, y + 4, entries[i].Label, 11, "start"));
        }
    }

    private static (double Min, double Max) Fit(IEnumerable<double> values, bool fromZero)
    {
        var list = values.Where(double.IsFinite).ToList();
        double min = list.Count == 0 ? 0 : list.Min(), max = list.Count == 0 ? 1 : list.Max();
        if (fromZero)
        {
            min = Math.Min(min, 0);
        }

        double margin = max > min ? 0.05 * (max - min) : Math.Max(1, Math.Abs(max)) * 0.5;
        return (fromZero && min == 0 ? 0 : min - margin, max + margin);
    }

    // About five to ten round values (1, 2 or 5 times a power of ten apart) inside [min, max].
    private static IEnumerable<double> Ticks(double min, double max, out string format)
    {
        double rough = (max - min) / 10, power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        double step = new[] { 1, 2, 5, 10 }.Select(m => m * power).First(s => s >= rough);
        int decimals = Math.Max(0, -(int)Math.Floor(Math.Log10(step) + 1e-9));
        format = "N" + decimals.ToString(CultureInfo.InvariantCulture);
        var ticks = new List<double>();
        for (double t = Math.Ceiling(min / step) * step; t <= max + (step * 1e-9); t += step)
        {
            ticks.Add(Math.Abs(t) < step * 1e-9 ? 0 : t);
        }

        return ticks;
    }
}

// A figure of panels in a grid, written as one SVG file.
public sealed class SvgChart
{
    // The first colours of matplotlib's tab10 cycle, the ones the charts have always used.
    public static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

    private readonly int _width, _height, _rows, _columns;
    private readonly ChartPanel[] _panels;

    public SvgChart(int width, int height, int rows, int columns)
    {
        (_width, _height, _rows, _columns) = (width, height, rows, columns);
        _panels = [.. Enumerable.Range(0, rows * columns).Select(_ => new ChartPanel())];
    }

    // Panels count row by row from the upper left.
    public ChartPanel this[int index] => _panels[index];

    public string Save(string path)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{_width}\" height=\"{_height}\" viewBox=\"0 0 {_width} {_height}\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n");
        double width = (double)_width / _columns, height = (double)_height / _rows;
        for (int i = 0; i < _panels.Length; i++)
        {
            _panels[i].Render(svg, i % _columns * width, i / _columns * height, width, height);
        }

        svg.Append("</svg>\n");
        File.WriteAllText(path, svg.ToString());
        return path;
    }
}
