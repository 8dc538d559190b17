namespace Ml.Normalization;

/// <summary>
/// Where a streaming fit is: what <see cref="BatchNormalizingEstimator.Options.Progress"/> receives during
/// <c>Fit</c>, for an app that draws a progress bar.
/// </summary>
/// <param name="RowsRead">Rows read so far.</param>
/// <param name="TotalRows">The rows the source holds, when it knows (a binary or in-memory IDataView does; a text loader
/// usually does not); otherwise null.</param>
/// <param name="Elapsed">Time since the fit started.</param>
/// <param name="IsComplete">True for the last report, sent once when the pass over the data has ended.</param>
public readonly record struct FitProgress(long RowsRead, long? TotalRows, TimeSpan Elapsed, bool IsComplete)
{
    /// <summary>The fraction of the rows read, in [0, 1], when <see cref="TotalRows"/> is known; otherwise null.</summary>
    public double? Fraction => TotalRows is > 0 and var total ? Math.Min(1.0, RowsRead / (double)total) : TotalRows == 0 ? 1.0 : null;

    /// <summary>Rows read per second so far (0 before any time has passed).</summary>
    public double RowsPerSecond => Elapsed > TimeSpan.Zero ? RowsRead / Elapsed.TotalSeconds : 0;
}
