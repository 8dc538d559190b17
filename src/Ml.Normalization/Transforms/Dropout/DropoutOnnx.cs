using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.MlNetInterop;

namespace Ml.Normalization.Transforms.Dropout;

/// <summary>Dropout's scoring map as ONNX nodes: Identity (inverted dropout), or Mul by the keep probability (standard).</summary>
internal static class DropoutOnnx
{
    /// <summary>Identity and Mul need opset 7; ML.NET's converter writes 9 or later.</summary>
    private const int MinimumOpset = 7;

    public static void Export(OnnxGraph graph, DataViewSchema inputSchema, DropoutTransformer transformer)
    {
        graph.RequireOpset(MinimumOpset, "Dropout");
        foreach (var pair in transformer.ColumnPairs)
        {
            if (!graph.HasColumn(pair.InputColumnName))
            {
                graph.OmitColumn(pair.OutputColumnName);
                continue;
            }

            var type = inputSchema[pair.InputColumnName].Type;
            string input = graph.ColumnVariable(pair.InputColumnName);
            string output = graph.AddColumn(type, pair.OutputColumnName);
            if (transformer.Kind == DropoutKind.Inverted || transformer.DropProbability == 0f)
            {
                graph.Node("Identity", [input], output);
                continue;
            }

            bool isDouble = ((type as VectorDataViewType)?.ItemType ?? type) == NumberDataViewType.Double;
            string keep = isDouble
                ? graph.Constant([1.0 - transformer.DropProbability], "DropoutKeep")
                : graph.Constant([(float)(1.0 - transformer.DropProbability)], "DropoutKeep");
            graph.Node("Mul", [input, keep], output);
        }
    }
}
