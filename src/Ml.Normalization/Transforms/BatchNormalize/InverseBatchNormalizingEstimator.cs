using Microsoft.ML;
using Ml.Normalization.Transforms.BatchNormalize;

namespace Ml.Normalization;

/// <summary>
/// The inverse of a batch normalization as an estimator with nothing to learn (as
/// <see cref="KnownParametersBatchNormalizingEstimator"/>): <see cref="Fit(IDataView)"/> checks the input's columns and
/// returns the <see cref="InverseBatchNormalizingTransformer"/>, which computes
/// <c>x = (y - beta) * sqrt(running_var + epsilon) / gamma + running_mean</c> per slot or channel (scale only:
/// <c>x = y * sqrt(running_var + epsilon) / gamma</c>). Made by
/// <see cref="BatchNormalizationCatalog.InverseBatchNormalize(TransformsCatalog, string, string, BatchNormalizationParameters)"/>
/// and its overloads.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// | Estimator characteristics | |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `Single` or `Double`, scalar or known-size vector (sparse accepted), with as many slots (or channels) as the parameters |
/// | Output column data type | The input's type and size, with the input's slot names (not annotated as normalized) |
/// | Exportable to ONNX | Yes: Sub, Mul, Add (scale only: Mul) |
///
/// Every `Fit` returns the same transformer, whatever the data: the rows are not read.
/// ]]></format>
/// </remarks>
public sealed class InverseBatchNormalizingEstimator : IEstimator<InverseBatchNormalizingTransformer>
{
    private readonly InverseBatchNormalizingTransformer _transformer;

    internal InverseBatchNormalizingEstimator(InverseBatchNormalizingTransformer transformer) => _transformer = transformer;

    /// <summary>
    /// Checks that <paramref name="input"/> has every input column, of a type and size the parameters fit, and returns
    /// the inverse transformer (the same one at every call; the rows are not read).
    /// </summary>
    /// <param name="input">The data; only its schema is read.</param>
    /// <returns>The inverse transformer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing, is not Single or Double, or its slot or
    /// channel count differs from the parameters'.</exception>
    public InverseBatchNormalizingTransformer Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        BatchNormalizeMapping.CheckInputs(input.Schema, _transformer.Columns);
        return _transformer;
    }

    /// <summary>
    /// The schema after this stage, for an estimator chain: each output column has its input's shape, item type and slot
    /// names. A vector's size is not in a <see cref="SchemaShape"/>; it is checked at <see cref="Fit(IDataView)"/> and by
    /// the transformer.
    /// </summary>
    /// <param name="inputSchema">The schema shape before this stage.</param>
    /// <returns>The schema shape after it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputSchema"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of another type: not Single or Double,
    /// a vector of variable size, or a scalar for per-channel parameters.</exception>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ArgumentNullException.ThrowIfNull(inputSchema);
        return BatchNormalizeMapping.OutputSchema(inputSchema, _transformer.Columns, AffineDirection.Inverse);
    }
}
