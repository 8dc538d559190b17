using System.Globalization;

namespace Ml.Normalization.Transforms.BatchNormalize;

/// <summary>
/// Turns a streaming pass's row count into progress people can see: a message for <c>mlContext.Log</c> at most once per
/// <see cref="LogInterval"/> (none for a pass shorter than that), and reports to an app's <see cref="IProgress{T}"/> at
/// most once per <see cref="HookInterval"/>, plus one final report. <see cref="Tick"/> costs a counter test on most rows.
/// </summary>
internal sealed class FitProgressTracker(string stageName, long? totalRows, IProgress<FitProgress>? hook, Action<string> log, TimeProvider? clock = null)
{
    /// <summary>Rows between two looks at the clock: cheap enough per row, often enough for any realistic row rate.</summary>
    public const int RowsBetweenClockReads = 4096;

    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan HookInterval = TimeSpan.FromMilliseconds(100);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly long _start = (clock ?? TimeProvider.System).GetTimestamp();
    private TimeSpan _nextLog = LogInterval;
    private TimeSpan _nextHook = HookInterval;

    /// <summary>Called with the running row count after each row; looks at the clock every <see cref="RowsBetweenClockReads"/> rows.</summary>
    public void Tick(long rowsRead)
    {
        if (rowsRead % RowsBetweenClockReads == 0)
        {
            Report(rowsRead);
        }
    }

    /// <summary>Looks at the clock now and reports what is due.</summary>
    public void Report(long rowsRead)
    {
        var elapsed = _clock.GetElapsedTime(_start);
        if (hook is not null && elapsed >= _nextHook)
        {
            hook.Report(new FitProgress(rowsRead, totalRows, elapsed, IsComplete: false));
            _nextHook = elapsed + HookInterval;
        }

        if (elapsed >= _nextLog)
        {
            log(Message(new FitProgress(rowsRead, totalRows, elapsed, IsComplete: false)));
            _nextLog = elapsed + LogInterval;
        }
    }

    /// <summary>The final report to the hook (the log gets the stage's own summary).</summary>
    public void Complete(long rowsRead) =>
        hook?.Report(new FitProgress(rowsRead, totalRows, _clock.GetElapsedTime(_start), IsComplete: true));

    internal string Message(FitProgress progress)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{stageName}: {progress.RowsRead:N0} rows read");
        if (progress.TotalRows is { } total)
        {
            text += string.Create(CultureInfo.InvariantCulture, $" of {total:N0} ({progress.Fraction * 100:F1}%)");
        }

        return text + string.Create(CultureInfo.InvariantCulture, $", {progress.RowsPerSecond:N0} rows/s, {progress.Elapsed.TotalSeconds:F1} s.");
    }
}
