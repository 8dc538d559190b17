namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>Combines the fit states of consecutive shards (<see cref="BatchNormalizingTransformer.Merge"/>).</summary>
internal static class FitMerge
{
    private const string ParamName = "shards";

    /// <summary>Column <paramref name="index"/> of every shard, merged in order; <paramref name="columnCounts"/> are the shards' column counts.</summary>
    public static BatchNormalizationParameters Column(BatchNormalizationParameters?[] shards, int index, int[] columnCounts)
    {
        var first = shards[0]!;
        for (int k = 0; k < shards.Length; k++)
        {
            if (columnCounts[k] != columnCounts[0])
            {
                throw new ArgumentException($"Shard {k} has {columnCounts[k]} column(s), shard 0 {columnCounts[0]}.", ParamName);
            }

            var s = shards[k]!;
            string? difference =
                s.OutputColumnName != first.OutputColumnName || s.InputColumnName != first.InputColumnName ? $"columns ('{s.OutputColumnName}' from '{s.InputColumnName}' against '{first.OutputColumnName}' from '{first.InputColumnName}')"
                : s.ChannelLayout != first.ChannelLayout || s.UnitCount != first.UnitCount ? $"sizes ({s.UnitCount} units, {s.ChannelLayout}, against {first.UnitCount}, {first.ChannelLayout})"
                : s.Epsilon != first.Epsilon ? "Epsilon"
                : s.Centered != first.Centered ? "Center option"
                : !s.Gamma.SequenceEqual(first.Gamma) ? "Gamma"
                : !s.Beta.SequenceEqual(first.Beta) ? "Beta"
                : null;
            if (difference is not null)
            {
                throw new ArgumentException($"Shard {k}'s column {index} differs from shard 0's in its {difference}.", ParamName);
            }

            if (s.FitState is not { } state)
            {
                throw new ArgumentException($"Shard {k}'s column '{s.OutputColumnName}' has no fit state to merge: it was made from known parameters.", ParamName);
            }

            if (state.Rule.Difference(first.FitState!.Rule) is var (option, mine, firsts))
            {
                throw new ArgumentException($"Shard {k}'s column '{s.OutputColumnName}' was fitted with {option} = {mine}, shard 0's with {firsts}; shards merge only with the same statistics options.", ParamName);
            }
        }

        var merged = first.FitState!.Copy();
        for (int k = 1; k < shards.Length; k++)
        {
            merged.Combine(shards[k]!.FitState!);
        }

        string unitName = first.ChannelLayout == ChannelLayout.None ? "slot" : "channel";
        var (mean, variance) = first.Centered ? merged.Finish(first.InputColumnName, unitName) : (null, merged.FinishVariance(first.InputColumnName, unitName));
        return new BatchNormalizationParameters(first.OutputColumnName, first.InputColumnName, mean, variance, first.GammaValues, first.BetaValues, first.Epsilon,
            shards.Sum(s => s!.BatchCount), shards.Sum(s => s!.RowCount), first.ChannelLayout, merged, first.Centered);
    }
}
