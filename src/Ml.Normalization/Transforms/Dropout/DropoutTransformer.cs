using Microsoft.ML;
using Microsoft.ML.Runtime;
using Ml.Normalization;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Persistence;
using Ml.Normalization.Transforms.Dropout;
using Ml.Normalization.Transforms.Stages;

[assembly: LoadableStage<DropoutTransformer>("Dropout")]

namespace Ml.Normalization;

/// <summary>
/// Fitted dropout. <see cref="ColumnPairTransformer.Transform"/> is the scoring map (x, or x * (1 - p) for standard dropout);
/// <see cref="ColumnPairTransformer.TransformForTraining"/> is the training map, which <c>EstimatorChain.Fit</c> uses for the stages after it:
/// per slot, or per row and channel with a <see cref="ChannelLayout"/>.
/// </summary>
public sealed class DropoutTransformer : ColumnPairTransformer, IPersistedStage<DropoutTransformer>
{
    internal const string LoaderSignature = "MlNormDropout";

    // The format of 1.0: the column count, the name pairs, p, the seed, the kind, then the channel layout and the
    // channel count (0: from each column's dimensions). 0x00010001 (without the channel options) was a development
    // format that never shipped: it is refused. From 1.0 on, a format change keeps a reader for every version that
    // shipped, with a committed fixture.
    private const uint Format10 = 0x00010002;

    internal DropoutTransformer(InputOutputColumnPair[] columns, float dropProbability, int seed, DropoutKind kind,
        ChannelLayout channelLayout = ChannelLayout.None, int channelCount = 0)
        : base(columns)
    {
        DropProbability = dropProbability;
        Seed = seed;
        Kind = kind;
        ChannelLayout = channelLayout;
        ChannelCount = channelCount;
    }

    /// <summary>p, the probability of dropping a value in the training pass.</summary>
    public float DropProbability { get; }

    /// <summary>The seed of the masks (given, or drawn from the MLContext when the estimator was fitted).</summary>
    public int Seed { get; }

    /// <summary>Inverted or standard dropout.</summary>
    public DropoutKind Kind { get; }

    /// <summary>
    /// <see cref="ChannelLayout.None"/>: one draw per slot. Otherwise channel dropout: one draw per row and channel, the
    /// channel being the first (<see cref="ChannelLayout.ChannelsFirst"/>) or last (<see cref="ChannelLayout.ChannelsLast"/>)
    /// dimension of each column.
    /// </summary>
    public ChannelLayout ChannelLayout { get; }

    /// <summary>
    /// With a <see cref="ChannelLayout"/>, the channel count the estimator was given, or 0: from each column's dimensions,
    /// resolved against the schema at every <c>Transform</c> and <c>GetOutputSchema</c> (a column the channels do not
    /// describe throws <see cref="ArgumentOutOfRangeException"/> there, naming it).
    /// </summary>
    public int ChannelCount { get; }

    /// <summary>The MLContext's host the stage was fitted in, for warnings (null when loaded from a file: not saved).</summary>
    internal IHost? Host { get; init; }

    static StageFormat IPersistedStage<DropoutTransformer>.Format { get; } =
        new("MLNDROPO", Format10, Format10, Format10, LoaderSignature, "Dropout");

    /// <summary>
    /// The training map: a lazy view in which each cursor is one pass with its own masks (pass 0, 1, 2, ... in the
    /// order cursors are requested; a cursor set counts as one pass). <see cref="ColumnPairTransformer.TransformForTraining"/> returns it.
    /// </summary>
    internal override IDataView TrainingView(IDataView input) => new DropoutTrainingView(input, this);

    internal override bool TrainsDifferently => DropProbability > 0;

    /// <summary>The scoring map: x (inverted dropout) or x * (1 - p) (standard dropout). Never drops.</summary>
    internal override ColumnMapper CreateMapper(DataViewSchema inputSchema) => DropoutMapping.Scoring(inputSchema, this);

    internal override void ExportOnnx(OnnxGraph graph, DataViewSchema inputSchema) => DropoutOnnx.Export(graph, inputSchema, this);

    internal override void Save(ModelSaveContext ctx) => ModelPersistence.Save(ctx, this);

    static DropoutTransformer IPersistedStage<DropoutTransformer>.Read(ModelBodyReader reader, uint formatVersion)
    {
        var columns = ColumnPairFormat.Read(reader);
        float p = reader.ReadSingle();
        int seed = reader.ReadInt32();
        byte kind = reader.ReadByte();
        if (!(p >= 0f && p < 1f) || kind > (byte)DropoutKind.Standard)
        {
            throw reader.Corrupt($"p is {p} and kind {kind}; expected p in [0, 1) and kind 0 or 1");
        }

        var layout = (ChannelLayout)reader.ReadCount("the channel layout", 0, (int)ChannelLayout.ChannelsLast);
        int channelCount = reader.ReadCount("the channel count", 0, int.MaxValue);
        if (layout == ChannelLayout.None && channelCount != 0)
        {
            throw reader.Corrupt($"the channel count is {channelCount} without a channel layout; expected 0");
        }

        return new DropoutTransformer(columns, p, seed, (DropoutKind)kind, layout, channelCount);
    }

    void IPersistedStage<DropoutTransformer>.WriteBody(BinaryWriter writer)
    {
        ColumnPairFormat.Write(writer, ColumnPairs);
        writer.Write(DropProbability);
        writer.Write(Seed);
        writer.Write((byte)Kind);
        writer.Write((int)ChannelLayout);
        writer.Write(ChannelCount);
    }
}
