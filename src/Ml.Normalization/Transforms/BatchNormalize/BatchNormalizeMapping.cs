using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>An input column checked against its parameters: its shape and how its slots map to the statistics.</summary>
internal readonly record struct CheckedInput(DataViewSchema.Column Column, NumericColumnShape Shape, StatisticsLayout Layout);

/// <summary>Builds the output columns of a <see cref="BatchNormalizingTransformer"/> over a given input schema.</summary>
internal static class BatchNormalizeMapping
{
    /// <summary>
    /// The scoring mapper: each column normalized with its running statistics, or, with <see cref="AffineDirection.Inverse"/>,
    /// mapped back by the inverse of that normalization (the inverse stage's parameters carry its own column names).
    /// </summary>
    public static ColumnMapper CreateMapper(DataViewSchema inputSchema, IReadOnlyList<BatchNormalizationParameters> columns, AffineDirection direction = AffineDirection.Forward)
    {
        // The per-unit scoring parameters are computed once per parameters (AffineParameters.From); a channel layout's
        // per-slot expansion once per mapper, on its first cursor, shared by the next ones (a trainer's epochs).
        var computed = new AffineParameters?[columns.Count];
        return CreateMapper(inputSchema, columns, (i, input) => Volatile.Read(ref computed[i]) ?? Interlocked.CompareExchange(ref computed[i],
            AffineParameters.From(columns[i], input.Shape.IsDouble, input.Layout, direction), null) ?? computed[i]!, direction: direction);
    }

    /// <summary>
    /// A mapper whose column i reads its per-slot affine parameters from <paramref name="affineOf"/>(i, input), once per
    /// cursor; the training view hands out arrays it rewrites at each mini-batch. <paramref name="direction"/> sets the
    /// output annotations only (<see cref="OutputAnnotations(DataViewSchema.Column, AffineDirection)"/>).
    /// </summary>
    public static ColumnMapper CreateMapper(DataViewSchema inputSchema, IReadOnlyList<BatchNormalizationParameters> columns, Func<int, CheckedInput, AffineParameters> affineOf,
        DataViewSchema? outputSchema = null, AffineDirection direction = AffineDirection.Forward)
    {
        var outputs = new OutputColumn[columns.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            int column = i;
            outputs[i] = CreateColumn(inputSchema, columns[i], input => affineOf(column, input), direction);
        }

        return new ColumnMapper(inputSchema, outputs, outputSchema);
    }

    /// <summary>
    /// The schema shape after a stage of known parameters (<see cref="KnownParametersBatchNormalizingEstimator"/>,
    /// <see cref="InverseBatchNormalizingEstimator"/>): each output column has its input's shape and item type, and the
    /// annotations of <paramref name="direction"/> (<see cref="OutputAnnotations(DataViewSchema.Column, AffineDirection)"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of another type: not Single or Double,
    /// a vector of variable size, or a scalar for per-channel parameters.</exception>
    public static SchemaShape OutputSchema(SchemaShape inputSchema, IReadOnlyList<BatchNormalizationParameters> columns, AffineDirection direction)
    {
        var result = inputSchema.ToDictionary(c => c.Name);
        foreach (var p in columns)
        {
            var input = ColumnTypes.Check(inputSchema, p.InputColumnName, allowVariableSize: false, nameof(inputSchema));
            if (p.ChannelLayout != ChannelLayout.None && input.Kind != SchemaShape.Column.VectorKind.Vector)
            {
                throw ColumnTypes.Mismatch(input.Name, $"a known-size vector of Single or Double with {p.UnitCount} channels ({p.ChannelLayout})", input.ItemType.ToString(), nameof(inputSchema));
            }

            var annotations = direction == AffineDirection.Inverse ? SchemaShapes.SlotNameAnnotations(input) : SchemaShapes.NormalizedAnnotations(input);
            result[p.OutputColumnName] = SchemaShapes.Column(p.OutputColumnName, input.Kind, input.ItemType, false, annotations);
        }

        return new SchemaShape(result.Values);
    }

    /// <summary>Checks that <paramref name="inputSchema"/> has each column, with the parameters' slot count or channels.</summary>
    public static CheckedInput[] CheckInputs(DataViewSchema inputSchema, IReadOnlyList<BatchNormalizationParameters> columns) =>
        columns.Select(p => CheckInput(inputSchema, p)).ToArray();

    private static CheckedInput CheckInput(DataViewSchema inputSchema, BatchNormalizationParameters parameters)
    {
        var input = inputSchema.GetColumnOrNull(parameters.InputColumnName)
            ?? throw ColumnTypes.MissingColumn(parameters.InputColumnName, nameof(inputSchema));
        var shape = ColumnTypes.Check(input.Type, input.Name, allowVariableSize: false, nameof(inputSchema));
        if (parameters.ChannelLayout != ChannelLayout.None)
        {
            return new CheckedInput(input, shape, ColumnLayouts.Resolve(input.Type, input.Name, parameters.ChannelLayout, parameters.UnitCount, nameof(inputSchema)));
        }

        if (shape.Size != parameters.UnitCount)
        {
            string expected = parameters.UnitCount == 1
                ? "Single or Double scalar (the model has 1 slot)"
                : $"vector of Single or Double of size {parameters.UnitCount}";
            throw ColumnTypes.Mismatch(input.Name, expected, input.Type.ToString(), nameof(inputSchema));
        }

        return new CheckedInput(input, shape, StatisticsLayout.PerSlot(shape.Size));
    }

    private static OutputColumn CreateColumn(DataViewSchema inputSchema, BatchNormalizationParameters parameters, Func<CheckedInput, AffineParameters> affineOf, AffineDirection direction)
    {
        var checkedInput = CheckInput(inputSchema, parameters);
        var (input, shape, _) = checkedInput;
        var annotations = OutputAnnotations(input, direction);
        Func<DataViewRow, Delegate> makeGetter = parameters.Centered ? shape switch
        {
            { IsDouble: false, IsVector: true } => row => CenteredGetters.Vector(row, input.Index, checkedInput.Layout, (AffineParameters<float>)affineOf(checkedInput)),
            { IsDouble: true, IsVector: true } => row => CenteredGetters.Vector(row, input.Index, checkedInput.Layout, (AffineParameters<double>)affineOf(checkedInput)),
            { IsDouble: false } => row => CenteredGetters.Scalar(row, input.Index, (AffineParameters<float>)affineOf(checkedInput)),
            _ => row => CenteredGetters.Scalar(row, input.Index, (AffineParameters<double>)affineOf(checkedInput)),
        }
        : ScaleOnlyGetters.Create(input.Index, shape, () => affineOf(checkedInput));
        return new OutputColumn(parameters.OutputColumnName, input.Type, annotations, input.Index, makeGetter);
    }

    /// <summary>
    /// The input's slot names (if any), and for the normalization IsNormalized = true, as ML.NET's normalizers annotate.
    /// The inverse's output is on the data's own scale, not normalized: it keeps the slot names only.
    /// </summary>
    internal static DataViewSchema.Annotations OutputAnnotations(DataViewSchema.Column input, AffineDirection direction)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        builder.Add(input.Annotations, name => name == AnnotationUtils.Kinds.SlotNames);
        if (direction == AffineDirection.Forward)
        {
            builder.Add(AnnotationUtils.Kinds.IsNormalized, BooleanDataViewType.Instance, (ref bool dst) => dst = true);
        }

        return builder.ToAnnotations();
    }
}
