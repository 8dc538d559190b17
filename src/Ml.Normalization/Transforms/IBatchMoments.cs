using System.Numerics;

namespace Ml.Normalization.Transforms;

/// <summary>One mini-batch's statistics per unit (slot or channel), from rows added one at a time.</summary>
internal interface IBatchMoments<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Adds one row of the current batch; NaN and infinities are left out.</summary>
    void Add(ReadOnlySpan<T> row);

    /// <summary>
    /// Closes the current batch: writes each unit's mean, biased variance and count of finite values (a unit without
    /// any gets NaN statistics and count 0), and restarts the sums.
    /// </summary>
    void EndBatch(Span<double> mean, Span<double> variance, Span<double> count);
}
