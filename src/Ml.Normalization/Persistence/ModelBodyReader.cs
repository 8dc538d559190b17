namespace Ml.Normalization.Persistence;

/// <summary>
/// A <see cref="BinaryReader"/> over a stage's body that validates what it reads: no read goes past
/// <paramref name="end"/> (the body's end in the stream), so a truncated body ends in <see cref="EndOfStreamException"/>.
/// </summary>
internal sealed class ModelBodyReader(BinaryReader reader, string stageName, long end)
{
    private const int MaxStringLength = 1 << 16;

    public int ReadCount(string what, int minimum, int maximum)
    {
        int value = ReadInt32();
        if (value < minimum || value > maximum)
        {
            throw Corrupt($"{what} is {value}, expected {minimum} to {maximum}");
        }

        return value;
    }

    public byte ReadByte()
    {
        Need(1, "a byte");
        return reader.ReadByte();
    }

    public int ReadInt32()
    {
        Need(4, "an Int32");
        return reader.ReadInt32();
    }

    public long ReadInt64()
    {
        Need(8, "an Int64");
        return reader.ReadInt64();
    }

    public float ReadSingle()
    {
        Need(4, "a Single");
        return reader.ReadSingle();
    }

    public string ReadString(string what)
    {
        string value = reader.ReadString();
        if (reader.BaseStream.Position > end)
        {
            throw new EndOfStreamException($"{what} runs past the end of the body");
        }

        return value.Length is > 0 and <= MaxStringLength ? value : throw Corrupt($"{what} is empty or too long");
    }

    /// <summary>Reads <paramref name="count"/> floats, checking first that the body holds them.</summary>
    public float[] ReadSingles(int count, string what)
    {
        Need(4L * count, $"{what}: {count} values");
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.ReadSingle();
        }

        return values;
    }

    /// <summary>Throws unless the whole body was read.</summary>
    public void CheckAtEnd()
    {
        long left = end - reader.BaseStream.Position;
        if (left != 0)
        {
            throw Corrupt($"{left} bytes follow its data");
        }
    }

    public double ReadDouble()
    {
        Need(8, "a Double");
        return reader.ReadDouble();
    }

    /// <summary>Reads <paramref name="count"/> doubles, checking first that the body holds them.</summary>
    public double[] ReadDoubles(int count, string what)
    {
        Need(8L * count, $"{what}: {count} values");
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.ReadDouble();
        }

        return values;
    }

    public InvalidDataException Corrupt(string detail) => new($"The {stageName} model is corrupt: {detail}.");

    private void Need(long bytes, string what)
    {
        if (end - reader.BaseStream.Position < bytes)
        {
            throw new EndOfStreamException($"{what} announced, fewer bytes stored");
        }
    }
}
