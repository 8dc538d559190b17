using Microsoft.ML;
using Microsoft.ML.Data;
using Ml.Normalization.Fitting;
using Ml.Normalization.Kernels;

namespace Ml.Normalization.Transforms.Stages;

/// <summary>
/// The channel options every stage shares (<see cref="ChannelLayout"/> and a channel count, 0 for "from the column's
/// dimensions"): their check, and the <see cref="StatisticsLayout"/> of an input column from its ML.NET type and them.
/// BatchNormalize keeps its statistics per unit of the layout; Dropout draws its masks per unit.
/// </summary>
internal static class ColumnLayouts
{
    /// <summary>Checks the options: a defined layout, and a channel count that is 0, or positive with a layout.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Either is out of range; ParamName is its option's name.</exception>
    public static void CheckOptions(ChannelLayout layout, int channelCount, string layoutName, string channelCountName)
    {
        if (!Enum.IsDefined(layout))
        {
            ThrowHelper.ThrowOutOfRange(layoutName, layout, "None, ChannelsFirst or ChannelsLast");
        }

        if (channelCount < 0 || (channelCount > 0 && layout == ChannelLayout.None))
        {
            ThrowHelper.ThrowOutOfRange(channelCountName, channelCount, "0 (from the column's dimensions), or positive with a ChannelLayout");
        }
    }

    /// <summary>
    /// With channels, refuses an estimator's input column that is not a vector of known size (a scalar, or a vector of
    /// variable size); the channel count is checked against the vector at Fit, where its size is known.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The column cannot have channels; the message names it.</exception>
    public static void CheckShape(SchemaShape.Column input, ChannelLayout layout, string paramName)
    {
        if (layout != ChannelLayout.None && input.Kind != SchemaShape.Column.VectorKind.Vector)
        {
            throw ColumnTypes.Mismatch(input.Name, $"a known-size vector of Single or Double with channels ({layout})",
                input.Kind == SchemaShape.Column.VectorKind.Scalar ? input.ItemType.ToString() : $"VarVector<{input.ItemType}>", paramName);
        }
    }

    /// <summary>
    /// The layout of input column <paramref name="columnName"/> of type <paramref name="type"/> in
    /// <paramref name="layout"/>, with <paramref name="channelCount"/> channels (0: from the column's dimensions).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The column is not a known-size vector, has no dimensions to take the
    /// channel count from, has dimensions that contradict the channel count, or has a size the channel count does not
    /// divide; the message names the column, what was expected and what it is.</exception>
    public static StatisticsLayout Resolve(DataViewType type, string columnName, ChannelLayout layout, int channelCount, string paramName)
    {
        if (layout == ChannelLayout.None)
        {
            return StatisticsLayout.PerSlot(type is VectorDataViewType v ? v.Size : 1);
        }

        if (type is not VectorDataViewType { IsKnownSize: true } vector)
        {
            throw ColumnTypes.Mismatch(columnName, $"a known-size vector of Single or Double with channels ({layout})", type.ToString(), paramName);
        }

        var dimensions = vector.Dimensions;
        int fromDimensions = dimensions.Length < 2 ? 0 : layout == ChannelLayout.ChannelsFirst ? dimensions[0] : dimensions[^1];
        if (channelCount == 0 && fromDimensions == 0)
        {
            throw ColumnTypes.Mismatch(columnName,
                $"a vector with dimensions ([C, H, W] or [H, W, C]) to take the channel count from, or set ChannelCount", Describe(vector), paramName);
        }

        if (channelCount != 0 && fromDimensions != 0 && channelCount != fromDimensions)
        {
            string position = layout == ChannelLayout.ChannelsFirst ? "first" : "last";
            throw ColumnTypes.Mismatch(columnName,
                $"{channelCount} channels as the {position} dimension ({layout})", $"{Describe(vector)}, whose {position} dimension is {fromDimensions}", paramName);
        }

        int channels = channelCount != 0 ? channelCount : fromDimensions;
        if (vector.Size % channels != 0)
        {
            throw ColumnTypes.Mismatch(columnName,
                $"a vector whose size is a multiple of its {channels} channels", $"{Describe(vector)} of {vector.Size} slots", paramName);
        }

        return new StatisticsLayout(layout, channels, vector.Size / channels);
    }

    // ML.NET's own spelling, dimensions included: Vector<Single, 3, 224, 224>.
    private static string Describe(VectorDataViewType vector) => vector.ToString();
}
