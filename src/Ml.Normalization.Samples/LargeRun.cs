using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ml.Normalization.Samples;

/// <summary>The cached data file of the large run, and what making it cost (when this run made it).</summary>
public sealed record LargeDataset(string Path, long Rows, long Bytes, bool Generated, double GenerationSeconds, long PeakWorkingSetBytes);

/// <summary>
/// The fitted statistics of one slot next to the generator's true values; each tolerance is 5 standard errors of the
/// fitted value for this many rows.
/// </summary>
public sealed record SlotCheck(SlotTruth Truth, double FittedMean, double FittedVariance, double MeanTolerance, double VarianceTolerance)
{
    /// <summary>|fitted - true| of the mean, in standard errors.</summary>
    public double MeanError => Math.Abs(FittedMean - Truth.Mean) / (MeanTolerance / 5);

    /// <summary>|fitted - true| of the variance, in standard errors.</summary>
    public double VarianceError => Math.Abs(FittedVariance - Truth.Variance) / (VarianceTolerance / 5);

    public bool Within => MeanError <= 5 && VarianceError <= 5;
}

/// <summary>
/// What <see cref="LargeRun.Fit"/> measured: time, the managed bytes the fit allocated (GC.GetTotalAllocatedBytes, all
/// threads), the working set before the fit and the process's peak after it (the whole run's peak), the reports
/// <c>Options.Progress</c> received, and the fit's lines in <c>mlContext.Log</c>: the "rows read" ones (about one per
/// second) and the closing summary. <c>ReadSeconds</c> is a pass over the same file that only reads the column, just
/// before the fit: what the binary loader costs on its own.
/// </summary>
public sealed record LargeFitReport(
    LargeDataset Dataset,
    long Rows,
    long Batches,
    double Seconds,
    double ReadSeconds,
    long AllocatedBytes,
    long WorkingSetBeforeBytes,
    long PeakWorkingSetBytes,
    IReadOnlyList<SlotCheck> Checks,
    int ProgressReports,
    FitProgress? LastProgress,
    IReadOnlyList<string> LogProgressLines,
    string? LogSummary)
{
    public double RowsPerSecond => Rows / Seconds;

    public double MegabytesPerSecond => Dataset.Bytes / 1e6 / Seconds;

    public double ReadRowsPerSecond => Rows / ReadSeconds;
}

/// <summary>
/// The <c>large</c> scenario: BatchNormalize fitted on a few million rows read from an ML.NET binary file, with a
/// progress bar. The data is generated once (<see cref="LargeData"/>) and cached in the output folder.
/// </summary>
public static class LargeRun
{
    /// <summary>Knobs of the run; the defaults are what <c>dotnet run -- large</c> uses.</summary>
    /// <param name="Rows">Rows to generate and fit on.</param>
    /// <param name="Seed">Seed of the generator (part of the cache file's name).</param>
    /// <param name="BatchSize">Rows per mini-batch of the fit.</param>
    public sealed record Options(long Rows = 4_000_000, int Seed = 13, int BatchSize = 256);

    /// <summary>The cache file for these options: the row count, the generator's format tag and the seed are in the name.</summary>
    public static string CachePath(string outputDirectory, Options options) =>
        Path.Combine(outputDirectory, $"large-{options.Rows}-rows-{LargeData.FormatTag}-seed{options.Seed}.idv");

    /// <summary>Generation, then the fit: what the tests call. The app runs the two with a progress bar each.</summary>
    public static LargeFitReport Run(string outputDirectory, Options? options = null, IProgress<FitProgress>? progress = null)
    {
        options ??= new Options();
        var dataset = EnsureDataset(outputDirectory, options);
        return Fit(dataset, options, progress);
    }

    /// <summary>
    /// The binary file of the data set: reused when it is already there, otherwise generated row by row and written
    /// to a temporary name first, then renamed, so an interrupted run leaves no half-written cache behind.
    /// </summary>
    public static LargeDataset EnsureDataset(string outputDirectory, Options options, Action<long>? rowsMade = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Rows, 2);
        Directory.CreateDirectory(outputDirectory);
        string path = CachePath(outputDirectory, options);
        if (File.Exists(path))
        {
            return new LargeDataset(path, options.Rows, new FileInfo(path).Length, Generated: false, 0, CurrentPeakWorkingSet());
        }

