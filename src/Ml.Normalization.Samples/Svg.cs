using System.Globalization;
using System.Security;

namespace Ml.Normalization.Samples;

public enum LineStyle { Solid, Dashed, Dotted }

// SVG snippets shared by the charts and the patch picture: numbers in invariant culture, escaped text.
public static class Svg
{
    public static string N(double value) => Math.Round(value, 2).ToString("0.##", CultureInfo.InvariantCulture);

    public static string Escape(string text) => SecurityElement.Escape(text);

    public static string Text(double x, double y, string text, double size, string anchor, bool bold = false) =>
        $"<text x=\"{N(x)}\" y=\"{N(y)}\" font-size=\"{N(size)}\" text-anchor=\"{anchor}\"{(bold ? " font-weight=\"bold\"" : "")}>{Escape(text)}</text>\n";

    public static string Segment(double xa, double ya, double xb, double yb, string color, double width, LineStyle style) =>
        $"<line x1=\"{N(xa)}\" y1=\"{N(ya)}\" x2=\"{N(xb)}\" y2=\"{N(yb)}\" stroke=\"{color}\" stroke-width=\"{N(width)}\"{Dash(style)}/>\n";

    public static string Dash(LineStyle style) => style switch
    {
        LineStyle.Dashed => " stroke-dasharray=\"6 4\"",
        LineStyle.Dotted => " stroke-dasharray=\"2 3\"",
        _ => "",
    };
}
