namespace Ml.Normalization.Fitting;

/// <summary>
/// Which statistics unit each slot of a column belongs to: the slot itself (<see cref="ChannelLayout.None"/>), or its
/// channel, slots being <c>[Units, SpatialSize]</c> (channels first) or <c>[SpatialSize, Units]</c> (channels last).
/// </summary>
/// <param name="Layout">The layout.</param>
/// <param name="Units">The statistics kept: slots, or channels.</param>
/// <param name="SpatialSize">Slots per channel (1 without channels).</param>
internal readonly record struct StatisticsLayout(ChannelLayout Layout, int Units, int SpatialSize)
{
    public int Slots => Units * SpatialSize;

    public bool HasChannels => Layout != ChannelLayout.None;

    public static StatisticsLayout PerSlot(int slots) => new(ChannelLayout.None, slots, 1);

    /// <summary>The unit of slot <paramref name="slot"/>.</summary>
    public int UnitOf(int slot) => Layout switch
    {
        ChannelLayout.ChannelsFirst => slot / SpatialSize,
        ChannelLayout.ChannelsLast => slot % Units,
        _ => slot,
    };

    /// <summary>"slot" or "channel", for messages.</summary>
    public string UnitName => HasChannels ? "channel" : "slot";
}
