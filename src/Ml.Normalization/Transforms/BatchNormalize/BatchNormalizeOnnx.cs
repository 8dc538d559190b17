using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.MlNetInterop;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>BatchNormalize's scoring map as ONNX nodes.</summary>
/// <remarks>
/// BatchNormalize exports as <c>Sub</c>, <c>Mul</c>, <c>Add</c> with the transform's own per-slot mean, scale
/// (gamma / sqrt(var + eps), computed in double and rounded once) and offset: the same three roundings in the same order
/// as the ML.NET transform, so ONNX Runtime reproduces its outputs exactly, for Single and Double, in every runtime
/// that has the three basic operators (opset 7+). ONNX's <c>BatchNormalization</c> operator would recompute
/// 1/sqrt(var + eps) in the tensor's precision and differ in the last bits.
/// <para>With channels, the constants are per channel, shaped [C, 1] over the input reshaped to [N, C, H x W] (channels
/// first) or [C] over [N, H x W, C] (channels last), broadcast by the same three operators; a final <c>Reshape</c> to the
/// input's own shape (<c>Shape</c>) gives back its dimensions. The arithmetic is the transform's, element for element.</para>
/// <para>A pure standardization (gamma 1, beta 0, epsilon 0: <see cref="BatchNormalizationParameters.FromMeanAndStd"/>)
/// exports as <c>Sub</c> and <c>Div</c> by the standard deviation, as the transform computes it
/// (<see cref="AffineParameters{T}.Divides"/>): torchvision's <c>(x - mean) / std</c> in the tensor's precision, bit for bit.</para>
/// <para>Scale-only parameters (<see cref="BatchNormalizationParameters.Centered"/> false) export a single <c>Mul</c> by the
/// per-slot scale (and the second factor's <c>Mul</c> when a scale is beyond the type's range). ONNX tensors are dense: ML.NET's
/// exporter declares a vector column as a dense [N, slots] input whether its rows are sparse or not, and ONNX Runtime
/// (through <c>ApplyOnnxModel</c> too) is fed the rows densified; the products are the transform's, zeros giving zeros.</para>
/// <para>The inverse stage (<see cref="AffineDirection.Inverse"/>) exports the same nodes with the inverse's affine form:
/// <c>Sub</c> beta, <c>Mul</c> by sqrt(var + eps) / gamma (computed in double, rounded once), <c>Add</c> the mean; scale only,
/// one <c>Mul</c>.</para>
/// <para>A column whose input no earlier stage exported (say it comes from a <c>CustomMapping</c>) is left out of the
/// graph, as ML.NET's own column transformers do: <c>ConvertToOnnx</c> then reports that the pipeline cannot be fully
/// converted, unless the caller keeps only other output columns.</para>
/// </remarks>
internal static class BatchNormalizeOnnx
{
    /// <summary>Sub, Mul, Div, Add and Identity with broadcasting need opset 7; ML.NET's converter writes 9 or later.</summary>
    private const int MinimumOpset = 7;

    public static void Export(OnnxGraph graph, DataViewSchema inputSchema, IReadOnlyList<BatchNormalizationParameters> columns, AffineDirection direction = AffineDirection.Forward)
    {
        graph.RequireOpset(MinimumOpset, direction == AffineDirection.Inverse ? "InverseBatchNormalize" : "BatchNormalize");
        foreach (var p in columns)
        {
            if (!graph.HasColumn(p.InputColumnName))
            {
                graph.OmitColumn(p.OutputColumnName);
                continue;
            }

            var type = inputSchema[p.InputColumnName].Type;
            bool isDouble = ((type as VectorDataViewType)?.ItemType ?? type) == NumberDataViewType.Double;
            var layout = BatchNormalizeMapping.CheckInputs(inputSchema, [p])[0].Layout;
            var affine = AffineParameters.From(p, isDouble, direction);
            string input = graph.ColumnVariable(p.InputColumnName);
            string output = graph.AddColumn(type, p.OutputColumnName);

            // Per slot: vectors of the slot count. Per channel: [C, 1] against [N, C, S], or [C] against [N, S, C].
            long[] dims = layout.Layout == ChannelLayout.ChannelsFirst ? [layout.Units, 1] : [layout.Units];
            bool divides = affine is AffineParameters<float> { Divides: true } or AffineParameters<double> { Divides: true };
            string scaleName = divides ? "BatchNormStd" : "BatchNormScale"; // dividing, the scale is the standard deviation
            bool hasOffset = p.Centered && !divides;
            var (mean, scale, rescale, offset) = affine switch
            {
                AffineParameters<float> f => (p.Centered ? graph.Constant(f.Mean, dims, "BatchNormMean") : null, graph.Constant(f.Scale, dims, scaleName),
                    f.Rescale is null ? null : graph.Constant(f.Rescale, dims, "BatchNormRescale"), hasOffset ? graph.Constant(f.Offset, dims, "BatchNormOffset") : null),
                AffineParameters<double> d => (p.Centered ? graph.Constant(d.Mean, dims, "BatchNormMean") : null, graph.Constant(d.Scale, dims, scaleName),
                    d.Rescale is null ? null : graph.Constant(d.Rescale, dims, "BatchNormRescale"), hasOffset ? graph.Constant(d.Offset, dims, "BatchNormOffset") : null),
                _ => throw new NotSupportedException($"BatchNormalize cannot export column '{p.InputColumnName}' of type {type} to ONNX."),
            };

            string source = input, finalOutput = output;
            if (layout.HasChannels)
            {
                long[] channelShape = layout.Layout == ChannelLayout.ChannelsFirst ? [-1, layout.Units, layout.SpatialSize] : [-1, layout.SpatialSize, layout.Units];
                string reshaped = graph.Temporary("BatchNormByChannel");
                graph.Node("Reshape", [input, graph.Int64Constant(channelShape, "BatchNormChannelShape")], reshaped);
                input = reshaped;
                output = graph.Temporary("BatchNormChannelOutput");
            }

            if (!p.Centered)
            {
                // Scale only: y = x * scale (* rescale), as the transform computes it; zeros stay zeros.
                string product = rescale is null ? output : graph.Temporary("BatchNormScaled");
                graph.Node("Mul", [input, scale], product);
                if (rescale is not null)
                {
                    graph.Node("Mul", [product, rescale], output);
                }
            }
            else if (divides)
            {
                // A pure standardization: y = (x - mean) / std, as the transform computes it.
                string centered = graph.Temporary("BatchNormCentered");
                graph.Node("Sub", [input, mean!], centered);
                graph.Node("Div", [centered, scale], output);
            }
            else
            {
                string centered = graph.Temporary("BatchNormCentered");
                string scaled = graph.Temporary("BatchNormScaled");
                graph.Node("Sub", [input, mean!], centered);
                graph.Node("Mul", [centered, scale], scaled);
                if (rescale is not null)
                {
                    // A scale beyond the type's range, applied as two factors as the transform does.
                    string rescaled = graph.Temporary("BatchNormRescaled");
                    graph.Node("Mul", [scaled, rescale], rescaled);
                    scaled = rescaled;
                }

                graph.Node("Add", [scaled, offset!], output);
            }
            if (output != finalOutput)
            {
                // Back to the input's own shape: [N, C, H, W], [N, H, W, C] or [N, slots].
                string shape = graph.Temporary("BatchNormInputShape");
                graph.Node("Shape", [source], shape);
                graph.Node("Reshape", [output, shape], finalOutput);
            }
        }
    }
}
