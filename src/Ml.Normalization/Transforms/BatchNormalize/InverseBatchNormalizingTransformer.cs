using Microsoft.ML;
using Ml.Normalization;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Persistence;
using Ml.Normalization.Transforms.BatchNormalize;
using Ml.Normalization.Transforms.Stages;

[assembly: LoadableStage<InverseBatchNormalizingTransformer>("Inverse Batch Normalization")]

namespace Ml.Normalization;

/// <summary>
/// The inverse of a batch normalization: <c>x = (y - beta) * sqrt(running_var + epsilon) / gamma + running_mean</c> per
/// slot, or per channel (scale only: <c>x = y * sqrt(running_var + epsilon) / gamma</c>), applied lazily, row to row.
/// It maps a normalized column, or a prediction of one (a regressor's <c>Score</c> trained on a normalized label), back to
/// the data's own scale. Saves and loads with <c>mlContext.Model.Save</c>/<c>Load</c>, and exports to ONNX.
/// </summary>
/// <remarks>
/// <para>Made by <see cref="BatchNormalizingTransformer.GetInverse()"/> and its overload, or as an estimator for a chain by
/// <see cref="Microsoft.ML.BatchNormalizationCatalog.InverseBatchNormalize(Microsoft.ML.TransformsCatalog, string, string, BatchNormalizationParameters)"/>
/// and its overloads.</para>
/// <para>Input columns: <c>Single</c> or <c>Double</c>, scalar or known-size vector (dense or sparse), with as many slots
/// (or channels) as the parameters; the output has the input's type, size and slot names, and no IsNormalized annotation
/// (its values are on the data's scale). NaN gives NaN; an infinity gives an infinity. The map is the normalization's own
/// affine form <c>(y - mean') * scale' + offset'</c> with mean' = beta, offset' = running_mean and
/// scale' = sqrt(running_var + epsilon) / gamma, computed in double and rounded once to the column's type, so a Single
/// column makes three float roundings, as ONNX's Sub, Mul, Add do (the export is bit-identical). A scale-only stage keeps
/// sparse rows sparse.</para>
/// <para>Round trip: for a value x of a column this stage's parameters normalize, and u = 2^-24 (Single) or 2^-53
/// (Double), <c>|inverse(normalize(x)) - x| &lt;= 8 u (|x| + |running_mean| + |beta| sqrt(running_var + epsilon) / |gamma|)</c>
/// while no scale is beyond the type's range and no value is subnormal: the normalization's three roundings and its
/// rounded scale, and the inverse's three and its rounded scale, each relative to at most |x| + |running_mean|, and the
/// rounding of the normalized value, whose beta part comes back scaled by sqrt(running_var + epsilon) / |gamma|.</para>
/// </remarks>
public sealed class InverseBatchNormalizingTransformer : ColumnPairTransformer, IPersistedStage<InverseBatchNormalizingTransformer>
{
    internal const string LoaderSignature = "MlNormInverseBatchNorm";

    // The format of 1.0: the column count, then per column the head and values of ParametersFormat (names, channel layout,
    // centering flag, unit count, epsilon; running mean, running variance, gamma, beta). The names are this stage's: the
    // output is the column mapped back, the input the normalized column it reads. A format change keeps a reader for
    // every version that shipped, with a committed fixture.
    private const uint Format10 = 0x00010001;

    private readonly BatchNormalizationParameters[] _columns;

    private InverseBatchNormalizingTransformer(BatchNormalizationParameters[] columns)
        : base(columns.Select(c => new InputOutputColumnPair(c.OutputColumnName, c.InputColumnName)))
    {
        _columns = columns;
        Columns = Array.AsReadOnly(columns);
    }

    /// <summary>
    /// The parameters of the normalization each column pair undoes, in order, with this stage's column names: each
    /// one's <see cref="BatchNormalizationParameters.InputColumnName"/> is the normalized column read, its
    /// <see cref="BatchNormalizationParameters.OutputColumnName"/> the column produced. They are known parameters: no fit
    /// state, and <see cref="BatchNormalizationParameters.BatchCount"/> and <see cref="BatchNormalizationParameters.RowCount"/> 0.
    /// </summary>
    public IReadOnlyList<BatchNormalizationParameters> Columns { get; }

