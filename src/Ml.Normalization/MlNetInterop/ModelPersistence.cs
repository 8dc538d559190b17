using Microsoft.ML;
using Ml.Normalization.Persistence;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// Writing and reading our stages inside an ML.NET model zip. <see cref="ModelSaveContext"/> and
/// <see cref="ModelLoadContext"/> have no public members: ML.NET keeps model persistence internal
/// (dotnet/machinelearning issues 4911 and 6839), so this is the one place that touches them.
/// </summary>
/// <remarks>
/// Each stage's format is versioned through ML.NET's <see cref="VersionInfo"/> header: bump the written version
/// when the body changes, keep reading the old ones. Bodies are read through <see cref="ModelBodyReader"/>, which
/// bounds every read and count by the bytes left in the body, so a corrupt file fails with
/// <see cref="InvalidDataException"/> instead of allocating gigabytes or reading past the body.
/// </remarks>
internal static class ModelPersistence
{
    /// <summary>Writes <paramref name="stage"/>: ML.NET's header from its <see cref="StageFormat"/>, then its body.</summary>
    public static void Save<TStage>(ModelSaveContext context, TStage stage)
        where TStage : class, IPersistedStage<TStage>
    {
        ArgumentNullException.ThrowIfNull(context);
        context.CheckAtModel();
        context.SetVersionInfo(Version<TStage>());
        stage.WriteBody(context.Writer);
    }

    /// <summary>Checks the header of a stage being loaded, then reads the body with <typeparamref name="TStage"/>'s reader.</summary>
    /// <exception cref="InvalidDataException">The body is truncated or inconsistent.</exception>
    public static TStage Load<TStage>(ModelLoadContext context)
        where TStage : class, IPersistedStage<TStage>
    {
        ArgumentNullException.ThrowIfNull(context);
        CheckFormatVersion<TStage>(context.Header.ModelVerWritten, context.Header.ModelVerReadable);
        context.CheckAtModel(Version<TStage>());
        string stageName = TStage.Format.StageName;
        // The body ends where ML.NET's header says, before the loader assembly's name and the tail: bounding reads by
        // the stream instead would read those bytes as data.
        long bodyEnd = context.FpMin + context.Header.FpModel + context.Header.CbModel;
        var reader = new ModelBodyReader(context.Reader, stageName, bodyEnd);
        try
        {
            var stage = TStage.Read(reader, context.Header.ModelVerWritten);
            reader.CheckAtEnd();
            return stage;
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"The {stageName} model is truncated: its data ends early.", ex);
        }
    }

    /// <summary>
    /// Refuses, naming the stage and the versions, a model whose format this code does not read: one saved by a newer
    /// package that older readers cannot read, or one older than the oldest format this package reads (ML.NET's own
    /// check would say only "Cannot read version ... data").
    /// </summary>
    /// <exception cref="InvalidDataException">The format is not one this package reads.</exception>
    private static void CheckFormatVersion<TStage>(uint written, uint readable)
        where TStage : class, IPersistedStage<TStage>
    {
        var format = TStage.Format;
        string package = $"this Ml.Normalization ({typeof(TStage).Assembly.GetName().Version})";
        if (readable > format.Written)
        {
            throw new InvalidDataException($"The {format.StageName} model was saved in format 0x{written:X8} by a newer Ml.Normalization, which needs a reader of format 0x{readable:X8} or later; "
                + $"{package} reads formats 0x{format.OldestReadable:X8} to 0x{format.Written:X8}. Update the Ml.Normalization package.");
        }

        if (written < format.OldestReadable)
        {
            throw new InvalidDataException($"The {format.StageName} model was saved in format 0x{written:X8}, which {package} does not read: it reads formats 0x{format.OldestReadable:X8} to 0x{format.Written:X8}. "
                + $"Formats before 0x{format.OldestReadable:X8} (1.0) were development formats of unreleased versions; fit the model again and save it.");
        }
    }

    /// <summary>ML.NET's header of a stage; the loader assembly is the stage's own, named with its full version.</summary>
    private static VersionInfo Version<TStage>()
        where TStage : class, IPersistedStage<TStage>
    {
        var format = TStage.Format;
        return new(format.ModelSignature, format.Written, format.ReadableFrom, format.OldestReadable,
            loaderAssemblyName: typeof(TStage).Assembly.FullName, loaderSignature: format.LoaderSignature);
    }
}
