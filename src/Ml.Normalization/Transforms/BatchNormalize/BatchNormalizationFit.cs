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
    public static Result Run(IHost host, IDataView input, InputOutputColumnPair[] columns, NumericColumnShape[] shapes, StatisticsLayout[] layouts, FitState[] states,
        BatchNormalizingEstimator.Options options, Func<FitState[]> freshStates)
    {
        var needed = Needed(input, columns, options);
        var chunks = Chunks(input, needed, states, options);
        var progress = new SharedProgress(new FitProgressTracker("BatchNormalize", input.GetRowCount(), options.Progress, message => MlNetEnvironment.Info(host, ChannelName, message)));
        var results = new ChunkResult[chunks.Length];
        using (MlNetEnvironment.StartProgress(host, ChannelName, () => progress.RowsRead))
        {
            if (chunks.Length == 1)
            {
                results[0] = FitChunk(host, chunks[0], needed, columns, shapes, layouts, states, options, progress, warn: true);
            }
            else
            {
                // Chunk 0 continues the given states; the others start fresh, as shards do, and are combined after it in
                // row order (StatisticsRule.Combine), once every chunk is done.
                var chunkStates = new FitState[chunks.Length][];
                chunkStates[0] = states;
                try
                {
                    for (int k = 1; k < chunks.Length; k++)
                    {
                        for (int i = 0; i < columns.Length; i++)
                        {
                            FitMemory.Ensure(columns[i].InputColumnName, layouts[i].Units, layouts[i].UnitName, FitMemory.StateBytes, $"the fit state of thread {k + 1}");
                        }

                        chunkStates[k] = freshStates();
                    }
                }
                catch
                {
                    foreach (var chunk in chunks)
                    {
                        chunk.Cursor?.Dispose(); // a cursor of a set, made before the fit knew it could not hold the states
                    }

                    throw;
                }

                RunInParallel(chunks.Length, k => results[k] = FitChunk(host, chunks[k], needed, columns, shapes, layouts, chunkStates[k], options, progress, warn: k == 0));
                for (int k = 1; k < chunks.Length; k++)
                {
                    for (int i = 0; i < columns.Length; i++)
                    {
                        states[i].Combine(chunkStates[k][i]);
                    }
                }
            }
        }

        long rowsRead = results.Sum(r => r.RowsRead), rowsUsed = results.Sum(r => r.RowsUsed), batches = results.Sum(r => r.Batches);
        progress.Complete(rowsRead);
        if (rowsRead < 2)
        {
            throw new InvalidOperationException($"BatchNormalize needs at least 2 rows to fit its statistics; the training data has {rowsRead}.");
        }

        var statistics = results[0].Statistics;
        int emptyUnits = statistics.Sum(s => s.UnitsWithoutData);
        string unitName = layouts.Any(l => l.HasChannels) ? (layouts.All(l => l.HasChannels) ? "channel" : "slot or channel") : "slot";
        MlNetEnvironment.Info(host, ChannelName, $"BatchNormalize: fitted {columns.Length} column(s) on {rowsUsed} of {rowsRead} rows in {batches} mini-batches of up to {options.BatchSize} rows"
            + (chunks.Length > 1 ? $", on {chunks.Length} threads" : "")
            + (emptyUnits > 0 ? $"; {emptyUnits} {unitName}(s) had no batch with 2 finite values and keep the initial statistics." : "."));
        return new Result(statistics, batches, rowsUsed);
    }

    private static DataViewSchema.Column[] Needed(IDataView input, InputOutputColumnPair[] columns, BatchNormalizingEstimator.Options options) =>
        [.. columns.Select(c => input.Schema[c.InputColumnName])
            .Concat(options.ExampleWeightColumnName is { } weightName ? [input.Schema[weightName]] : [])
            .DistinctBy(c => c.Index)];

    /// <summary>
    /// What the fit reads, with <see cref="BatchNormalizingEstimator.Options.NumberOfThreads"/> of 2 or more: a source
    /// that splits itself (ML.NET's transforms and loaders give several cursors, fed by worker threads) is read through
    /// those cursors, one per thread, when no column's rule depends on how rows form batches (whole data), else on one cursor, which
    /// ML.NET already feeds from every core (skipping rows of such a source computes them); ML.NET's cache, and any
    /// other source that knows its row count, is read in that many consecutive row ranges of whole batches (the last takes the rest, and the final
    /// partial batch with it), fewer when there are fewer batches than threads; a range of a user's array loaded from an
    /// enumerable is a view of that range alone (<see cref="InMemoryRows.TrySlice"/>), the others step over the rows before it.
    /// </summary>
    private static Chunk[] Chunks(IDataView input, DataViewSchema.Column[] needed, FitState[] states, BatchNormalizingEstimator.Options options)
    {
        int threads = options.NumberOfThreads ?? 1;
        if (threads < 2)
        {
            return [new Chunk(input, 0)];
        }

        var set = input.GetRowCursorSet(needed, threads);
        if (set.Length > 1 && states.All(s => s.Rule.IgnoresBatches))
        {
            return [.. set.Select(cursor => new Chunk(input, FirstRow: null, cursor))];
        }

        foreach (var cursor in set)
        {
            cursor.Dispose();
        }

        if ((set.Length > 1 && !CachedRows.Holds(input)) || input.GetRowCount() is not long rows)
        {
            return [new Chunk(input, 0)];
        }

        long batches = rows / options.BatchSize;
        int count = (int)Math.Min(threads, batches);
        if (count < 2)
        {
            return [new Chunk(input, 0)];
        }

        var chunks = new Chunk[count];
        long start = 0;
        bool sliced = InMemoryRows.CanSlice(input);
        var batchesPerChunk = ChunkBatches(batches, count, sliced ? 0 : SkipCost);
        for (int k = 0; k < count; k++)
        {
            long length = k == count - 1 ? rows - start : batchesPerChunk[k] * options.BatchSize;
            chunks[k] = new Chunk((sliced ? InMemoryRows.TrySlice(input, start, length) : null) ?? new RowRangeView(input, start, length), start);
            start += length;
        }

        return chunks;
    }

    // What stepping over a row without reading it costs, as a share of fitting it: measured on 1M x 64 floats, 6 ns
    // against 42 ns for data loaded from an enumerable (1 ns against ~35 ns for ML.NET's cache).
    internal const double SkipCost = 0.14;

    /// <summary>
    /// How many of <paramref name="batches"/> each of <paramref name="count"/> chunks takes (at least one each): chunk k
    /// first steps over the rows of the chunks before it, at <paramref name="skipCost"/> of fitting each, so it takes that
    /// much less for every thread to finish at about the same time (with 2 threads and <see cref="SkipCost"/>, 54% and
    /// 46%; a slice of a user's array steps over nothing, 0, and the chunks are even).
    /// </summary>
    internal static long[] ChunkBatches(long batches, int count, double skipCost = SkipCost)
    {
        var weights = new double[count];
        double before = 0;
        for (int k = 0; k < count; k++)
        {
            weights[k] = Math.Max(1 - (skipCost * before), 0.1);
            before += weights[k];
        }

        var result = new long[count];
        long given = 0;
        for (int k = 0; k < count; k++)
        {
            result[k] = k == count - 1 ? batches - given : Math.Clamp((long)Math.Round(batches * weights[k] / before), 1, batches - given - (count - 1 - k));
            given += result[k];
        }

        return result;
    }

    // Runs the chunks on the calling thread and thread-pool threads: Parallel.For on the default scheduler, whatever the
    // caller's. The caller takes any chunk no pool thread has started, so the fit never waits for one, and no thread is
    // created per fit (a new thread took 0.7 ms to start on this project's 2-core VM, 4% of a 2-thread fit of 1M x 64).
    // Each chunk reads its rows and runs the upstream transforms' getters on the thread that took it. The lowest
    // chunk's exception is rethrown as it was thrown, so a refused row fails the fit as it does on one thread.
    private static void RunInParallel(int chunks, Action<int> fit)
    {
        var errors = new System.Runtime.ExceptionServices.ExceptionDispatchInfo?[chunks];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = chunks, TaskScheduler = TaskScheduler.Default }, chunk =>
        {
            try
            {
                fit(chunk);
            }
            catch (Exception e)
            {
                errors[chunk] = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
        });

        errors.FirstOrDefault(e => e is not null)?.Throw();
    }

    /// <summary>
    /// The rows one thread reads: <paramref name="View"/>'s, or those of a <paramref name="Cursor"/> of its cursor set; and the
    /// source's index of the first (errors name rows of the whole source), null for a cursor of a set, whose rows are the
    /// source's in an order of ML.NET's choosing.
    /// </summary>
    private sealed record Chunk(IDataView View, long? FirstRow, DataViewRowCursor? Cursor = null);

    private sealed record ChunkResult(ColumnStatistics[] Statistics, long Batches, long RowsUsed, long RowsRead);

    private static ChunkResult FitChunk(IHost host, Chunk chunk, DataViewSchema.Column[] needed, InputOutputColumnPair[] columns, NumericColumnShape[] shapes, StatisticsLayout[] layouts, FitState[] states,
        BatchNormalizingEstimator.Options options, SharedProgress progress, bool warn)
    {
        var input = chunk.View;
        var statistics = new ColumnStatistics[columns.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            statistics[i] = new ColumnStatistics(columns[i].InputColumnName, states[i], layouts[i].UnitName);
        }

        // A final batch counts if some column's rule counts it (whole-data statistics count every row, a final batch of one included).
        int smallestFinalBatch = statistics.Min(s => s.Rule.SmallestBatch);

        var weightColumn = options.ExampleWeightColumnName is { } weightName ? input.Schema[weightName] : (DataViewSchema.Column?)null;
        long rowsRead = 0, rowsUsed = 0, batches = 0;
        int inBatch = 0;
        using (var cursor = chunk.Cursor ?? input.GetRowCursor(needed))
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
                weights?.Read(chunk.FirstRow + rowsRead);
                foreach (var fitter in fitters)
                {
                    fitter.AddRow();
                }

                if (++rowsRead % FitProgressTracker.RowsBetweenClockReads == 0)
                {
                    progress.Add(FitProgressTracker.RowsBetweenClockReads);
                }

                if (++inBatch == options.BatchSize)
                {
                    EndBatch(fitters, statistics, ref inBatch, ref batches, ref rowsUsed);
                    if (batches % CancellationCheckEveryBatches == 0)
                    {
                        MlNetEnvironment.CheckAlive(host);
                    }
                }
            }

            progress.Add(rowsRead % FitProgressTracker.RowsBetweenClockReads);
            if (inBatch >= smallestFinalBatch)
            {
                EndBatch(fitters, statistics, ref inBatch, ref batches, ref rowsUsed);
            }

            for (int i = 0; i < fitters.Length; i++)
            {
                fitters[i].Complete(statistics[i]); // the sparse moments fold lazily: bring every slot up to date
                if (warn)
                {
                    WarnIfCenteringSparse(host, fitters[i], columns[i], shapes[i], options);
                }
            }
        }

        return new ChunkResult(statistics, batches, rowsUsed, rowsRead);
    }

    // The rows read by every chunk, reported to the tracker by one thread at a time.
    private sealed class SharedProgress(FitProgressTracker tracker)
    {
        private long _rowsRead;

        public long RowsRead => Interlocked.Read(ref _rowsRead);

        public void Add(long rows)
        {
            long total = Interlocked.Add(ref _rowsRead, rows);
            lock (tracker)
            {
                tracker.Report(total);
            }
        }

        public void Complete(long rowsRead) => tracker.Complete(rowsRead);
    }

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
