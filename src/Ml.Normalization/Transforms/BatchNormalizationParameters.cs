using Ml.Normalization.Kernels;

namespace Ml.Normalization;

/// <summary>
/// The fitted (or given) parameters of one column pair of a <see cref="BatchNormalizingTransformer"/>:
/// <c>y = Gamma * (x - RunningMean) / sqrt(RunningVariance + Epsilon) + Beta</c>, slot by slot.
/// </summary>
public sealed class BatchNormalizationParameters
{
    /// <summary>
    /// Parameters known in advance (for example exported from PyTorch's <c>BatchNorm1d</c>:
    /// <c>running_mean</c>, <c>running_var</c>, <c>weight</c>, <c>bias</c>, <c>eps</c>), for
    /// <see cref="Microsoft.ML.BatchNormalizationCatalog.BatchNormalize(Microsoft.ML.TransformsCatalog, BatchNormalizationParameters[])"/>.
    /// </summary>
    /// <param name="outputColumnName">Name of the column to produce.</param>
    /// <param name="inputColumnName">Name of the column to normalize; null means <paramref name="outputColumnName"/>.
    /// It must have as many slots as <paramref name="runningMean"/> (1 for a scalar column).</param>
    /// <param name="runningMean">Mean per slot; finite.</param>
    /// <param name="runningVariance">Variance per slot; finite and not negative.</param>
    /// <param name="gamma">Scale per slot, or one value for all slots; null means 1.</param>
    /// <param name="beta">Shift per slot, or one value for all slots; null means 0.</param>
    /// <param name="epsilon">Added to the variance; positive and finite.</param>
    /// <exception cref="ArgumentException">Lengths differ, or a value is out of range; the message names the parameter.</exception>
    public BatchNormalizationParameters(string outputColumnName, string? inputColumnName, IReadOnlyList<float> runningMean, IReadOnlyList<float> runningVariance,
        IReadOnlyList<float>? gamma = null, IReadOnlyList<float>? beta = null, float epsilon = 1e-5f)
        : this(outputColumnName, inputColumnName, [.. runningMean], [.. runningVariance],
              Broadcast(gamma, runningMean.Count, 1f, nameof(gamma)), Broadcast(beta, runningMean.Count, 0f, nameof(beta)), epsilon, 0, 0)
    {
    }

    internal BatchNormalizationParameters(string outputColumnName, string? inputColumnName, float[] runningMean, float[] runningVariance,
        float[] gamma, float[] beta, float epsilon, long batchCount, long rowCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        if (runningMean.Length < 1)
        {
            ThrowHelper.ThrowOutOfRange(nameof(runningMean), runningMean.Length, "at least one slot long");
        }

        ThrowHelper.ThrowIfLengthDiffers(runningMean.Length, runningVariance.Length, nameof(runningVariance));
        ThrowHelper.ThrowIfLengthDiffers(runningMean.Length, gamma.Length, nameof(gamma));
        ThrowHelper.ThrowIfLengthDiffers(runningMean.Length, beta.Length, nameof(beta));
        CheckAll(runningMean, float.IsFinite, nameof(runningMean), "finite");
        CheckAll(runningVariance, v => float.IsFinite(v) && v >= 0f, nameof(runningVariance), "finite and not negative");
        CheckAll(gamma, float.IsFinite, nameof(gamma), "finite");
        CheckAll(beta, float.IsFinite, nameof(beta), "finite");
        if (!(epsilon > 0f) || float.IsInfinity(epsilon))
        {
            ThrowHelper.ThrowOutOfRange(nameof(epsilon), epsilon, "positive and finite");
        }

        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
        RunningMean = Array.AsReadOnly(runningMean);
        RunningVariance = Array.AsReadOnly(runningVariance);
        Gamma = Array.AsReadOnly(gamma);
        Beta = Array.AsReadOnly(beta);
        Epsilon = epsilon;
        BatchCount = batchCount;
        RowCount = rowCount;
    }

    /// <summary>Name of the produced column.</summary>
    public string OutputColumnName { get; }

    /// <summary>Name of the normalized column.</summary>
    public string InputColumnName { get; }

    /// <summary>Mean per slot used at scoring time.</summary>
    public IReadOnlyList<float> RunningMean { get; }

    /// <summary>Variance per slot used at scoring time.</summary>
    public IReadOnlyList<float> RunningVariance { get; }

    /// <summary>Scale per slot.</summary>
    public IReadOnlyList<float> Gamma { get; }

    /// <summary>Shift per slot.</summary>
    public IReadOnlyList<float> Beta { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public float Epsilon { get; }

    /// <summary>Mini-batches the fit used (0 for given parameters).</summary>
    public long BatchCount { get; }

    /// <summary>Rows in those mini-batches (0 for given parameters).</summary>
    public long RowCount { get; }

    /// <summary>Number of slots (1 for a scalar column).</summary>
    internal int SlotCount => RunningMean.Count;

    internal static float[] Broadcast(IReadOnlyList<float>? values, int slots, float fallback, string paramName)
    {
        if (values is null)
        {
            return Enumerable.Repeat(fallback, slots).ToArray();
        }

        if (values.Count == 1)
        {
            return Enumerable.Repeat(values[0], slots).ToArray();
        }

        if (values.Count != slots)
        {
            throw new ArgumentException($"'{paramName}' must have 1 value or one per slot ({slots}), got {values.Count}.", paramName);
        }

        return [.. values];
    }

    private static void CheckAll(float[] values, Func<float, bool> valid, string paramName, string expected)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!valid(values[i]))
            {
                throw new ArgumentOutOfRangeException(paramName, values[i], $"'{paramName}[{i}]' must be {expected}, got {values[i]}.");
            }
        }
    }
}
