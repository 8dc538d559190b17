using Microsoft.ML;
using Microsoft.ML.Runtime;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Tests.Transforms.Stages.Scale;

/// <summary>
/// The smallest stage on the skeleton, used by the tests to show what a new stage consists of: <c>y = Factor * x</c>
/// on Single columns (scalar or vector of any size). Its options and its (trivial) fit are here; its mapping, ONNX
/// nodes and format are in <see cref="ScaleTransformer"/>. It lives in the test assembly, so it does not ship; being
/// built on the library's internals (a friend assembly), it is written exactly as a stage of the library is.
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
