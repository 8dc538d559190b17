using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Kernels;
using Ml.Normalization.Transforms.Mapping;

namespace Ml.Normalization.Transforms;

/// <summary>Builds the output columns of a <see cref="BatchNormalizingTransformer"/> over a given input schema.</summary>
internal static class BatchNormalizeMapping
{
    public static ColumnMapper CreateMapper(DataViewSchema inputSchema, IReadOnlyList<BatchNormalizationParameters> columns)
    {
        var outputs = new OutputColumn[columns.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i] = CreateColumn(inputSchema, columns[i]);
        }

        return new ColumnMapper(inputSchema, outputs);
    }

    private static OutputColumn CreateColumn(DataViewSchema inputSchema, BatchNormalizationParameters parameters)
    {
        var input = inputSchema.GetColumnOrNull(parameters.InputColumnName)
            ?? throw ColumnTypes.MissingColumn(parameters.InputColumnName, nameof(inputSchema));
        var shape = ColumnTypes.Check(input.Type, input.Name, allowVariableSize: false, nameof(inputSchema));
        if (shape.Size != parameters.SlotCount)
        {
            string expected = parameters.SlotCount == 1
                ? "Single or Double scalar (the model has 1 slot)"
                : $"vector of Single or Double of size {parameters.SlotCount}";
            throw ColumnTypes.Mismatch(input.Name, expected, input.Type.ToString(), nameof(inputSchema));
        }

        var annotations = NormalizedAnnotations(input);
        Func<DataViewRow, Delegate> makeGetter = shape switch
        {
            { IsDouble: false, IsVector: true } => VectorGetterFactory<float>(input.Index, parameters),
            { IsDouble: true, IsVector: true } => VectorGetterFactory<double>(input.Index, parameters),
            { IsDouble: false } => ScalarGetterFactory<float>(input.Index, parameters),
            _ => ScalarGetterFactory<double>(input.Index, parameters),
        };
        return new OutputColumn(parameters.OutputColumnName, input.Type, annotations, input.Index, makeGetter);
    }

    /// <summary>The input's slot names (if any) and IsNormalized = true, as ML.NET's normalizers annotate.</summary>
    internal static DataViewSchema.Annotations NormalizedAnnotations(DataViewSchema.Column input)
    {
        var builder = new DataViewSchema.Annotations.Builder();
        builder.Add(input.Annotations, name => name == AnnotationUtils.Kinds.SlotNames);
        builder.Add(AnnotationUtils.Kinds.IsNormalized, BooleanDataViewType.Instance, (ref bool dst) => dst = true);
        return builder.ToAnnotations();
    }

    private static Func<DataViewRow, Delegate> VectorGetterFactory<T>(int sourceIndex, BatchNormalizationParameters parameters)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mean, scale, offset) = parameters.AffineForm<T>();
        return row =>
        {
            var source = row.GetGetter<VBuffer<T>>(row.Schema[sourceIndex]);
            VBuffer<T> buffer = default;
            ValueGetter<VBuffer<T>> getter = (ref VBuffer<T> dst) =>
            {
                source(ref buffer);
                int slots = mean.Length;
                var editor = VBufferEditor.Create(ref dst, slots);
                if (buffer.IsDense)
                {
                    NormalizationKernels.Normalize<T>(buffer.GetValues(), mean, scale, offset, editor.Values);
                }
                else
                {
                    // Written dense: the implicit zeros normalize to non-zero values.
                    editor.Values.Clear();
                    var values = buffer.GetValues();
                    var indices = buffer.GetIndices();
                    for (int k = 0; k < values.Length; k++)
                    {
                        editor.Values[indices[k]] = values[k];
                    }

                    NormalizationKernels.Normalize<T>(editor.Values, mean, scale, offset, editor.Values);
                }

                dst = editor.Commit();
            };
            return getter;
        };
    }

    private static Func<DataViewRow, Delegate> ScalarGetterFactory<T>(int sourceIndex, BatchNormalizationParameters parameters)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mean, scale, offset) = parameters.AffineForm<T>();
        T m = mean[0], s = scale[0], o = offset[0];
        return row =>
        {
            var source = row.GetGetter<T>(row.Schema[sourceIndex]);
            T value = default;
            ValueGetter<T> getter = (ref T dst) =>
            {
                source(ref value);
                dst = ((value - m) * s) + o;
            };
            return getter;
        };
    }
}
