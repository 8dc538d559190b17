namespace Ml.Normalization.Fitting;

/// <summary>
/// The rows of a batch after which its open sums are added to the batch's totals and moved to the mean so far
/// (<see cref="Kernels.NormalizationKernels.FoldMoments"/>): 8, 64, 512, then every 512. Geometric at first, so a first
/// value far from the rest is left behind while the rows are few; bounded after, so no sum takes more than 512 terms.
/// </summary>
internal static class BlockSchedule
{
    public const long First = 8;

    private const long Growth = 8, Longest = 512;

    /// <summary>The fold after the one at row <paramref name="rows"/>.</summary>
    public static long Next(long rows) => rows < Longest ? rows * Growth : rows + Longest;
}
