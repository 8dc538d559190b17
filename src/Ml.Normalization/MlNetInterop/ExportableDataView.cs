using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// What our transformers' <c>Transform</c> returns: their lazy view, made visible to ML.NET's ONNX converter.
/// <c>mlContext.Model.ConvertToOnnx</c> walks the transformed view's <c>IDataTransform.Source</c> chain and asks each
/// link for <c>ITransformCanSaveOnnx</c>; both interfaces are internal, so this wrapper implements them and forwards
/// everything else to the view (per cursor, not per row).
/// </summary>
/// <param name="view">The stage's transformed view.</param>
/// <param name="source">The view it reads (ML.NET walks <c>Source</c> to the pipeline's input).</param>
/// <param name="export">Writes the stage's ONNX nodes.</param>
internal sealed class ExportableDataView(IDataView view, IDataView source, Action<OnnxGraph> export) : IDataTransform, ITransformCanSaveOnnx
{
    /// <summary>The stage's own view, for code that needs its concrete type.</summary>
    public IDataView View { get; } = view;

    public IDataView Source { get; } = source;

    public bool CanShuffle => View.CanShuffle;

    public DataViewSchema Schema => View.Schema;

    public long? GetRowCount() => View.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => View.GetRowCursor(columnsNeeded, rand);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => View.GetRowCursorSet(columnsNeeded, n, rand);

    public bool CanSaveOnnx(OnnxContext ctx) => true;

    public void SaveAsOnnx(OnnxContext ctx) => export(new OnnxGraph(ctx));

    // A transformed view is never saved on its own: its transformer is (ICanSaveModel on ITransformer).
    void ICanSaveModel.Save(ModelSaveContext ctx) =>
        throw new NotSupportedException("Save the transformer (mlContext.Model.Save), not the view it returned.");
}
