using Ml.Normalization.Kernels;

namespace Ml.Normalization.Layers;

/// <summary>The shape check of the NCHW layers (<see cref="SpatialBatchNormLayer"/>, <see cref="ChannelDropoutLayer"/>).</summary>
internal static class NchwShape
{
    /// <summary>The length of a batch x <paramref name="channels"/> x spatialSize block, once its sizes are valid.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> or <paramref name="spatialSize"/> is less
    /// than 1, or the block's length does not fit an Int32.</exception>
    public static int Length(int batch, int channels, int spatialSize)
    {
        if (batch < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(batch), batch, "at least 1");
        }

        if (spatialSize < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(spatialSize), spatialSize, "at least 1");
        }

        long length = (long)batch * channels * spatialSize;
        if (length > int.MaxValue)
        {
            ThrowHelper.ThrowOutOfRange(nameof(batch), batch, $"such that batch x channels x spatialSize fits an Int32 (channels {channels}, spatialSize {spatialSize})");
        }

        return (int)length;
    }
}
