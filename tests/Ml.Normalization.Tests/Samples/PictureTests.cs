using Ml.Normalization.Samples;
using OxyPlot;
using OxyPlot.Series;
using SkiaSharp;

namespace Ml.Normalization.Tests.Samples;

/// <summary>
/// How the samples use their picture libraries: the pixel layout they hand SkiaSharp's PNG encoder, and the bins of the
/// histograms they draw with OxyPlot.
/// </summary>
public sealed class PictureTests
{
    [Fact]
    public void Png_DecodesBackToThePixels()
    {
        var rgb = new byte[3, 5, 3];
        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 5; x++)
            {
                (rgb[y, x, 0], rgb[y, x, 1], rgb[y, x, 2]) = ((byte)(50 * x), (byte)(100 * y), (byte)((7 * x) + (13 * y)));
            }
        }

        var png = PngImage.Encode(rgb);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        using var decoded = SKBitmap.Decode(png);
        Assert.Equal((5, 3), (decoded.Width, decoded.Height));
        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 5; x++)
            {
                Assert.Equal(new SKColor(rgb[y, x, 0], rgb[y, x, 1], rgb[y, x, 2]), decoded.GetPixel(x, y));
            }
        }
    }

    [Fact]
    public void Bars_EqualBins_MaximumInTheLastBin_OutsideDropped_HeightIsTheCount()
    {
        var panel = Panels.Create();
        panel.Bars([0, 0.1, 0.25, 0.5, 0.74, 0.99, 1, -0.01, 1.01], 0, 1, OxyColors.Black, bins: 4);
        var bins = Assert.IsType<HistogramSeries>(Assert.Single(panel.Series)).Items;
        Assert.Equal([2, 1, 2, 2], bins.Select(b => b.Count));
        Assert.Equal([2.0, 1, 2, 2], bins.Select(b => Math.Round(b.Height, 12)));
        Assert.Equal([0, 0.25, 0.5, 0.75], bins.Select(b => b.RangeStart));

        var constant = Panels.Create();
        constant.Bars([5, 5, 5], 5, 5, OxyColors.Black, bins: 3); // one value only: the bins get a width of 1 in all
        Assert.Equal([3, 0, 0], Assert.IsType<HistogramSeries>(Assert.Single(constant.Series)).Items.Select(b => b.Count));
    }
}
