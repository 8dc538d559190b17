using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;
using Ml.Normalization.Kernels;
using Ml.Normalization.MlNetInterop;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// Getters of centering BatchNormalize (and of its inverse): <c>y = (x - Mean) * Scale + Offset</c>, or a pure
/// standardization's <c>y = (x - Mean) / Scale</c> (<see cref="AffineParameters{T}.Divides"/>), per slot, per channel
/// plane (channels first) or per period of interleaved channels (channels last). Output rows are dense.
/// </summary>
/// <remarks>
/// Which map a getter applies is fixed when its cursor is made (the parameters' layout and form do not change), so each
/// case is its own delegate with no per-row branching; only a per-slot multiply reads <see cref="AffineParameters{T}.Rescale"/>
/// per row, as the training view may add it at a mini-batch. The values are read per row too: the training view rewrites
/// them in place. Rows are normalized into the caller's buffer, from where the source wrote them there or from the user's
/// own array (<see cref="DenseRowReader{T}"/>).
/// </remarks>
internal static class CenteredGetters
{
    public static Delegate Vector<T>(DataViewRow row, int sourceIndex, StatisticsLayout layout, AffineParameters<T> affine)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mean, scale, offset) = (affine.Mean, affine.Scale, affine.Offset);
        var column = row.Schema[sourceIndex];
        var reader = new DenseRowReader<T>(row.GetGetter<VBuffer<T>>(column), InMemoryRows.TryOpen<T>(row, column), layout.Slots, column.Name);
        int slots = layout.Slots;
        if (mean.Length != slots && layout.Layout == ChannelLayout.ChannelsFirst)
        {
            // One entry per channel, channels first: each plane with its channel's scalars (the same roundings).
            int plane = slots / mean.Length;
            return affine.Divides
                ? (ValueGetter<VBuffer<T>>)((ref VBuffer<T> dst) =>
                {
                    var values = reader.Read(ref dst, out var source);
                    StandardizePlanes(source, values, plane, mean, scale);
                })
                : (ValueGetter<VBuffer<T>>)((ref VBuffer<T> dst) =>
                {
                    var values = reader.Read(ref dst, out var source);
                    NormalizePlanes(source, values, plane, mean, scale, offset);
                });
        }

        if (mean.Length != slots)
        {
            // One period of the interleaved channels, channels last: the parameters repeat along the row, which is
            // walked as one span (the same roundings, with parameters that stay in L1 instead of three row-long arrays).
            return affine.Divides
                ? (ValueGetter<VBuffer<T>>)((ref VBuffer<T> dst) =>
                {
                    var values = reader.Read(ref dst, out var source);
                    NormalizationKernels.StandardizeInterleaved<T>(source, mean, scale, values);
                })
                : (ValueGetter<VBuffer<T>>)((ref VBuffer<T> dst) =>
                {
                    var values = reader.Read(ref dst, out var source);
                    NormalizationKernels.NormalizeInterleaved<T>(source, mean, scale, offset, values);
                });
        }

        if (affine.Divides)
        {
            return (ValueGetter<VBuffer<T>>)((ref VBuffer<T> dst) =>
            {
                var values = reader.Read(ref dst, out var source);
                NormalizationKernels.Standardize<T>(source, mean, scale, values);
            });
        }

        return (ValueGetter<VBuffer<T>>)((ref VBuffer<T> dst) =>
        {
            var values = reader.Read(ref dst, out var source);
            if (affine.Rescale is { } rescale)
            {
                NormalizationKernels.NormalizeRescaled<T>(source, mean, scale, rescale, offset, values);
            }
            else
            {
                NormalizationKernels.Normalize<T>(source, mean, scale, offset, values);
            }
        });
    }

    public static Delegate Scalar<T>(DataViewRow row, int sourceIndex, AffineParameters<T> affine)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mean, scale, offset) = (affine.Mean, affine.Scale, affine.Offset);
        var source = row.GetGetter<T>(row.Schema[sourceIndex]);
        T value = default;
        return affine.Divides
            ? (ValueGetter<T>)((ref T dst) =>
            {
                source(ref value);
                dst = (value - mean[0]) / scale[0];
            })
            : (ValueGetter<T>)((ref T dst) =>
            {
                source(ref value);
                dst = affine.Rescale is { } rescale ? (((value - mean[0]) * scale[0]) * rescale[0]) + offset[0]
                    : ((value - mean[0]) * scale[0]) + offset[0];
            });
    }

    private static void StandardizePlanes<T>(ReadOnlySpan<T> row, Span<T> destination, int plane, T[] mean, T[] std)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int c = 0; c < mean.Length; c++)
        {
            NormalizationKernels.StandardizePlane(row.Slice(c * plane, plane), mean[c], std[c], destination.Slice(c * plane, plane));
        }
    }

    private static void NormalizePlanes<T>(ReadOnlySpan<T> row, Span<T> destination, int plane, T[] mean, T[] scale, T[] offset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int c = 0; c < mean.Length; c++)
        {
            NormalizationKernels.NormalizePlane(row.Slice(c * plane, plane), mean[c], scale[c], offset[c], destination.Slice(c * plane, plane));
        }
    }
}
