using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Transforms.Stages;

/// <summary>Getters of <c>y = scale * x</c> over one input column, built once per cursor; sparse rows stay sparse.</summary>
internal static class ScaledGetters
{
    /// <summary>A vector column (dense or sparse). A scale of 1 returns the input's own getter.</summary>
    public static Delegate Vector<T>(DataViewRow row, int source, T scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var getter = row.GetGetter<VBuffer<T>>(row.Schema[source]);
        if (scale == T.One)
        {
            return getter; // the identity: the input's own getter copies into the output buffer
        }

        VBuffer<T> buffer = default;
        ValueGetter<VBuffer<T>> scaled = (ref VBuffer<T> dst) =>
        {
            getter(ref buffer);
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
