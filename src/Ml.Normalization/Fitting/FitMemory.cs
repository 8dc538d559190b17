namespace Ml.Normalization.Fitting;

/// <summary>
/// What a fit holds per statistics unit, and the check that refuses a fit before it allocates what the process cannot
/// hold: a 2^26-slot hashed column would otherwise fail minutes later with an OutOfMemoryException that names nothing.
/// </summary>
/// <remarks>
/// Per unit (slot or channel), in bytes (docs/sparse.md#memory has the table):
/// <list type="bullet">
/// <item>the fit state: one 32-byte record of count, mean, second moment and whole data's origin
/// (<see cref="UnitMoments"/>; the initial mean and variance are held once when, as in a fit from options, every unit has
/// the same); the fitted model keeps it, for continue and merge;</item>
/// <item>the parameters: running mean and variance, 16, or the variance alone for scale-only (its mean is made from the
/// fit state when read), 8; gamma and beta are held once when, as with the options' single values, every unit has the
/// same (given per unit, they are the options' arrays); the model keeps them;</item>
/// <item>while the rows stream, the moments of the open batch: per slot, dense <see cref="MiniBatchMoments{T}"/>
/// <see cref="DenseMomentsBytes"/>, sparse <see cref="SparseBatchMoments{T}"/> <see cref="SparseMomentsBytes"/> plus 40
/// bytes per slot the open batch touches (at most its non-zeros); per channel a few hundred bytes, negligible.</item>
/// </list>
/// </remarks>
internal static class FitMemory
{
    /// <summary>
    /// Per slot: the shift, the open block's sums and the batch's totals, the counts, the batch statistics written at
    /// its end (11 doubles), and the row as read (up to a double).
    /// </summary>
    public const int DenseMomentsBytes = 12 * sizeof(double);

    /// <summary>Per slot: the sparse moments' tag (the slots the open batch touches add 40 bytes each).</summary>
    public const int SparseMomentsBytes = sizeof(int);

    /// <summary>Per unit: the running mean and variance, or the variance alone when not <paramref name="centered"/>.</summary>
    public static int ParameterBytes(bool centered) => (centered ? 2 : 1) * sizeof(double);

    /// <summary>Per unit: the fit state, one record whatever the rule.</summary>
    public const int StateBytes = 4 * sizeof(double);

    /// <summary>
    /// What the process can still allocate, as the GC sees it: the memory available to it (physical memory, or the
    /// container's or GCHeapHardLimit's limit) less the managed heap in use; a test's own figure in its own flow
    /// (<see cref="AvailableBytesInThisFlow"/>).
    /// </summary>
    public static long AvailableBytes() =>
        AvailableBytesInThisFlow.Value is { } available ? available() : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes - GC.GetTotalMemory(forceFullCollection: false);

    /// <summary>Replaces <see cref="AvailableBytes"/> in the calling flow only (tests run in parallel).</summary>
    internal static readonly AsyncLocal<Func<long>?> AvailableBytesInThisFlow = new();

    /// <summary>
    /// Throws when <paramref name="units"/> units of <paramref name="bytesPerUnit"/> bytes are more than the process
    /// can still allocate.
    /// </summary>
    /// <exception cref="InsufficientMemoryException">They are: the message names the column, the units, the bytes needed
    /// and available, and what they are for.</exception>
    public static void Ensure(string columnName, int units, string unitName, long bytesPerUnit, string forWhat)
    {
        long needed = units * bytesPerUnit; // < 2^31 * 2^8: no overflow
        long available = AvailableBytes();
        if (needed > available)
        {
            throw new InsufficientMemoryException(
                $"BatchNormalize cannot fit input column '{columnName}': its {units:N0} {unitName}s need {Format(needed)} ({bytesPerUnit} bytes per {unitName}) for {forWhat}, "
                + $"more than the {Format(Math.Max(available, 0))} this process can still allocate. Give the column fewer {unitName}s (hash to fewer bits), or fit where more memory is available.");
        }
    }

    private static string Format(long bytes) =>
        bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB" : bytes >= 1L << 20 ? $"{bytes / (double)(1L << 20):F1} MiB" : $"{bytes:N0} bytes";
}
