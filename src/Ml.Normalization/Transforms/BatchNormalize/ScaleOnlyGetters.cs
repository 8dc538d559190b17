using System.Numerics;
using System.Numerics.Tensors;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// Getters of scale-only BatchNormalize (<see cref="BatchNormalizationParameters.Centered"/> false): <c>y = x * Scale</c>
/// per slot (then <c>* Rescale</c> for a scale beyond the type's range), no mean, no offset. Sparse rows stay sparse with
/// the same indices, dense rows stay dense; NaN stays NaN. The same products as ONNX's <c>Mul</c>, bit for bit. Rows of a
/// user's arrays (<see cref="InMemoryRows"/>) are read in place.
/// </summary>
internal static class ScaleOnlyGetters
{
    public static Func<DataViewRow, Delegate> Create(int sourceIndex, NumericColumnShape shape, Func<AffineParameters> affineOf) => shape switch
    {
        { IsDouble: false, IsVector: true } => row => Vector(row, sourceIndex, (AffineParameters<float>)affineOf()),
        { IsDouble: true, IsVector: true } => row => Vector(row, sourceIndex, (AffineParameters<double>)affineOf()),
        { IsDouble: false } => row => Scalar(row, sourceIndex, (AffineParameters<float>)affineOf()),
        _ => row => Scalar(row, sourceIndex, (AffineParameters<double>)affineOf()),
    };

    private static Delegate Vector<T>(DataViewRow row, int sourceIndex, AffineParameters<T> affine)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scale = affine.Scale;
        var source = row.GetGetter<VBuffer<T>>(row.Schema[sourceIndex]);
        string columnName = row.Schema[sourceIndex].Name;
        if (InMemoryRows.TryOpen<T>(row, row.Schema[sourceIndex]) is { } rows)
        {
            return FromUsersArrays(rows, columnName, affine);
        }

        VBuffer<T> buffer = default;
        ValueGetter<VBuffer<T>> getter = (ref VBuffer<T> dst) =>
        {
            source(ref buffer);
            if (buffer.Length != scale.Length)
            {
                throw new InvalidOperationException($"BatchNormalize: column '{columnName}' gave a vector of {buffer.Length} slots, the model has {scale.Length}.");
            }

            var values = buffer.GetValues();
            var rescale = affine.Rescale; // read per row: the training view rewrites the parameters at each mini-batch
            if (buffer.IsDense)
            {
                var editor = VBufferEditor.Create(ref dst, buffer.Length);
                TensorPrimitives.Multiply(values, scale, editor.Values);
                if (rescale is not null)
                {
                    TensorPrimitives.Multiply(editor.Values, rescale, editor.Values);
                }

                dst = editor.Commit();
            }
            else
            {
                var indices = buffer.GetIndices();
                GatherPrefetch.Entries(scale, indices);
                var editor = VBufferEditor.Create(ref dst, buffer.Length, values.Length);
                var output = editor.Values;
                int previous = -1;
                for (int i = 0; i < values.Length; i++)
                {
                    // Checked in this pass: the indices are kept, so they must be a valid VBuffer's (SparseIndices).
                    int j = indices[i];
                    if (!SparseIndices.Follows(previous, j, scale.Length))
                    {
                        SparseIndices.Throw(previous, j, scale.Length, columnName);
                    }

                    output[i] = rescale is null ? values[i] * scale[j] : (values[i] * scale[j]) * rescale[j];
                    previous = j;
                }

                indices.CopyTo(editor.Indices);
                dst = editor.Commit();
            }
        };
        return getter;
    }

    // Dense rows read in place from the user's arrays (InMemoryRows), without the getter's copy: the same products.
    private static ValueGetter<VBuffer<T>> FromUsersArrays<T>(InMemoryColumn<T> rows, string columnName, AffineParameters<T> affine)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var scale = affine.Scale;
        return (ref VBuffer<T> dst) =>
        {
            ReadOnlySpan<T> values = rows.Current;
            if (values.Length != scale.Length)
            {
                throw new InvalidOperationException($"BatchNormalize: column '{columnName}' gave a vector of {values.Length} slots, the model has {scale.Length}.");
            }

            var editor = VBufferEditor.Create(ref dst, values.Length);
            TensorPrimitives.Multiply(values, scale, editor.Values);
            if (affine.Rescale is { } rescale)
            {
                TensorPrimitives.Multiply(editor.Values, rescale, editor.Values);
            }

            dst = editor.Commit();
        };
    }

    private static Delegate Scalar<T>(DataViewRow row, int sourceIndex, AffineParameters<T> affine)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var source = row.GetGetter<T>(row.Schema[sourceIndex]);
        T value = default;
        ValueGetter<T> getter = (ref T dst) =>
        {
            source(ref value);
            dst = affine.Rescale is { } rescale ? (value * affine.Scale[0]) * rescale[0] : value * affine.Scale[0];
        };
        return getter;
    }
}
