using System.Runtime.InteropServices;
using SkiaSharp;

namespace Ml.Normalization.Samples;

/// <summary>PNG files of pixel arrays, encoded by SkiaSharp (which ImageAnalytics already brings).</summary>
public static class PngImage
{
    /// <summary>
    /// <paramref name="rgb"/> is [y, x, channel]: height rows of width pixels of red, green, blue. The PNG is opaque,
    /// 8 bits per channel.
    /// </summary>
    public static byte[] Encode(byte[,,] rgb)
    {
        int height = rgb.GetLength(0), width = rgb.GetLength(1);
        var rgba = new byte[height * width * 4];
        for (int y = 0, i = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++, i += 4)
            {
                (rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]) = (rgb[y, x, 0], rgb[y, x, 1], rgb[y, x, 2], 255);
            }
        }

        // The bitmap's rows are width * 4 bytes apart, as rgba's: one copy fills it.
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, quality: 100);
        return png.ToArray();
    }
}
