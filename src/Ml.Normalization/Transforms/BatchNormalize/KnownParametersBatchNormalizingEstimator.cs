using Microsoft.ML;
using Ml.Normalization.Transforms.BatchNormalize;

namespace Ml.Normalization;

/// <summary>
/// Batch normalization with known parameters, an estimator with nothing to learn (as ML.NET's trivial estimators, e.g.
/// <c>OnnxScoringEstimator</c>): <see cref="Fit(IDataView)"/> checks the input's columns and returns the
/// <see cref="BatchNormalizingTransformer"/> of the parameters, which computes
/// <c>y = gamma * (x - running_mean) / sqrt(running_var + epsilon) + beta</c> (scale only:
/// <c>y = gamma * x / sqrt(running_var + epsilon)</c>) with them as they are. Made by
/// <see cref="BatchNormalizationCatalog.BatchNormalize(TransformsCatalog, BatchNormalizationParameters[])"/>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// | Estimator characteristics | |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `Single` or `Double`, scalar or known-size vector (sparse accepted), with as many slots (or channels) as the parameters |
/// | Output column data type | The input's type and size |
/// | Exportable to ONNX | Yes: Sub, Mul, Add (scale only: Mul) |
///
/// Every `Fit` returns the same transformer, whatever the data: the rows are not read. Append the estimator to a chain
/// (`ml.Transforms.BatchNormalize(parameters).Append(...)`), or fit it on any view with the input columns (an empty
/// `LoadFromEnumerable` will do) to get the transformer for a `PredictionEngine`, `Model.Save` or ONNX export.
/// ]]></format>
/// </remarks>
public sealed class KnownParametersBatchNormalizingEstimator : IEstimator<BatchNormalizingTransformer>
{
    private readonly BatchNormalizingTransformer _transformer;

    internal KnownParametersBatchNormalizingEstimator(BatchNormalizingTransformer transformer) => _transformer = transformer;

    /// <summary>
    /// Checks that <paramref name="input"/> has every input column, of a type and size the parameters fit, and returns
    /// the transformer of the parameters (the same one at every call; the rows are not read).
    /// </summary>
    /// <param name="input">The data; only its schema is read.</param>
    /// <returns>The transformer, whose <see cref="BatchNormalizingTransformer.Columns"/> are the given parameters.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing, is not Single or Double, or its slot or
    /// channel count differs from the parameters'.</exception>
    public BatchNormalizingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        BatchNormalizeMapping.CheckInputs(input.Schema, _transformer.Columns);
        return _transformer;
    }

    /// <summary>
    /// The schema after this stage, for an estimator chain: each output column has its input's shape and item type, and
    /// is annotated as normalized. A vector's size is not in a <see cref="SchemaShape"/>; it is checked at
    /// <see cref="Fit(IDataView)"/> and by the transformer.
    /// </summary>
    /// <param name="inputSchema">The schema shape before this stage.</param>
    /// <returns>The schema shape after it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of another type: not Single or Double,
    /// a vector of variable size, or a scalar for per-channel parameters.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return BatchNormalizeMapping.OutputSchema(inputSchema, _transformer.Columns, AffineDirection.Forward);
    }
}
