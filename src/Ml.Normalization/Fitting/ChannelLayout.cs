namespace Ml.Normalization;

/// <summary>How a column's slots map to channels: the units BatchNormalize keeps its statistics for, and Dropout draws its masks for.</summary>
/// <remarks>
/// With channels, a vector column of C x S slots (S spatial positions, e.g. H x W pixels) has one mean, variance, gamma
/// and beta per channel in BatchNormalize, taken over the batch's rows x S values of that channel: PyTorch's
/// <c>BatchNorm2d</c> (and <c>BatchNorm1d</c> on (N, C, L) input); and one dropout draw per row and channel in Dropout,
/// PyTorch's <c>Dropout2d</c>. The channel count comes from the column's dimensions when it has them
/// (<c>[C, H, W]</c> for <see cref="ChannelsFirst"/>, <c>[H, W, C]</c> for <see cref="ChannelsLast"/>), or from the option
/// that gives it; both given must agree.
/// </remarks>
public enum ChannelLayout
{
    /// <summary>No channels: statistics (and dropout draws) per slot, as <c>BatchNorm1d</c> on (N, D) input.</summary>
    None = 0,

    /// <summary>Slots are <c>[C, H, W]</c> (planar): what <c>ExtractPixels</c> writes with <c>interleavePixelColors: false</c>, PyTorch's NCHW.</summary>
    ChannelsFirst = 1,

    /// <summary>Slots are <c>[H, W, C]</c> (interleaved): what <c>ExtractPixels</c> writes with <c>interleavePixelColors: true</c>, NHWC.</summary>
    ChannelsLast = 2,
}
