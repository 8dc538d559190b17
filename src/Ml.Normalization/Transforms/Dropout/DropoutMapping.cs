using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;
using Ml.Normalization.Kernels;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Transforms.Dropout;

/// <summary>The output columns of a <see cref="DropoutTransformer"/>: the scoring map, or the training map of one pass.</summary>
internal static class DropoutMapping
{
    /// <summary>Scoring: y = x (inverted) or y = x * (1 - p) (standard).</summary>
    public static ColumnMapper Scoring(DataViewSchema inputSchema, DropoutTransformer transformer) =>
        Create(inputSchema, transformer, (column, source, _) => ScoringGetterFactory(column.Shape, source, transformer));

    /// <summary>
    /// Training pass <paramref name="pass"/>: each value (or, with a channel layout, each channel of a row) dropped with
    /// probability p, the mask keyed on (seed, pass, row id, slot or channel) and the column pair's position in the
    /// stage, so that two columns of one stage (or two outputs of one input) get independent masks; the first column's
    /// are those of a single-column stage.
    /// </summary>
    public static ColumnMapper Training(DataViewSchema inputSchema, DataViewSchema outputSchema, DropoutTransformer transformer, long pass) =>
        Create(inputSchema, transformer, (column, source, i) => TrainingGetterFactory(column, source, transformer, pass, i), outputSchema);

    private static ColumnMapper Create(DataViewSchema inputSchema, DropoutTransformer transformer, Func<CheckedColumn, int, int, Func<DataViewRow, Delegate>> factory, DataViewSchema? outputSchema = null)
    {
        var outputs = new OutputColumn[transformer.ColumnPairs.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            var pair = transformer.ColumnPairs[i];
            var input = inputSchema.GetColumnOrNull(pair.InputColumnName)
                ?? throw ColumnTypes.MissingColumn(pair.InputColumnName, nameof(inputSchema));
            var shape = ColumnTypes.Check(input.Type, input.Name, allowVariableSize: true, nameof(inputSchema));
            // Scoring checks the channels too, so a column the training pass cannot drop is refused at GetOutputSchema.
            var layout = ColumnLayouts.Resolve(input.Type, input.Name, transformer.ChannelLayout, transformer.ChannelCount, nameof(inputSchema));
            // A copy of the input at scoring time, so it keeps every annotation, as ML.NET's column copy does.
            outputs[i] = new OutputColumn(pair.OutputColumnName, input.Type, input.Annotations, input.Index, factory(new CheckedColumn(shape, layout), input.Index, i));
        }

        return new ColumnMapper(inputSchema, outputs, outputSchema);
    }

    /// <summary>An input column's checked shape and its channel layout (per slot without channels).</summary>
    private readonly record struct CheckedColumn(NumericColumnShape Shape, StatisticsLayout Layout);

    private static Func<DataViewRow, Delegate> ScoringGetterFactory(NumericColumnShape shape, int source, DropoutTransformer transformer)
    {
        double scale = transformer.Kind == DropoutKind.Standard ? 1.0 - transformer.DropProbability : 1.0;
        return shape switch
        {
            { IsDouble: false, IsVector: true } => row => ScaledGetters.Vector(row, source, (float)scale),
            { IsDouble: true, IsVector: true } => row => ScaledGetters.Vector(row, source, scale),
            { IsDouble: false } => row => ScaledGetters.Scalar(row, source, (float)scale),
            _ => row => ScaledGetters.Scalar(row, source, scale),
        };
    }

    private static Func<DataViewRow, Delegate> TrainingGetterFactory(CheckedColumn column, int source, DropoutTransformer transformer, long pass, int columnIndex)
    {
        uint threshold = DropoutMask.KeepThreshold(transformer.DropProbability);
        double scale = transformer.Kind == DropoutKind.Inverted ? 1.0 / (1.0 - transformer.DropProbability) : 1.0;
        ulong seed = (ulong)(uint)transformer.Seed;
        if (columnIndex > 0)
        {
            seed = DropoutMask.Key(seed, (ulong)columnIndex, 0xC0_1D_D0_9D_0C_0FUL); // the column's own stream
        }

        var layout = column.Layout;
        return column.Shape switch
        {
            { IsDouble: false, IsVector: true } => row => DroppedVector<float>(row, source, seed, pass, threshold, (float)scale, layout, NormalizationKernels.Dropout),
            { IsDouble: true, IsVector: true } => row => DroppedVector<double>(row, source, seed, pass, threshold, scale, layout, NormalizationKernels.Dropout),
            { IsDouble: false } => row => DroppedScalar(row, source, seed, pass, threshold, (float)scale),
            _ => row => DroppedScalar(row, source, seed, pass, threshold, scale),
        };
    }

