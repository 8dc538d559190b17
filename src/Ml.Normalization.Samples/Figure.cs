using System.Globalization;
using System.Xml.Linq;
using OxyPlot;

namespace Ml.Normalization.Samples;

/// <summary>
/// OxyPlot panels (<see cref="Panels"/>) in a grid, written as one SVG file: each plot model renders into its own
/// rectangle of one OxyPlot <see cref="SvgRenderContext"/>, with OxyPlot's PDF text measurer (standard font metrics,
/// no fonts or native code needed) and text placed on its baseline (OxyPlot's workaround for SVG renderers that ignore
/// dominant-baseline, as librsvg and some browsers do).
/// </summary>
public sealed class Figure
{
    private readonly int _width, _height, _rows, _columns;
    private readonly PlotModel[] _panels;

    public Figure(int width, int height, int rows, int columns)
    {
        (_width, _height, _rows, _columns) = (width, height, rows, columns);
        _panels = [.. Enumerable.Range(0, rows * columns).Select(_ => Panels.Create())];
    }

    /// <summary>Panels count row by row from the upper left.</summary>
    public PlotModel this[int index] => _panels[index];

    public string Save(string path)
    {
        double width = (double)_width / _columns, height = (double)_height / _rows;
        Write(path, _width, _height, svg =>
        {
            for (int i = 0; i < _panels.Length; i++)
            {
                IPlotModel panel = _panels[i];
                panel.Update(true);
                panel.Render(svg, new OxyRect(i % _columns * width, i / _columns * height, width, height));
            }
        });
        return path;
    }

    /// <summary>
    /// An SVG file of the given size drawn by <paramref name="draw"/> on an OxyPlot render context, white behind. OxyPlot
    /// writes width and height only; the viewBox added here lets a page scale the picture (an img narrower than the
    /// picture otherwise crops it).
    /// </summary>
    public static void Write(string path, int width, int height, Action<IRenderContext> draw)
    {
        using var stream = new MemoryStream();
        using (var svg = new SvgRenderContext(stream, width, height, isDocument: false, new TextMeasurer(width, height), OxyColors.White,
            useVerticalTextAlignmentWorkaround: true))
        {
            draw(svg);
            svg.Complete();
            svg.Flush();
        }

        stream.Position = 0;
        var document = XDocument.Load(stream);
        document.Root!.SetAttributeValue("viewBox", string.Create(CultureInfo.InvariantCulture, $"0 0 {width} {height}"));
        document.Save(path, SaveOptions.DisableFormatting);
    }

    /// <summary>
    /// OxyPlot's PDF context measures text in points of a font size it converts to points (3/4 of the pixels), so its
    /// sizes come out 3/4 of what an SVG at that pixel size shows: text would overflow legends and overlap. Scaled back.
    /// </summary>
    private sealed class TextMeasurer(double width, double height) : PdfRenderContext(width, height, OxyColors.Undefined)
    {
        public override OxySize MeasureText(string text, string fontFamily, double fontSize, double fontWeight)
        {
            var size = base.MeasureText(text, fontFamily, fontSize, fontWeight);
            return new OxySize(size.Width * 96 / 72, size.Height * 96 / 72);
        }
    }
}
