using Microsoft.ML;
using Microsoft.ML.Model.OnnxConverter;
using Ml.Normalization.Transforms.Mapping;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// The view our transformers' <c>Transform</c> returns. ML.NET's ONNX converter (<c>mlContext.Model.ConvertToOnnx</c>)
/// walks the transformed view's <c>IDataTransform.Source</c> chain and asks each link for
/// <c>ITransformCanSaveOnnx</c>; both interfaces are internal, so this is where our views implement them.
/// </summary>
internal sealed class ExportableDataView(IDataView source, ColumnMapper mapper, Action<OnnxGraph> export)
    : MappedDataView(source, mapper), ITransformCanSaveOnnx
{
    public bool CanSaveOnnx(OnnxContext ctx) => true;

    public void SaveAsOnnx(OnnxContext ctx) => export(new OnnxGraph(ctx));

    // A transformed view is never saved on its own: its transformer is (ICanSaveModel on ITransformer).
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("Save the transformer (mlContext.Model.Save), not the view it returned.");
}
