namespace Ml.Normalization.Transforms;

/// <summary>Combines the fit states of disjoint shards (<see cref="BatchNormalizingTransformer.Merge"/>).</summary>
internal static class FitMerge
{
    private const string ParamName = "shards";

    /// <summary>Column <paramref name="index"/> of every shard, merged; <paramref name="columnCounts"/> are the shards' column counts.</summary>
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
                throw new ArgumentException($"Shard {k}'s column '{s.OutputColumnName}' has no fit state to merge: it was built from given parameters or loaded from a model saved before format 0x00010005.", ParamName);
            }

            if (state.Kind == StatisticsKind.Running && state.Momentum is double m)
            {
                throw new ArgumentException($"Shard {k}'s column '{s.OutputColumnName}' was fitted with Momentum = {m}: the order of the batches matters there, so momentum fits do not merge. Fit the shards with WholeDataStatistics or Momentum = null.", ParamName);
            }

            var f = first.FitState!;
            if (state.Kind != f.Kind || state.UnbiasedVariance != f.UnbiasedVariance || !state.InitialMean.SequenceEqual(f.InitialMean) || !state.InitialVariance.SequenceEqual(f.InitialVariance))
            {
                throw new ArgumentException($"Shard {k}'s column '{s.OutputColumnName}' was fitted with other statistics options than shard 0's (WholeDataStatistics, UnbiasedRunningVariance or the initial values).", ParamName);
            }
        }

        var states = shards.Select(s => s!.FitState!).ToArray();
        var merged = states[0].Copy();
        for (int k = 1; k < states.Length; k++)
        {
            Fold(merged, states[k]);
        }

        var (mean, variance) = RunningStatistics.Finish(merged, first.InputColumnName, first.ChannelLayout == ChannelLayout.None ? "slot" : "channel");
        return new BatchNormalizationParameters(first.OutputColumnName, first.InputColumnName, mean, variance, [.. first.Gamma], [.. first.Beta], first.Epsilon,
            shards.Sum(s => s!.BatchCount), shards.Sum(s => s!.RowCount), first.ChannelLayout, merged, first.Centered);
    }

    /// <summary>Folds <paramref name="other"/> into <paramref name="into"/>, unit by unit.</summary>
    private static void Fold(FitState into, FitState other)
    {
        for (int j = 0; j < into.Units; j++)
        {
            double a = into.Count[j], b = other.Count[j];
            if (b == 0)
            {
                continue;
            }

            if (into.Kind == StatisticsKind.WholeData)
            {
                RunningStatistics.CombineMoments(ref into.Count[j], ref into.Mean[j], ref into.Second[j], b, other.Mean[j], other.Second[j]);
            }
            else
            {
                // The plain average of the batches: weighted by each side's batch count.
                double total = a + b;
                into.Mean[j] = a == 0 ? other.Mean[j] : ((a * into.Mean[j]) + (b * other.Mean[j])) / total;
                into.Second[j] = a == 0 ? other.Second[j] : ((a * into.Second[j]) + (b * other.Second[j])) / total;
                into.Count[j] = total;
            }
        }
    }
}
