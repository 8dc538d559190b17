using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Ml.Normalization.Samples;

// A minimal PNG writer: 8-bit RGB, no interlacing, every scanline with filter 0 (none), one zlib-compressed IDAT chunk.
public static class PngEncoder
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly uint[] CrcTable = [.. Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }

        return c;
    })];

    // rgb is [y, x, channel]: height rows of width pixels of red, green, blue.
    public static byte[] Encode(byte[,,] rgb)
    {
        int height = rgb.GetLength(0), width = rgb.GetLength(1);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bits per channel
        header[9] = 2; // colour type: RGB (compression, filter and interlace methods stay 0)

        var scanlines = new byte[height * (1 + (3 * width))];
        for (int y = 0, i = 0; y < height; y++)
        {
            scanlines[i++] = 0; // filter: none
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    scanlines[i++] = rgb[y, x, c];
                }
            }
        }

        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            zlib.Write(scanlines);
        }

        var png = new MemoryStream();
        png.Write(Signature);
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "IDAT", compressed.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    // Length, type, data, and the CRC-32 of type and data.
    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        var buffer = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(buffer, data.Length);
        png.Write(buffer);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(buffer, Crc32(typeAndData));
        png.Write(buffer);
    }

    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in bytes)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc ^ 0xFFFFFFFFu;
    }
}
