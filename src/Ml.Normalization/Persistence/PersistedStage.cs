using Ml.Normalization.MlNetInterop;
namespace Ml.Normalization.Persistence;

/// <summary>
/// How a stage is stored in a model zip: the fields of ML.NET's versioned header, and the stage's name for errors.
/// </summary>
/// <param name="ModelSignature">ML.NET's 8-character model signature of the stage, e.g. <c>MLNBNORM</c>.</param>
/// <param name="Written">The format version this code writes.</param>
/// <param name="ReadableFrom">The oldest code version that can read what this code writes (a reader refuses a model
/// whose <paramref name="ReadableFrom"/> is newer than what it knows).</param>
/// <param name="OldestReadable">The oldest format version this code reads.</param>
/// <param name="LoaderSignature">The name the model records for ML.NET to find the loader (the stage's
/// <see cref="LoadableStageAttribute{TStage}"/> registers it).</param>
/// <param name="StageName">The stage's name in error messages, e.g. "BatchNormalize".</param>
internal sealed record StageFormat(string ModelSignature, uint Written, uint ReadableFrom, uint OldestReadable, string LoaderSignature, string StageName);

/// <summary>
/// A transformer that saves in ML.NET's model format and loads back through <see cref="StageLoader{TStage}"/>: its
/// format, how to write its body and how to read one. A stage registers its loader with one assembly attribute beside
/// its transformer (<see cref="LoadableStageAttribute{TStage}"/>):
/// <code>[assembly: LoadableStage&lt;MyTransformer&gt;("My stage")]</code>
/// </summary>
/// <typeparam name="TSelf">The transformer type.</typeparam>
internal interface IPersistedStage<TSelf>
    where TSelf : class, IPersistedStage<TSelf>
{
    /// <summary>The stage's header fields.</summary>
    static abstract StageFormat Format { get; }

    /// <summary>Reads a body written in format <paramref name="formatVersion"/> (from <see cref="StageFormat.OldestReadable"/> on).</summary>
    /// <exception cref="InvalidDataException">Through <paramref name="reader"/>: the body is truncated or inconsistent.</exception>
    static abstract TSelf Read(ModelBodyReader reader, uint formatVersion);

    /// <summary>Writes the body in format <see cref="StageFormat.Written"/>.</summary>
    void WriteBody(BinaryWriter writer);
}
