using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms;
using Ml.Normalization.Transforms.Mapping;

namespace Ml.Normalization;

/// <summary>
/// Fitted dropout. <see cref="Transform"/> is the scoring map (x, or x * (1 - p) for standard dropout);
/// <see cref="TransformForTraining"/> is the training map, which <c>EstimatorChain.Fit</c> uses for the stages after it.
/// </summary>
public sealed class DropoutTransformer : ITransformer, ITransformerWithDifferentMappingAtTrainingTime
{
    internal const string LoaderSignature = "MlNormDropout";

    // Format history: 0x00010001 initial (column count, name pairs, p, seed, kind).
    private const uint FormatInitial = 0x00010001;

    private readonly InputOutputColumnPair[] _columns;

    internal DropoutTransformer(InputOutputColumnPair[] columns, float dropProbability, int seed, DropoutKind kind)
    {
        _columns = columns;
        ColumnPairs = Array.AsReadOnly(columns);
        DropProbability = dropProbability;
        Seed = seed;
        Kind = kind;
    }

    /// <summary>The (output, input) column pairs, in order.</summary>
    public IReadOnlyList<InputOutputColumnPair> ColumnPairs { get; }

    /// <summary>p, the probability of dropping a value in the training pass.</summary>
    public float DropProbability { get; }

    /// <summary>The seed of the masks (given, or drawn from the MLContext when the estimator was fitted).</summary>
    public int Seed { get; }

    /// <summary>Inverted or standard dropout.</summary>
    public DropoutKind Kind { get; }

    /// <inheritdoc/>
    public bool IsRowToRowMapper => true;

    internal static VersionInfo Version => ModelPersistence.Version("MLNDROPO", FormatInitial, FormatInitial, FormatInitial, LoaderSignature, typeof(DropoutTransformer));

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => ScoringMapper(inputSchema).OutputSchema;

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => ScoringMapper(inputSchema);

    /// <summary>The scoring map: x (inverted dropout) or x * (1 - p) (standard dropout). Never drops.</summary>
    public IDataView Transform(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var schema = input.Schema;
        return new ExportableDataView(input, ScoringMapper(schema), graph => OnnxExport.Dropout(graph, schema, this));
    }

    /// <summary>
    /// The training map: a lazy view in which each cursor is one pass with its own masks (pass 0, 1, 2, ... in the
    /// order cursors are requested; a cursor set counts as one pass).
    /// </summary>
    public IDataView TransformForTraining(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return new DropoutTrainingView(input, this);
    }

    IDataView ITransformerWithDifferentMappingAtTrainingTime.TransformForTrainingPipeline(IDataView input) => TransformForTraining(input);

    void ICanSaveModel.Save(ModelSaveContext ctx) => ModelPersistence.Save(ctx, Version, Write);

    internal static DropoutTransformer Read(ModelBodyReader reader)
    {
        int count = reader.ReadCount("the column count", 1, 1 << 16);
        var columns = new InputOutputColumnPair[count];
        for (int i = 0; i < count; i++)
        {
            columns[i] = new InputOutputColumnPair(reader.ReadString("an output column name"), reader.ReadString("an input column name"));
        }

        float p = reader.ReadSingle();
        int seed = reader.ReadInt32();
        byte kind = reader.ReadByte();
        if (!(p >= 0f && p < 1f) || kind > (byte)DropoutKind.Standard)
        {
            throw reader.Corrupt($"p is {p} and kind {kind}; expected p in [0, 1) and kind 0 or 1");
        }

        return new DropoutTransformer(columns, p, seed, (DropoutKind)kind);
    }

    internal ColumnMapper ScoringMapper(DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return DropoutMapping.Scoring(inputSchema, this);
    }

    private void Write(BinaryWriter writer)
    {
        writer.Write(_columns.Length);
        foreach (var pair in _columns)
        {
            writer.Write(pair.OutputColumnName);
            writer.Write(pair.InputColumnName);
        }

        writer.Write(DropProbability);
        writer.Write(Seed);
        writer.Write((byte)Kind);
    }
}
