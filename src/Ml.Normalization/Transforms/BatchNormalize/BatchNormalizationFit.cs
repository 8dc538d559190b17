using Microsoft.ML;
using Microsoft.ML.Runtime;
using Ml.Normalization.Fitting;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// The streaming fit: one cursor, in row order, over only the needed columns; memory O(slots) (O(channels) with channels). Progress goes to
/// <c>mlContext.Log</c> about once per second on long fits and to <see cref="BatchNormalizingEstimator.Options.Progress"/>
/// (<see cref="FitProgressTracker"/>), and through ML.NET's progress channel (which only its command-line host polls);
/// a summary ends the fit, and the environment's cancellation is checked every few batches.
/// </summary>
internal static class BatchNormalizationFit
{
    private const int CancellationCheckEveryBatches = 64;
    private const string ChannelName = "BatchNormalize";

    public sealed record Result(ColumnStatistics[] Statistics, long Batches, long Rows);

    /// <summary>Fits <paramref name="columns"/>, each from its <paramref name="states"/> entry (fresh, or a previous fit's to continue it; updated in place).</summary>
    public static Result Run(IHost host, IDataView input, InputOutputColumnPair[] columns, NumericColumnShape[] shapes, StatisticsLayout[] layouts, FitState[] states, BatchNormalizingEstimator.Options options)
    {
        var statistics = new ColumnStatistics[columns.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            statistics[i] = new ColumnStatistics(columns[i].InputColumnName, states[i], layouts[i].UnitName);
        }

        // A final batch counts if some column's rule counts it (whole-data statistics count every row, a final batch of one included).
        int smallestFinalBatch = statistics.Min(s => s.Rule.SmallestBatch);

        var weightColumn = options.ExampleWeightColumnName is { } weightName ? input.Schema[weightName] : (DataViewSchema.Column?)null;
        var needed = columns.Select(c => input.Schema[c.InputColumnName]).Concat(weightColumn is { } w ? [w] : []).DistinctBy(c => c.Index).ToArray();
        long rowsRead = 0, rowsUsed = 0, batches = 0;
        int inBatch = 0;
        var progress = new FitProgressTracker("BatchNormalize", input.GetRowCount(), options.Progress, message => MlNetEnvironment.Info(host, ChannelName, message));
        using (MlNetEnvironment.StartProgress(host, ChannelName, () => rowsRead))
        using (var cursor = input.GetRowCursor(needed))
        {
            var weights = weightColumn is { } wc ? ExampleWeights.Create(cursor, wc) : null;
            var fitters = new ColumnFitter[columns.Length];
            using var release = new FittersRelease(fitters);
            for (int i = 0; i < fitters.Length; i++)
            {
                fitters[i] = ColumnFitter.Create(cursor, input.Schema[columns[i].InputColumnName], shapes[i], layouts[i], statistics[i], weights?.Current);
            }

            while (cursor.MoveNext())
            {
                weights?.Read(rowsRead);
                foreach (var fitter in fitters)
                {
                    fitter.AddRow();
                }

                progress.Tick(++rowsRead);
                if (++inBatch == options.BatchSize)
                {
                    EndBatch(fitters, statistics, ref inBatch, ref batches, ref rowsUsed);
                    if (batches % CancellationCheckEveryBatches == 0)
                    {
                        MlNetEnvironment.CheckAlive(host);
                    }
                }
            }

            if (inBatch >= smallestFinalBatch)
            {
                EndBatch(fitters, statistics, ref inBatch, ref batches, ref rowsUsed);
            }

            for (int i = 0; i < fitters.Length; i++)
            {
                fitters[i].Complete(statistics[i]); // the sparse moments fold lazily: bring every slot up to date
                WarnIfCenteringSparse(host, fitters[i], columns[i], shapes[i], options);
            }
        }

        progress.Complete(rowsRead);

        if (rowsRead < 2)
        {
            throw new InvalidOperationException($"BatchNormalize needs at least 2 rows to fit its statistics; the training data has {rowsRead}.");
        }

        int emptyUnits = statistics.Sum(s => s.UnitsWithoutData);
        string unitName = layouts.Any(l => l.HasChannels) ? (layouts.All(l => l.HasChannels) ? "channel" : "slot or channel") : "slot";
        MlNetEnvironment.Info(host, ChannelName, $"BatchNormalize: fitted {columns.Length} column(s) on {rowsUsed} of {rowsRead} rows in {batches} mini-batches of up to {options.BatchSize} rows"
            + (emptyUnits > 0 ? $"; {emptyUnits} {unitName}(s) had no batch with 2 finite values and keep the initial statistics." : "."));
        return new Result(statistics, batches, rowsUsed);
    }

    /// <summary>Above this many slots, centering a sparse column is worth a warning: its output rows will be dense.</summary>
    internal const int DenseOutputWarningSlots = 10_000;

    private static void WarnIfCenteringSparse(IHost host, ColumnFitter fitter, InputOutputColumnPair column, NumericColumnShape shape, BatchNormalizingEstimator.Options options)
    {
        if (options.Center && fitter.SawSparseRows && shape.Size > DenseOutputWarningSlots)
        {
            MlNetEnvironment.Warning(host, ChannelName, $"BatchNormalize: input column '{column.InputColumnName}' is sparse with {shape.Size} slots; centering "
                + $"writes every output row dense. Set {nameof(BatchNormalizingEstimator.Options)}.{nameof(BatchNormalizingEstimator.Options.Center)} = false "
                + "to scale without centering and keep the rows sparse.");
        }
    }

    // Disposes the fitters made so far, when the fit ends or fails.
    private readonly struct FittersRelease(ColumnFitter[] fitters) : IDisposable
    {
        public void Dispose()
        {
            foreach (var fitter in fitters)
            {
                fitter?.Dispose();
            }
        }
    }

    private static void EndBatch(ColumnFitter[] fitters, ColumnStatistics[] statistics, ref int inBatch, ref long batches, ref long rowsUsed)
    {
        for (int i = 0; i < fitters.Length; i++)
        {
            fitters[i].EndBatch(statistics[i]);
        }

        batches++;
        rowsUsed += inBatch;
        inBatch = 0;
    }
}
