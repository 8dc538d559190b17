using Microsoft.ML;
using Microsoft.ML.Runtime;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization;

/// <summary>
/// The estimator side of <see cref="ColumnPairTransformer"/>: checks the column pairs, checks each input column (at
/// <see cref="GetOutputSchema"/> and at <see cref="Fit(IDataView)"/>, with ML.NET's errors), describes the output columns, and
/// hands the checked input to the stage's fit.
/// </summary>
/// <typeparam name="TTransformer">The fitted transformer.</typeparam>
public abstract class ColumnPairEstimator<TTransformer> : IEstimator<TTransformer>
    where TTransformer : ColumnPairTransformer
{
    internal ColumnPairEstimator(IHostEnvironment environment, InputOutputColumnPair[] columns, string name)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Columns = ColumnTypes.CheckPairs(columns, nameof(columns));
        Host = MlNetEnvironment.Register(environment, name);
    }

    /// <summary>The (output, input) column pairs.</summary>
    internal InputOutputColumnPair[] Columns { get; }

    /// <summary>The stage's host in the MLContext: seed, log, progress, cancellation.</summary>
    internal IHost Host { get; }

    /// <summary>True when the stage accepts vectors of variable size.</summary>
    internal abstract bool AcceptsVariableSize { get; }

    /// <summary>Fits the stage to <paramref name="input"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of a type the stage does not accept.</exception>
    /// <exception cref="ArgumentException">An option does not fit the columns (e.g. BatchNormalize's Gamma or Beta has
    /// neither 1 value nor one per slot).</exception>
    /// <exception cref="InvalidOperationException">The data cannot be fitted (e.g. BatchNormalize: fewer than 2 rows, or
    /// a slot's mean or variance beyond the range of Double).</exception>
    public TTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var shapes = Array.ConvertAll(Columns, pair => ColumnTypes.Check(input.Schema, pair.InputColumnName, AcceptsVariableSize, nameof(input)));
        CheckOtherInputs(input.Schema, nameof(input));
        return Fit(input, shapes);
    }

    /// <summary>The schema after the stage: each output column has its input's shape and item type.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of a type the stage does not accept.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        var result = inputSchema.ToDictionary(c => c.Name);
        foreach (var pair in Columns)
        {
            var input = ColumnTypes.Check(inputSchema, pair.InputColumnName, AcceptsVariableSize, nameof(inputSchema));
            CheckInput(input, nameof(inputSchema));
            result[pair.OutputColumnName] = SchemaShapes.Column(pair.OutputColumnName, input.Kind, input.ItemType, false, OutputAnnotations(input));
        }

        CheckOtherInputs(inputSchema, nameof(inputSchema));
        return new SchemaShape(result.Values);
    }

    /// <summary>The stage's fit, given the input and the checked shape of each pair's input column.</summary>
    internal abstract TTransformer Fit(IDataView input, NumericColumnShape[] inputShapes);

    /// <summary>The stage's own checks of an input column beyond its item type (none by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The stage cannot take the column.</exception>
    internal virtual void CheckInput(SchemaShape.Column input, string paramName)
    {
    }

    /// <summary>Checks the columns the estimator reads besides its input columns (BatchNormalize's example weights).</summary>
    internal virtual void CheckOtherInputs(DataViewSchema schema, string paramName)
    {
    }

    /// <inheritdoc cref="CheckOtherInputs(DataViewSchema, string)"/>
    internal virtual void CheckOtherInputs(SchemaShape schema, string paramName)
    {
    }

    /// <summary>The annotations of an output column, given its input column's shape.</summary>
    internal abstract SchemaShape OutputAnnotations(SchemaShape.Column input);
}