    static StageFormat IPersistedStage<InverseBatchNormalizingTransformer>.Format { get; } =
        new("MLNBNINV", Format10, Format10, Format10, LoaderSignature, "InverseBatchNormalize");

    /// <summary>
    /// The inverse of each normalization, reading <c>InputColumnName</c> and writing <c>OutputColumnName</c>.
    /// </summary>
    /// <param name="columns">Each column pair's normalization and names.</param>
    /// <param name="paramName">The caller's argument that holds the parameters, for the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">A gamma is 0: the normalization maps every value of its slot (or
    /// channel) to beta, and has no inverse.</exception>
    internal static InverseBatchNormalizingTransformer Create(IReadOnlyList<(BatchNormalizationParameters Normalization, string OutputColumnName, string InputColumnName)> columns, string paramName)
    {
        var inverse = new BatchNormalizationParameters[columns.Count];
        for (int i = 0; i < inverse.Length; i++)
        {
            var (normalization, output, input) = columns[i];
            if (ZeroGamma(normalization) is int j and >= 0)
            {
                throw new ArgumentOutOfRangeException(paramName, 0.0,
                    $"The normalization of '{normalization.OutputColumnName}' has no inverse for column '{input}': gamma[{j}] ({Unit(normalization)} {j}) is 0, "
                    + "which maps every value to beta. Invert only parameters whose every gamma is non-zero.");
            }

            inverse[i] = normalization.ForColumns(output, input);
        }

        return new InverseBatchNormalizingTransformer(inverse);
    }

    internal override ColumnMapper CreateMapper(DataViewSchema inputSchema) => BatchNormalizeMapping.CreateMapper(inputSchema, _columns, AffineDirection.Inverse);

    internal override void ExportOnnx(OnnxGraph graph, DataViewSchema inputSchema) => BatchNormalizeOnnx.Export(graph, inputSchema, _columns, AffineDirection.Inverse);

    internal override void Save(ModelSaveContext ctx) => ModelPersistence.Save(ctx, this);

    static InverseBatchNormalizingTransformer IPersistedStage<InverseBatchNormalizingTransformer>.Read(ModelBodyReader reader, uint formatVersion)
    {
        int count = reader.ReadCount("the column count", 1, 1 << 16);
        var columns = new BatchNormalizationParameters[count];
        for (int i = 0; i < count; i++)
        {
            var head = ParametersFormat.ReadHead(reader, i);
            var values = ParametersFormat.ReadValues(reader, head.Units);
            try
            {
                columns[i] = new BatchNormalizationParameters(head.OutputColumnName, head.InputColumnName, values.Mean, values.Variance, values.Gamma, values.Beta,
                    head.Epsilon, 0, 0, head.Layout, null, head.Centered);
            }
            catch (ArgumentException ex)
            {
                throw reader.Corrupt($"column '{head.OutputColumnName}': {ex.Message}");
            }

            if (ZeroGamma(columns[i]) is int j and >= 0)
            {
                // Construction refuses it, so no saved inverse holds one.
                throw reader.Corrupt($"column '{head.OutputColumnName}': gamma[{j}] ({Unit(columns[i])} {j}) is 0, which has no inverse");
            }
        }

        return new InverseBatchNormalizingTransformer(columns);
    }

    void IPersistedStage<InverseBatchNormalizingTransformer>.WriteBody(BinaryWriter writer)
    {
        writer.Write(_columns.Length);
        foreach (var column in _columns)
        {
            ParametersFormat.WriteHead(writer, column);
            ParametersFormat.WriteValues(writer, column);
        }
    }

    /// <summary>The first unit whose gamma is 0 (its normalization maps every value to beta: no inverse), or -1.</summary>
    // The first slot or channel whose gamma is 0, or -1.
    private static int ZeroGamma(BatchNormalizationParameters normalization) => normalization.GammaValues.IndexOf(0.0);

    private static string Unit(BatchNormalizationParameters parameters) => parameters.ChannelLayout == ChannelLayout.None ? "slot" : "channel";
}
