using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// Writing and reading our stages inside an ML.NET model zip. <see cref="ModelSaveContext"/> and
/// <see cref="ModelLoadContext"/> have no public members: ML.NET keeps model persistence internal
/// (dotnet/machinelearning issues 4911 and 6839), so this is the one place that touches them.
/// </summary>
/// <remarks>
/// Each stage's format is versioned through ML.NET's <see cref="VersionInfo"/> header: bump the written version
/// when the body changes, keep reading the old ones. Bodies are read through <see cref="ModelBodyReader"/>, which
/// bounds every count by the bytes left, so a corrupt file fails with <see cref="InvalidDataException"/>
/// instead of allocating gigabytes or reading past the stream.
/// </remarks>
internal static class ModelPersistence
{
    /// <summary>ML.NET's header of a stage: 8-character signature, format versions, loader name.</summary>
    public static VersionInfo Version(string modelSignature, uint written, uint readable, uint weCanReadBack, string loaderSignature, Type loaderAssemblyOf) =>
        new(modelSignature, written, readable, weCanReadBack, loaderAssemblyName: loaderAssemblyOf.Assembly.FullName, loaderSignature: loaderSignature);

    /// <summary>Writes a stage: the header, then the body through <paramref name="writeBody"/>.</summary>
    public static void Save(ModelSaveContext context, VersionInfo version, Action<BinaryWriter> writeBody)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.CheckAtModel();
        context.SetVersionInfo(version);
        writeBody(context.Writer);
    }

    /// <summary>Checks the header of a stage being loaded, then reads the body through <paramref name="readBody"/>.</summary>
    /// <exception cref="InvalidDataException">The body is truncated or inconsistent.</exception>
    public static T Load<T>(ModelLoadContext context, VersionInfo version, string stageName, Func<ModelBodyReader, uint, T> readBody)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.CheckAtModel(version);
        var reader = new ModelBodyReader(context.Reader, stageName);
        try
        {
            return readBody(reader, context.Header.ModelVerWritten);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"The {stageName} model is truncated: its data ends early.", ex);
        }
    }
}

/// <summary>A <see cref="BinaryReader"/> over a stage's body that validates what it reads.</summary>
internal sealed class ModelBodyReader(BinaryReader reader, string stageName)
{
    private const int MaxStringLength = 1 << 16;

    public int ReadCount(string what, int minimum, int maximum)
    {
        int value = reader.ReadInt32();
        if (value < minimum || value > maximum)
        {
            throw Corrupt($"{what} is {value}, expected {minimum} to {maximum}");
        }

        return value;
    }

    public byte ReadByte() => reader.ReadByte();

    public bool ReadBoolean()
    {
        byte b = reader.ReadByte();
        return b <= 1 ? b == 1 : throw Corrupt($"a flag is {b}, expected 0 or 1");
    }

    public int ReadInt32() => reader.ReadInt32();

    public long ReadInt64() => reader.ReadInt64();

    public float ReadSingle() => reader.ReadSingle();

    public string ReadString(string what)
    {
        string value = reader.ReadString();
        return value.Length is > 0 and <= MaxStringLength ? value : throw Corrupt($"{what} is empty or too long");
    }

    /// <summary>Reads <paramref name="count"/> floats, checking first that the stream holds them.</summary>
    public float[] ReadSingles(int count, string what)
    {
        var stream = reader.BaseStream;
        if (stream.CanSeek && stream.Length - stream.Position < 4L * count)
        {
            throw new EndOfStreamException($"{what}: {count} values announced, fewer stored");
        }

        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.ReadSingle();
        }

        return values;
    }

    public double ReadDouble() => reader.ReadDouble();

    /// <summary>Reads <paramref name="count"/> doubles, checking first that the stream holds them.</summary>
    public double[] ReadDoubles(int count, string what)
    {
        var stream = reader.BaseStream;
        if (stream.CanSeek && stream.Length - stream.Position < 8L * count)
        {
            throw new EndOfStreamException($"{what}: {count} values announced, fewer stored");
        }

        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.ReadDouble();
        }

        return values;
    }

    public InvalidDataException Corrupt(string detail) => new($"The {stageName} model is corrupt: {detail}.");
}