    // Masks are keyed on the row's id, not its position: a shuffled or parallel cursor drops the same values of a row
    // as a plain cursor in the same pass.
    private static ulong RowKey(ulong seed, long pass, in DataViewRowId id) =>
        DropoutMask.Key(seed, (ulong)pass, id.Low ^ (id.High * 0x9E3779B97F4A7C15UL));

    /// <summary>A dense dropout kernel of one precision (the vectorised float one, or the double one).</summary>
    private delegate void DenseDropout<T>(ReadOnlySpan<T> x, Span<T> destination, ulong key, uint keepThreshold, T scale, uint firstIndex);

    // A dense row under its key: per slot (draw i for slot i), or per channel (draw c for channel c, in either layout).
    private static void DropDense<T>(ReadOnlySpan<T> x, Span<T> destination, ulong key, uint threshold, T scale, in StatisticsLayout layout, DenseDropout<T> perSlot)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (layout.Layout)
        {
            case ChannelLayout.ChannelsFirst:
                NormalizationKernels.DropoutPlanes(x, destination, layout.SpatialSize, key, threshold, scale);
                break;
            case ChannelLayout.ChannelsLast:
                NormalizationKernels.DropoutInterleaved(x, destination, layout.Units, key, threshold, scale);
                break;
            default:
                perSlot(x, destination, key, threshold, scale, 0);
                break;
        }
    }

    private static Delegate DroppedVector<T>(DataViewRow row, int source, ulong seed, long pass, uint threshold, T scale, StatisticsLayout layout, DenseDropout<T> perSlot)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var getter = row.GetGetter<VBuffer<T>>(row.Schema[source]);
        var idGetter = row.GetIdGetter();
        string columnName = row.Schema[source].Name;
        VBuffer<T> buffer = default;
        DataViewRowId id = default;
        ValueGetter<VBuffer<T>> dropped = (ref VBuffer<T> dst) =>
        {
            getter(ref buffer);
            if (!buffer.IsDense)
            {
                // The mask is keyed on the slot and the output keeps the indices: they must be a valid VBuffer's.
                SparseIndices.Check(buffer.GetIndices(), buffer.Length, columnName);
            }

            idGetter(ref id);
            ulong key = RowKey(seed, pass, id);
            var values = buffer.GetValues();
            var editor = VBufferEditor.Create(ref dst, buffer.Length, values.Length);
            if (buffer.IsDense)
            {
                DropDense(values, editor.Values, key, threshold, scale, layout, perSlot);
            }
            else
            {
                // Implicit zeros stay zero whether dropped or not; explicit values use their slot's (or channel's) draw.
                var indices = buffer.GetIndices();
                for (int k = 0; k < values.Length; k++)
                {
                    editor.Values[k] = DropoutMask.Keep(key, (uint)layout.UnitOf(indices[k]), threshold) ? values[k] * scale : T.Zero;
                }

                indices.CopyTo(editor.Indices);
            }

            dst = editor.Commit();
        };
        return dropped;
    }

    private static Delegate DroppedScalar<T>(DataViewRow row, int source, ulong seed, long pass, uint threshold, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var getter = row.GetGetter<T>(row.Schema[source]);
        var idGetter = row.GetIdGetter();
        DataViewRowId id = default;
        ValueGetter<T> dropped = (ref T dst) =>
        {
            getter(ref dst);
            idGetter(ref id);
            dst = DropoutMask.Keep(RowKey(seed, pass, id), 0, threshold) ? dst * scale : T.Zero;
        };
        return dropped;
    }
}
