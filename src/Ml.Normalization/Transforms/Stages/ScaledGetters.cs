using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;

namespace Ml.Normalization.Transforms.Stages;

/// <summary>
/// Getters of <c>y = scale * x</c> over one input column, built once per cursor; sparse rows stay sparse, with their
/// indices checked (<see cref="SparseIndices"/>: the output keeps them, so they must be a valid VBuffer's).
/// </summary>
internal static class ScaledGetters
{
    /// <summary>A vector column (dense or sparse). A scale of 1 copies the input with its own getter.</summary>
    public static Delegate Vector<T>(DataViewRow row, int source, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var getter = row.GetGetter<VBuffer<T>>(row.Schema[source]);
        string columnName = row.Schema[source].Name;
        if (scale == T.One)
        {
            // The identity: the input's own getter copies into the output buffer.
            ValueGetter<VBuffer<T>> copied = (ref VBuffer<T> dst) =>
            {
                getter(ref dst);
                if (!dst.IsDense)
                {
                    SparseIndices.Check(dst.GetIndices(), dst.Length, columnName);
                }
            };
            return copied;
        }

        VBuffer<T> buffer = default;
        ValueGetter<VBuffer<T>> scaled = (ref VBuffer<T> dst) =>
        {
            getter(ref buffer);
            if (!buffer.IsDense)
            {
                SparseIndices.Check(buffer.GetIndices(), buffer.Length, columnName);
            }

            var values = buffer.GetValues();
            var editor = VBufferEditor.Create(ref dst, buffer.Length, values.Length);
            System.Numerics.Tensors.TensorPrimitives.Multiply(values, scale, editor.Values);
            if (!buffer.IsDense)
            {
                buffer.GetIndices().CopyTo(editor.Indices);
            }

            dst = editor.Commit();
        };
        return scaled;
    }

    /// <summary>A scalar column. A scale of 1 returns the input's own getter.</summary>
    public static Delegate Scalar<T>(DataViewRow row, int source, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var getter = row.GetGetter<T>(row.Schema[source]);
        if (scale == T.One)
        {
            return getter;
        }

        ValueGetter<T> scaled = (ref T dst) =>
        {
            getter(ref dst);
            dst *= scale;
        };
        return scaled;
    }
}
