using Microsoft.ML;
using Ml.Normalization.Tests.TestSupport;
using Ml.Normalization.Transforms.BatchNormalize;

namespace Ml.Normalization.Tests.Transforms.BatchNormalize;

/// <summary>
/// Long fits show progress where ML.NET users look: mlContext.Log about once per second (never for a short fit), and the
/// Options.Progress hook for an app's progress bar, with one final report.
/// </summary>
public class FitProgressTests
{
    [Fact]
    public void Tracker_LogsAtMostOncePerSecond_AndNotBeforeTheFirstSecond()
    {
        var clock = new ManualClock();
        var messages = new List<string>();
        var tracker = new FitProgressTracker("BatchNormalize", totalRows: 10_000_000, hook: null, messages.Add, clock);

        clock.Advance(TimeSpan.FromMilliseconds(999));
        tracker.Report(1_000_000);
        Assert.Empty(messages);

        clock.Advance(TimeSpan.FromMilliseconds(1));
        tracker.Report(2_000_000);
        clock.Advance(TimeSpan.FromMilliseconds(500));
        tracker.Report(3_000_000);
        Assert.Equal(["BatchNormalize: 2,000,000 rows read of 10,000,000 (20.0%), 2,000,000 rows/s, 1.0 s."], messages);

        clock.Advance(TimeSpan.FromMilliseconds(500));
        tracker.Report(4_000_000);
        Assert.Equal(2, messages.Count);
        Assert.Equal("BatchNormalize: 4,000,000 rows read of 10,000,000 (40.0%), 2,000,000 rows/s, 2.0 s.", messages[1]);
    }

    [Fact]
    public void Tracker_WithoutARowCount_SaysNoFraction()
    {
        var clock = new ManualClock();
        var messages = new List<string>();
        var tracker = new FitProgressTracker("BatchNormalize", totalRows: null, hook: null, messages.Add, clock);

        clock.Advance(TimeSpan.FromSeconds(2));
        tracker.Report(500);

        Assert.Equal(["BatchNormalize: 500 rows read, 250 rows/s, 2.0 s."], messages);
    }

    [Fact]
    public void Tracker_ReportsToTheHookEveryTenthOfASecond_ThenOnceAtTheEnd()
    {
        var clock = new ManualClock();
        var reports = new SyncProgress();
        var tracker = new FitProgressTracker("BatchNormalize", totalRows: 1000, reports, _ => { }, clock);

        tracker.Report(10); // before the first interval: nothing
        clock.Advance(TimeSpan.FromMilliseconds(100));
        tracker.Report(100);
        clock.Advance(TimeSpan.FromMilliseconds(50));
        tracker.Report(150); // within the interval: nothing
        clock.Advance(TimeSpan.FromMilliseconds(60));
        tracker.Report(200);
        tracker.Complete(1000);

        Assert.Equal([100L, 200L, 1000L], reports.Items.Select(r => r.RowsRead));
        Assert.Equal([false, false, true], reports.Items.Select(r => r.IsComplete));
        Assert.Equal([0.1, 0.2, 1.0], reports.Items.Select(r => r.Fraction!.Value));
        Assert.Equal(TimeSpan.FromMilliseconds(210), reports.Items[^1].Elapsed);
    }

    [Fact]
    public void Tick_LooksAtTheClockOnlyEvery4096Rows()
    {
        var clock = new ManualClock();
        var reports = new SyncProgress();
        var tracker = new FitProgressTracker("BatchNormalize", totalRows: null, reports, _ => { }, clock);
        clock.Advance(TimeSpan.FromSeconds(1));

        for (long row = 1; row < FitProgressTracker.RowsBetweenClockReads; row++)
        {
            tracker.Tick(row);
        }

        Assert.Empty(reports.Items);
        tracker.Tick(FitProgressTracker.RowsBetweenClockReads);
        Assert.Equal(FitProgressTracker.RowsBetweenClockReads, Assert.Single(reports.Items).RowsRead);
    }

    [Fact]
    public void Fit_ReportsTheEndToTheHook_AndAShortFitLogsNoProgress()
    {
        var ml = new MLContext(seed: 1);
        var log = new List<string>();
        ml.Log += (_, e) => { lock (log) { log.Add(e.RawMessage); } };
        var data = TestData.Vectors(ml, TestData.Random(seed: 5, rows: 300, size: 4), 4);
        var reports = new SyncProgress();

        ml.Transforms.BatchNormalize([new InputOutputColumnPair("Features")], new BatchNormalizingEstimator.Options { BatchSize = 32, Progress = reports }).Fit(data);

        var last = Assert.Single(reports.Items, r => r.IsComplete);
        Assert.Equal((300L, 300L, 1.0), (last.RowsRead, last.TotalRows!.Value, last.Fraction!.Value));
        Assert.DoesNotContain(log, m => m.Contains("rows read", StringComparison.Ordinal));
        Assert.Contains(log, m => m.StartsWith("BatchNormalize: fitted 1 column(s) on 300 of 300 rows", StringComparison.Ordinal));
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    /// <summary>Records reports on the calling thread (System.Progress posts them to a synchronization context).</summary>
    private sealed class SyncProgress : IProgress<FitProgress>
    {
        public List<FitProgress> Items { get; } = [];

        public void Report(FitProgress value) => Items.Add(value);
    }
}