        var clock = Stopwatch.StartNew();
        var ml = new MLContext(seed: options.Seed);
        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            using (var stream = File.Create(temporary))
            {
                ml.Data.SaveAsBinary(LargeData.Generate(ml, options.Rows, options.Seed, rowsMade), stream);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary); // only still there when the save failed
        }

        return new LargeDataset(path, options.Rows, new FileInfo(path).Length, Generated: true, clock.Elapsed.TotalSeconds, CurrentPeakWorkingSet());
    }

    /// <summary>
    /// Reads the file once without fitting (<paramref name="rowsRead"/> hears every 65,536 rows), then fits BatchNormalize
    /// on it, read from disk, and checks the statistics against the generator's.
    /// </summary>
    public static LargeFitReport Fit(LargeDataset dataset, Options options, IProgress<FitProgress>? progress = null, Action<long>? rowsRead = null)
    {
        var ml = new MLContext(seed: options.Seed);
        var logLines = new List<string>();
        string? summary = null;
        ml.Log += (_, e) =>
        {
            // The library logs through a channel named after the stage; its messages start with "BatchNormalize:".
            if (!e.Source.Contains("BatchNormalize", StringComparison.Ordinal) || !e.RawMessage.StartsWith("BatchNormalize:", StringComparison.Ordinal))
            {
                return;
            }

            lock (logLines)
            {
                if (e.RawMessage.Contains(" rows read", StringComparison.Ordinal))
                {
                    logLines.Add(e.RawMessage);
                }
                else if (e.RawMessage.StartsWith("BatchNormalize: fitted", StringComparison.Ordinal))
                {
                    summary = e.RawMessage;
                }
            }
        };

        var data = ml.Data.LoadFromBinary(dataset.Path);
        var counter = new CountingProgress(progress);

        // Momentum null: the plain average of all mini-batches, so the fitted statistics are whole-data statistics and
        // get closer to the truth as the rows grow (a momentum of 0.9 averages over the last ~20 batches only). And each
        // batch's variance times n/(n-1), so the average of the batch variances is unbiased.
        var estimator = ml.Transforms.BatchNormalize(nameof(LargeRow.Features),
            new BatchNormalizingEstimator.Options { BatchSize = options.BatchSize, Momentum = null, UnbiasedRunningVariance = true, Progress = counter });

        double readSeconds = ReadOnly(data, rowsRead);

        GC.Collect();
        long workingSetBefore = Environment.WorkingSet;
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        var fitted = estimator.Fit(data).Columns[0];
        double seconds = clock.Elapsed.TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        var checks = LargeData.Truth.Select(t => Check(t, fitted, options.BatchSize)).ToList();
        lock (logLines)
        {
            return new LargeFitReport(dataset, fitted.RowCount, fitted.BatchCount, seconds, readSeconds, allocated, workingSetBefore, CurrentPeakWorkingSet(),
                checks, counter.Count, counter.Last, [.. logLines], summary);
        }
    }

    /// <summary>Seconds to read every row's vector through a cursor, as the fit does, with nothing else done.</summary>
    private static double ReadOnly(IDataView data, Action<long>? rowsRead)
    {
        var clock = Stopwatch.StartNew();
        var column = data.Schema[nameof(LargeRow.Features)];
        using var cursor = data.GetRowCursor([column]);
        var getter = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> vector = default;
        long rows = 0;
        while (cursor.MoveNext())
        {
            getter(ref vector);
            if (++rows % 65536 == 0)
            {
                rowsRead?.Invoke(rows);
            }
        }

        rowsRead?.Invoke(rows);
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// The fitted mean is the average of n rows: standard error sd / sqrt(n). The fitted variance averages unbiased
    /// batch variances of b rows each: standard error sd^2 * sqrt((kurtosis - (b - 3) / (b - 1)) / n).
    /// </summary>
    private static SlotCheck Check(SlotTruth truth, BatchNormalizationParameters fitted, int batchSize)
    {
        double n = fitted.RowCount, b = batchSize;
        double meanError = truth.StandardDeviation / Math.Sqrt(n);
        double varianceError = truth.Variance * Math.Sqrt((truth.Kurtosis - (b - 3) / (b - 1)) / n);
        return new SlotCheck(truth, fitted.RunningMean[truth.Slot], fitted.RunningVariance[truth.Slot], 5 * meanError, 5 * varianceError);
    }

    private static long CurrentPeakWorkingSet()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    /// <summary>Prints the measurements and the statistics the way the app shows them.</summary>
    public static void Print(LargeFitReport report, TextWriter output, int slotsToShow = 8)
    {
        var dataset = report.Dataset;
        output.WriteLine(dataset.Generated
            ? $"Generated {dataset.Rows:N0} rows in {dataset.GenerationSeconds:F1} s ({dataset.Rows / dataset.GenerationSeconds:N0} rows/s), " +
              $"peak working set {dataset.PeakWorkingSetBytes / 1e6:N0} MB."
            : $"Reused the cached data set ({dataset.Rows:N0} rows).");
        output.WriteLine($"  {Path.GetFileName(dataset.Path)}: {dataset.Bytes / 1e6:N1} MB, {LargeData.Slots} Single slots per row");
        output.WriteLine();
        output.WriteLine($"BatchNormalize fit, read from disk: {report.Rows:N0} rows in {report.Batches:N0} mini-batches, {report.Seconds:F2} s");
        output.WriteLine($"  {report.RowsPerSecond:N0} rows/s, {report.MegabytesPerSecond:N0} MB/s of the file " +
            $"(reading alone, no fit: {report.ReadSeconds:F2} s, {report.ReadRowsPerSecond:N0} rows/s)");
        output.WriteLine($"  allocated during the fit: {report.AllocatedBytes / 1e6:N1} MB; working set {report.WorkingSetBeforeBytes / 1e6:N0} MB before, " +
            $"peak of the whole run {report.PeakWorkingSetBytes / 1e6:N0} MB");
        output.WriteLine($"  progress: {report.ProgressReports} reports to Options.Progress, the last one " +
            (report.LastProgress is { } last ? $"{(last.IsComplete ? "complete" : "NOT complete")} at {last.RowsRead:N0} of {last.TotalRows:N0} rows" : "missing"));
        output.WriteLine($"  mlContext.Log: {report.LogProgressLines.Count} progress line{(report.LogProgressLines.Count == 1 ? "" : "s")}" +
            (report.LogProgressLines.Count > 0 ? $", the first: \"{report.LogProgressLines[0]}\"" : " (a fit shorter than a second writes none)"));
        if (report.LogSummary is not null)
        {
            output.WriteLine($"    and the summary: \"{report.LogSummary}\"");
        }

        output.WriteLine();
        output.WriteLine("Fitted statistics against the generator's truth (tolerance: 5 standard errors for this many rows):");
        output.WriteLine("  slot  distribution        true mean   fitted mean     true var    fitted var   error in SE: mean var");
        foreach (var c in report.Checks.Take(slotsToShow))
        {
            output.WriteLine($"  {c.Truth.Slot,4}  {c.Truth.Distribution,-12} {c.Truth.Mean,12:G7} {c.FittedMean,13:G7} {c.Truth.Variance,12:G7} {c.FittedVariance,13:G7}                {c.MeanError,4:F1} {c.VarianceError,4:F1}");
        }

        var worst = report.Checks.Max(c => Math.Max(c.MeanError, c.VarianceError));
        output.WriteLine(report.Checks.All(c => c.Within)
            ? $"  all {report.Checks.Count} slots within tolerance; the largest error is {worst:F1} standard errors."
            : $"  MISMATCH: {report.Checks.Count(c => !c.Within)} of {report.Checks.Count} slots are off by more than 5 standard errors.");
    }

    /// <summary>Counts the reports and keeps the last, then passes each on (on the fitting thread, synchronously).</summary>
    private sealed class CountingProgress(IProgress<FitProgress>? next) : IProgress<FitProgress>
    {
        public int Count { get; private set; }

        public FitProgress? Last { get; private set; }

        public void Report(FitProgress value)
        {
            Count++;
            Last = value;
            next?.Report(value);
        }
    }
}
