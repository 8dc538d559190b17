using System.IO.Compression;
using System.Text;

namespace Ml.Normalization.Tests.TestSupport;

/// <summary>
/// Reads and rewrites the body of one stage inside a saved model zip. The zip stays valid and so does ML.NET's header
/// around the body (model size, assembly-name offset, tail), so <c>Model.Load</c> reaches the stage's own reader with
/// exactly the body under test; damaging the zip or the header instead would fail in ML.NET's readers first.
/// </summary>
internal static class StageEntry
{
    // ML.NET's ModelHeader (Microsoft.ML.Core/Data/ModelHeader.cs): the offsets of the fields a new body moves.
    private const int HeaderSize = 0x100;
    private const int FpModel = 0x10;
    private const int CbModel = 0x18;
    private const int FpStringTable = 0x20;
    private const int ModelSignature = 0x40;
    private const int ModelVerWritten = 0x48;
    private const int ModelVerReadable = 0x4C;
    private const int FpTail = 0x80;
    private const int FpLim = 0x88;
    private const int FpAssemblyName = 0x90;
    private const int CbAssemblyName = 0x98;
    private const ulong TailSignature = 0x4D4C004D4F44454CUL;

    /// <summary>The body of the stage whose 8-character model signature is <paramref name="modelSignature"/>.</summary>
    public static byte[] ReadBody(byte[] modelZip, string modelSignature)
    {
        using var zip = new ZipArchive(new MemoryStream(modelZip), ZipArchiveMode.Read);
        var entry = Read(Find(zip, modelSignature));
        return entry.AsSpan(HeaderSize, (int)BitConverter.ToInt64(entry, CbModel)).ToArray();
    }

    /// <summary>
    /// Every entry of a model zip, name and content (as hex, to compare by value), without the zip's own metadata: two
    /// saves of one model differ in their entries' timestamps when a two-second boundary falls between them.
    /// </summary>
    public static (string Name, string Content)[] Contents(byte[] modelZip)
    {
        using var zip = new ZipArchive(new MemoryStream(modelZip), ZipArchiveMode.Read);
        return [.. zip.Entries.Select(e => (e.FullName, Convert.ToHexString(Read(e))))];
    }

    /// <summary>The format version the stage's header says its body was written in (every stage of that signature: the same one).</summary>
    public static uint FormatVersion(byte[] modelZip, string modelSignature)
    {
        using var zip = new ZipArchive(new MemoryStream(modelZip), ZipArchiveMode.Read);
        ulong signature = BitConverter.ToUInt64(Encoding.ASCII.GetBytes(modelSignature));
        return zip.Entries.Where(e => e.Name == "Model.key").Select(Read).Where(entry => BitConverter.ToUInt64(entry, ModelSignature) == signature)
            .Select(entry => BitConverter.ToUInt32(entry, ModelVerWritten)).Distinct().Single();
    }

    /// <summary>The model zip with that stage's header saying it was written in format <paramref name="written"/>, readable by readers of <paramref name="readable"/> on.</summary>
    public static byte[] WithFormatVersion(byte[] modelZip, string modelSignature, uint written, uint readable)
    {
        using var stream = new MemoryStream();
        stream.Write(modelZip);
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            var entry = Find(zip, modelSignature);
            string name = entry.FullName;
            var bytes = Read(entry);
            BitConverter.GetBytes(written).CopyTo(bytes, ModelVerWritten);
            BitConverter.GetBytes(readable).CopyTo(bytes, ModelVerReadable);
            entry.Delete();
            using var rewritten = zip.CreateEntry(name).Open();
            rewritten.Write(bytes);
        }

        return stream.ToArray();
    }

    /// <summary>The model zip with that stage's body replaced by <paramref name="body"/>.</summary>
    public static byte[] WithBody(byte[] modelZip, string modelSignature, byte[] body)
    {
        using var stream = new MemoryStream();
        stream.Write(modelZip);
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            var entry = Find(zip, modelSignature);
            string name = entry.FullName;
            var old = Read(entry);
            Assert.Equal(HeaderSize, BitConverter.ToInt64(old, FpModel));
            Assert.Equal(0, BitConverter.ToInt64(old, FpStringTable)); // our stages write no string table

            long assemblyName = BitConverter.ToInt64(old, FpAssemblyName);
            int assemblyNameBytes = BitConverter.ToInt32(old, CbAssemblyName);
            var header = old.AsSpan(0, HeaderSize).ToArray();
            long newAssemblyName = HeaderSize + body.Length;
            BitConverter.GetBytes((long)body.Length).CopyTo(header, CbModel);
            BitConverter.GetBytes(newAssemblyName).CopyTo(header, FpAssemblyName);
            BitConverter.GetBytes(newAssemblyName + assemblyNameBytes).CopyTo(header, FpTail);
            BitConverter.GetBytes(newAssemblyName + assemblyNameBytes + sizeof(ulong)).CopyTo(header, FpLim);

            entry.Delete();
            using var written = zip.CreateEntry(name).Open();
            written.Write(header);
            written.Write(body);
            written.Write(old, (int)assemblyName, assemblyNameBytes);
            written.Write(BitConverter.GetBytes(TailSignature));
        }

        return stream.ToArray();
    }

    private static ZipArchiveEntry Find(ZipArchive zip, string modelSignature)
    {
        ulong signature = BitConverter.ToUInt64(Encoding.ASCII.GetBytes(modelSignature));
        return zip.Entries.Single(e => e.Name == "Model.key" && BitConverter.ToUInt64(Read(e), ModelSignature) == signature);
    }

    private static byte[] Read(ZipArchiveEntry entry)
    {
        using var source = entry.Open();
        using var copy = new MemoryStream();
        source.CopyTo(copy);
        return copy.ToArray();
    }
}
