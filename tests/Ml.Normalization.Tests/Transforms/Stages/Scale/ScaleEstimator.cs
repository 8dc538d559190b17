using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Ml.Normalization.Transforms.Scale;

/// <summary>
/// The smallest stage on the skeleton, used by the tests to show what a new stage consists of: <c>y = Factor * x</c>
/// on Single columns (scalar or vector of any size). Its options and its (trivial) fit are here; its mapping, ONNX
/// nodes and format are in <see cref="ScaleTransformer"/>. Nothing outside this folder knows it.
/// </summary>
internal sealed class ScaleEstimator(IHostEnvironment environment, InputOutputColumnPair[] columns, float factor)
    : ColumnPairEstimator<ScaleTransformer>(environment, columns, nameof(ScaleEstimator))
{
    internal override bool AcceptsVariableSize => true;

    internal override ScaleTransformer Fit(IDataView input, NumericColumnShape[] inputShapes)
    {
        for (int i = 0; i < inputShapes.Length; i++)
        {
            if (inputShapes[i].IsDouble)
            {
                throw ColumnTypes.Mismatch(Columns[i].InputColumnName, "Single or known-size vector of Single", "Double", nameof(input));
            }
        }

        return new ScaleTransformer(Columns, factor);
    }

    internal override SchemaShape OutputAnnotations(SchemaShape.Column input) => new([]);
}
