namespace Ml.Normalization.Transforms;

/// <summary>How a fit turns its batches' statistics into the running statistics.</summary>
internal enum StatisticsKind : byte
{
    /// <summary>Momentum (exponential) or, without momentum, the plain average of the batches' statistics.</summary>
    Running = 0,

    /// <summary>The exact mean and variance of all finite values (count, mean and M2, combined by Chan's formulas).</summary>
    WholeData = 1,
}

/// <summary>
/// What a fitted column needs to continue its fit or to merge with another shard's: the raw state of its
/// <see cref="RunningStatistics"/> before bias correction, and the sums' shifts, per unit (slot or channel).
/// </summary>
/// <param name="Kind">Running or whole-data statistics.</param>
/// <param name="Momentum">The momentum; null: the plain average of the batches (or whole-data).</param>
/// <param name="BiasCorrection">Whether <see cref="RunningStatistics.Finish()"/> divides out the initial values' weight.</param>
/// <param name="UnbiasedVariance">Whether batch variances (whole-data: the variance) are times n/(n-1).</param>
/// <param name="Shift">Kept for the model format: older fits shifted each unit's sums by its first finite
/// value ever and saved it here to continue; every batch now takes its own shifts, so fits write NaN and ignore it.</param>
/// <param name="Mean">Running: the raw running mean; whole-data: the mean so far.</param>
/// <param name="Second">Running: the raw running variance; whole-data: M2, the sum of squared deviations.</param>
/// <param name="Count">Running: the counted batches; whole-data: the finite values.</param>
/// <param name="InitialMean">The initial running mean of each unit.</param>
/// <param name="InitialVariance">The initial running variance of each unit.</param>
internal sealed record FitState(StatisticsKind Kind, double? Momentum, bool BiasCorrection, bool UnbiasedVariance,
    double[] Shift, double[] Mean, double[] Second, double[] Count, double[] InitialMean, double[] InitialVariance)
{
    public int Units => Mean.Length;

    public FitState Copy() => this with
    {
        Shift = (double[])Shift.Clone(),
        Mean = (double[])Mean.Clone(),
        Second = (double[])Second.Clone(),
        Count = (double[])Count.Clone(),
        InitialMean = (double[])InitialMean.Clone(),
        InitialVariance = (double[])InitialVariance.Clone(),
    };

    /// <summary>A fresh state: every unit at its initial values, no shift, nothing counted.</summary>
    public static FitState Fresh(int units, StatisticsKind kind, double? momentum, bool biasCorrection, bool unbiasedVariance, double initialMean, double initialVariance)
    {
        // Every array but the counts is filled whole: no need to zero it first (a million-slot column has six of 8 MB).
        var shift = Filled(units, double.NaN);
        var initialMeans = Filled(units, initialMean);
        var initialVariances = Filled(units, initialVariance);
        var (mean, second) = kind == StatisticsKind.Running
            ? (Filled(units, initialMean), Filled(units, initialVariance))
            : (new double[units], new double[units]);

        return new FitState(kind, momentum, biasCorrection, unbiasedVariance, shift, mean, second, new double[units], initialMeans, initialVariances);

        static double[] Filled(int length, double value)
        {
            var array = GC.AllocateUninitializedArray<double>(length);
            array.AsSpan().Fill(value);
            return array;
        }
    }
}
