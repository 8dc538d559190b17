using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Ml.Normalization.Samples;

namespace Ml.Normalization.Tests.Samples;

/// <summary>The samples' dependency-free picture writers: the PNG encoder and the histogram bins behind the SVG charts.</summary>
public sealed class PictureWriterTests
{
    [Fact]
    public void Crc32_IsTheStandardOne() =>
        Assert.Equal(0xCBF43926u, PngEncoder.Crc32(Encoding.ASCII.GetBytes("123456789"))); // the CRC-32 check value

    [Fact]
    public void Png_DecodesBackToThePixels_WithValidChunkCrcs()
    {
        var rgb = new byte[3, 5, 3];
        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 5; x++)
            {
                (rgb[y, x, 0], rgb[y, x, 1], rgb[y, x, 2]) = ((byte)(50 * x), (byte)(100 * y), (byte)((7 * x) + (13 * y)));
            }
        }

        var png = PngEncoder.Encode(rgb);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        var chunks = new List<(string Type, byte[] Data)>();
        for (int at = 8; at < png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var typeAndData = png.AsSpan(at + 4, 4 + length);
            Assert.Equal(BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at + 8 + length)), PngEncoder.Crc32(typeAndData));
            chunks.Add((Encoding.ASCII.GetString(typeAndData[..4]), typeAndData[4..].ToArray()));
            at += 12 + length;
        }

        Assert.Equal(["IHDR", "IDAT", "IEND"], chunks.Select(c => c.Type));
        var header = chunks[0].Data;
        Assert.Equal(5, BinaryPrimitives.ReadInt32BigEndian(header));
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4)));
        Assert.Equal([8, 2, 0, 0, 0], header[8..]);

        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(new MemoryStream(chunks[1].Data), CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }

        var scanlines = inflated.ToArray();
        Assert.Equal(3 * (1 + (5 * 3)), scanlines.Length);
        for (int y = 0; y < 3; y++)
        {
            Assert.Equal(0, scanlines[y * 16]); // filter: none
            for (int x = 0; x < 5; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    Assert.Equal(rgb[y, x, c], scanlines[(y * 16) + 1 + (3 * x) + c]);
                }
            }
        }
    }

    [Fact]
    public void Histogram_EqualBins_MaximumInTheLastBin_OutsideDropped()
    {
        var histogram = new Histogram(4, 0, 1);
        histogram.AddRange([0, 0.1, 0.25, 0.5, 0.74, 0.99, 1, -0.01, 1.01]);
        Assert.Equal([2, 1, 2, 2], histogram.Counts);
        Assert.Equal([3, 0, 0], Histogram.Of([5, 5, 5], 3).Counts); // one value only: no zero-width bins to divide by
    }
}
