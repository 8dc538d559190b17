using Microsoft.ML.Data;
using Microsoft.ML.Model.OnnxConverter;

namespace Ml.Normalization.MlNetInterop;

/// <summary>
/// Our view of ML.NET's ONNX export context (<c>OnnxContext</c>, internal): the stages describe their ONNX nodes
/// through this class, so only the seam names ML.NET's converter types.
/// </summary>
internal sealed class OnnxGraph(OnnxContext context)
{
    /// <summary>Whether the graph has a variable for data-view column <paramref name="columnName"/> (false when an earlier stage could not export it).</summary>
    public bool HasColumn(string columnName) => context.ContainsColumn(columnName);

    /// <summary>The ONNX variable holding column <paramref name="columnName"/>.</summary>
    public string ColumnVariable(string columnName) => context.GetVariableName(columnName);

    /// <summary>Declares the output column <paramref name="columnName"/>; returns its ONNX variable name.</summary>
    public string AddColumn(DataViewType type, string columnName) => context.AddIntermediateVariable(type, columnName);

    /// <summary>
    /// Fails with ML.NET's error unless the export targets ONNX opset <paramref name="minimum"/> or later
    /// (<paramref name="stageName"/> names the stage in the message).
    /// </summary>
    public void RequireOpset(int minimum, string stageName) => context.CheckOpSetVersion(minimum, stageName);

    /// <summary>
    /// Leaves output column <paramref name="columnName"/> out of the graph, before any variable was added for it (its
    /// input has no variable): the converter then treats it as a column it cannot export, as for ML.NET's own stages.
    /// </summary>
    public void OmitColumn(string columnName) => context.RemoveColumn(columnName, false);

    /// <summary>A temporary variable.</summary>
    public string Temporary(string name) => context.AddIntermediateVariable(null, name, true);

    public string Constant(float[] values, string name) => context.AddInitializer(values, [values.Length], name);

    public string Constant(double[] values, string name) => context.AddInitializer(values, [values.Length], name);

    /// <summary>A constant tensor of shape <paramref name="dims"/> (its values in row-major order).</summary>
    public string Constant(float[] values, long[] dims, string name) => context.AddInitializer(values, dims, name);

    /// <summary>A constant tensor of shape <paramref name="dims"/> (its values in row-major order).</summary>
    public string Constant(double[] values, long[] dims, string name) => context.AddInitializer(values, dims, name);

    /// <summary>A one-dimensional int64 constant, e.g. the shape input of a <c>Reshape</c>.</summary>
    public string Int64Constant(long[] values, string name) => context.AddInitializer(values, [values.Length], name);

    /// <summary>Adds a standard-domain node.</summary>
    public void Node(string opType, string[] inputs, string output) =>
        context.CreateNode(opType, inputs, [output], context.GetNodeName(opType), "");
}
