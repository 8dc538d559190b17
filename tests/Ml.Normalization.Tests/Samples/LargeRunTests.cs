using Ml.Normalization.Samples;

namespace Ml.Normalization.Tests.Samples;

/// <summary>
/// The <c>large</c> scenario of the samples app, on 200,000 rows in a temporary folder: the data file is cached and
/// reused, the fit reads all of it, reports its progress to the end, and finds the generator's statistics.
/// </summary>
public sealed class LargeRunTests : IDisposable
{
    private const long Rows = 200_000;

    private readonly string _output = Directory.CreateTempSubdirectory("ml-normalization-large-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Fact]
    public void Large_CachesTheData_FitsTheGeneratorsStatistics_AndReportsProgressToTheEnd()
    {
        var options = new LargeRun.Options(Rows: Rows);
        var reports = new List<FitProgress>();

        var first = LargeRun.Run(_output, options, new SyncProgress(reports));

        // The cache: generated once, under a name with the row count and the format tag, no temporary file left.
        Assert.True(first.Dataset.Generated);
        Assert.Equal(LargeRun.CachePath(_output, options), first.Dataset.Path);
        Assert.Contains($"{Rows}", Path.GetFileName(first.Dataset.Path), StringComparison.Ordinal);
        Assert.Contains(LargeData.FormatTag, Path.GetFileName(first.Dataset.Path), StringComparison.Ordinal);
        Assert.Equal([first.Dataset.Path], Directory.GetFiles(_output));
        Assert.True(first.Dataset.Bytes > Rows * LargeData.Slots * sizeof(float) / 2, $"{first.Dataset.Bytes} bytes for {Rows} rows");
        var written = File.GetLastWriteTimeUtc(first.Dataset.Path);

        // Every row was read once without fitting, then fitted, in full batches but the last.
        Assert.True(first.ReadSeconds > 0 && first.Seconds > 0);
        Assert.Equal(Rows, first.Rows);
        Assert.Equal((Rows + options.BatchSize - 1) / options.BatchSize, first.Batches);

        // The statistics: each within 5 standard errors of the truth, for this many rows.
        Assert.Equal(LargeData.Slots, first.Checks.Count);
        Assert.All(first.Checks, c =>
        {
            Assert.InRange(c.FittedMean, c.Truth.Mean - c.MeanTolerance, c.Truth.Mean + c.MeanTolerance);
            Assert.InRange(c.FittedVariance, c.Truth.Variance - c.VarianceTolerance, c.Truth.Variance + c.VarianceTolerance);
            // The tolerance is tight: a fit on a tenth of the rows, or a biased variance, would show.
            Assert.True(c.MeanTolerance < 0.02 * c.Truth.StandardDeviation && c.VarianceTolerance < 0.05 * c.Truth.Variance, $"slot {c.Truth.Slot}");
        });

        // Progress: the bar's total came from the binary file, and the last report is the completion at the last row.
        var last = reports[^1];
        Assert.True(last.IsComplete);
        Assert.Equal(Rows, last.RowsRead);
        Assert.Equal(Rows, last.TotalRows);
        Assert.Equal(1.0, last.Fraction);
        Assert.Single(reports, r => r.IsComplete);
        Assert.Equal(reports.Count, first.ProgressReports);
        Assert.Equal(last, first.LastProgress);
        Assert.All(reports, r => Assert.Equal(Rows, r.TotalRows));
        Assert.Equal(reports.Select(r => r.RowsRead).Order(), reports.Select(r => r.RowsRead));

        // mlContext.Log: the fit's summary line came through the environment (the per-second lines need a longer fit).
        Assert.Contains($"on {Rows} of {Rows} rows", first.LogSummary, StringComparison.Ordinal);
        Assert.All(first.LogProgressLines, l => Assert.StartsWith("BatchNormalize: ", l, StringComparison.Ordinal));

        // The second run reuses the file: not generated, not rewritten, and the same fit.
        var second = LargeRun.Run(_output, options);
        Assert.False(second.Dataset.Generated);
        Assert.Equal(first.Dataset.Path, second.Dataset.Path);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second.Dataset.Path));
        Assert.Equal(first.Checks.Select(c => c.FittedMean), second.Checks.Select(c => c.FittedMean));
        Assert.Equal(first.Checks.Select(c => c.FittedVariance), second.Checks.Select(c => c.FittedVariance));

        // A different row count is a different file.
        Assert.NotEqual(LargeRun.CachePath(_output, options with { Rows = Rows + 1 }), first.Dataset.Path);
    }

    [Fact]
    public void Large_Print_ShowsTheMeasurementsAndTheChecks()
    {
        var report = LargeRun.Run(_output, new LargeRun.Options(Rows: 20_000));
        var text = new StringWriter();

        LargeRun.Print(report, text);

        string output = text.ToString();
        Assert.Contains("Generated 20,000 rows", output, StringComparison.Ordinal);
        Assert.Contains("rows/s", output, StringComparison.Ordinal);
        Assert.Contains("MB/s", output, StringComparison.Ordinal);
        Assert.Contains("complete at 20,000 of 20,000 rows", output, StringComparison.Ordinal);
        Assert.Contains($"all {LargeData.Slots} slots within tolerance", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Large_Generator_SameSeedSameRows_AndTheRowsStream()
    {
        // Each enumeration replays the seed; one row object is refilled, so nothing is kept per row.
        var first = LargeData.Rows(1000, seed: 3).Select(r => r.Features.ToArray()).ToList();
        var again = LargeData.Rows(1000, seed: 3).Select(r => r.Features.ToArray()).ToList();
        var other = LargeData.Rows(1000, seed: 4).First().Features.ToArray();
        Assert.Equal(first, again);
        Assert.NotEqual(first[0], other);
        Assert.Single(LargeData.Rows(1000, seed: 3).Distinct());
    }

    private sealed class SyncProgress(List<FitProgress> items) : IProgress<FitProgress>
    {
        public void Report(FitProgress value) => items.Add(value);
    }
}
