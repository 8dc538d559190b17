using System.Numerics.Tensors;
using Ml.Normalization.Fitting;
using Ml.Normalization.Kernels;
using Ml.Normalization.Transforms.BatchNormalize;

namespace Ml.Normalization;

/// <summary>
/// The fitted (or given) parameters of one column pair of a <see cref="BatchNormalizingTransformer"/>:
/// <c>y = Gamma * (x - RunningMean) / sqrt(RunningVariance + Epsilon) + Beta</c>, slot by slot, or channel by channel
/// (<see cref="ChannelLayout"/>).
/// </summary>
/// <remarks>
/// Every value is kept in double precision, whatever the column's type: a fit accumulates in double, and a Double
/// column is normalized with these values as they are. A Single column is normalized in float with
/// <c>(float)RunningMean</c>, <c>(float)(Gamma / sqrt(RunningVariance + Epsilon))</c> and <c>(float)Beta</c>, each
/// computed in double and rounded once, so a variance beyond float's range (data spread over ~1e19 and more) still
/// gives a usable float scale. Values given as float (the float constructor) are widened exactly. A pure
/// standardization (gamma 1, beta 0, epsilon 0, as <see cref="FromMeanAndStd"/> makes) is computed as
/// <c>(x - RunningMean) / sqrt(RunningVariance)</c> instead, the standard deviation rounded once to the column's type:
/// a subtraction and a division, each correctly rounded, as PyTorch computes <c>(x - mean) / std</c> on a tensor of
/// that type.
/// <para>With a <see cref="ChannelLayout"/>, every list has one value per channel, and the parameters apply to any
/// vector column whose channel count (from its dimensions, or its size when it has none) matches: an image of any size.
/// <see cref="ForChannels"/> and <see cref="FromMeanAndStd"/> build them from known constants.</para>
/// </remarks>
public sealed class BatchNormalizationParameters
{
    /// <summary>
    /// Parameters known in advance (for example exported from PyTorch's <c>BatchNorm1d</c>:
    /// <c>running_mean</c>, <c>running_var</c>, <c>weight</c>, <c>bias</c>, <c>eps</c>), for
    /// <see cref="Microsoft.ML.BatchNormalizationCatalog.BatchNormalize(Microsoft.ML.TransformsCatalog, BatchNormalizationParameters[])"/>.
    /// </summary>
    /// <param name="outputColumnName">Name of the column to produce.</param>
    /// <param name="inputColumnName">Name of the column to normalize; null means <paramref name="outputColumnName"/>.
    /// It must have as many slots as <paramref name="runningMean"/> (1 for a scalar column), Single or Double.</param>
    /// <param name="runningMean">Mean per slot; finite.</param>
    /// <param name="runningVariance">Variance per slot; finite and not negative.</param>
    /// <param name="gamma">Scale per slot, or one value for all slots; null means 1.</param>
    /// <param name="beta">Shift per slot, or one value for all slots; null means 0.</param>
    /// <param name="epsilon">Added to the variance; finite and positive, or 0 when every variance is positive.</param>
    /// <exception cref="ArgumentNullException"><paramref name="runningMean"/> or <paramref name="runningVariance"/> is null.</exception>
    /// <exception cref="ArgumentException">Lengths differ, or a value is out of range; the message names the parameter.</exception>
    public BatchNormalizationParameters(string outputColumnName, string? inputColumnName, IReadOnlyList<double> runningMean, IReadOnlyList<double> runningVariance,
        IReadOnlyList<double>? gamma = null, IReadOnlyList<double>? beta = null, double epsilon = 1e-5)
        : this(outputColumnName, inputColumnName, Copy(runningMean, nameof(runningMean)), Copy(runningVariance, nameof(runningVariance)),
              Broadcast(gamma, runningMean.Count, 1, nameof(gamma)), Broadcast(beta, runningMean.Count, 0, nameof(beta)), epsilon, 0, 0)
    {
    }

    /// <summary>
    /// Parameters known in advance as float (for example a float32 PyTorch <c>BatchNorm1d</c>'s <c>running_mean</c>,
    /// <c>running_var</c>, <c>weight</c>, <c>bias</c>); each value is widened to double exactly. The epsilon is a double,
    /// kept as written (PyTorch's <c>eps</c> is a Python float, a double).
    /// </summary>
    /// <param name="outputColumnName">Name of the column to produce.</param>
    /// <param name="inputColumnName">Name of the column to normalize; null means <paramref name="outputColumnName"/>.
    /// It must have as many slots as <paramref name="runningMean"/> (1 for a scalar column), Single or Double.</param>
    /// <param name="runningMean">Mean per slot; finite.</param>
    /// <param name="runningVariance">Variance per slot; finite and not negative.</param>
    /// <param name="gamma">Scale per slot, or one value for all slots; null means 1.</param>
    /// <param name="beta">Shift per slot, or one value for all slots; null means 0.</param>
    /// <param name="epsilon">Added to the variance; finite and positive, or 0 when every variance is positive.</param>
    /// <exception cref="ArgumentNullException"><paramref name="runningMean"/> or <paramref name="runningVariance"/> is null.</exception>
    /// <exception cref="ArgumentException">Lengths differ, or a value is out of range; the message names the parameter.</exception>
    public BatchNormalizationParameters(string outputColumnName, string? inputColumnName, IReadOnlyList<float> runningMean, IReadOnlyList<float> runningVariance,
        IReadOnlyList<float>? gamma = null, IReadOnlyList<float>? beta = null, double epsilon = 1e-5)
        : this(outputColumnName, inputColumnName, Widen(runningMean, nameof(runningMean)), Widen(runningVariance, nameof(runningVariance)),
              gamma is null ? null : Widen(gamma, nameof(gamma)), beta is null ? null : Widen(beta, nameof(beta)), epsilon)
    {
    }

    /// <summary>As below, with gamma and beta per unit (held once when every unit has the same, as read from a model).</summary>
    internal BatchNormalizationParameters(string outputColumnName, string? inputColumnName, double[]? runningMean, double[] runningVariance,
        double[] gamma, double[] beta, double epsilon, long batchCount, long rowCount, ChannelLayout channelLayout = ChannelLayout.None, FitState? fitState = null,
        bool centered = true)
        : this(outputColumnName, inputColumnName, runningMean, runningVariance, UnitValues.Of(gamma), UnitValues.Of(beta), epsilon, batchCount, rowCount,
              channelLayout, fitState, centered)
    {
    }

    /// <summary>
    /// The parameters, from arrays they keep (not copied: no one writes them); gamma and beta are usually the options'
    /// one value for every unit, held once (16 bytes per slot less for a wide column). A scale-only column's running mean
    /// may be null: scoring does not use it, and it is made when read (<see cref="RunningMean"/>) from
    /// <paramref name="fitState"/>, whose finish gave <paramref name="runningVariance"/>, or 0 without one (8 bytes per
    /// slot less for a wide column).
    /// </summary>
    internal BatchNormalizationParameters(string outputColumnName, string? inputColumnName, double[]? runningMean, double[] runningVariance,
        UnitValues gamma, UnitValues beta, double epsilon, long batchCount, long rowCount, ChannelLayout channelLayout = ChannelLayout.None, FitState? fitState = null,
        bool centered = true)
    {
        if (!Enum.IsDefined(channelLayout))
        {
            ThrowHelper.ThrowOutOfRange(nameof(channelLayout), channelLayout, "None, ChannelsFirst or ChannelsLast");
        }

        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        if (runningMean is null && centered)
        {
            throw new ArgumentNullException(nameof(runningMean), "Centered parameters need their running mean.");
        }

        CheckNotEmpty(runningMean ?? runningVariance, runningMean is null ? nameof(runningVariance) : nameof(runningMean), channelLayout);

        int units = runningVariance.Length;
        if (runningMean is not null)
        {
            ThrowHelper.ThrowIfLengthDiffers(runningMean.Length, runningVariance.Length, nameof(runningVariance));
            CheckAll(runningMean, double.IsFinite, nameof(runningMean), "finite");
        }

        ThrowHelper.ThrowIfLengthDiffers(units, gamma.Count, nameof(gamma));
        ThrowHelper.ThrowIfLengthDiffers(units, beta.Count, nameof(beta));
        CheckAll(runningVariance, v => double.IsFinite(v) && v >= 0, nameof(runningVariance), "finite and not negative");
        CheckAll(gamma, double.IsFinite, nameof(gamma), "finite");
        CheckAll(beta, double.IsFinite, nameof(beta), "finite");
        if (!(epsilon >= 0) || double.IsInfinity(epsilon))
        {
            ThrowHelper.ThrowOutOfRange(nameof(epsilon), epsilon, "finite and positive, or 0");
        }

        if (epsilon == 0)
        {
            // sqrt(variance + 0) must not be 0: torchvision's Normalize(mean, std) is variance std^2 and epsilon 0.
            CheckAll(runningVariance, v => v > 0, nameof(runningVariance), "positive when epsilon is 0");
        }

        if (!centered)
        {
            CheckAll(beta, b => b == 0, nameof(beta), "0 when the parameters scale only (not centered)");
        }

        OutputColumnName = outputColumnName;
        InputColumnName = inputColumnName ?? outputColumnName;
        Centered = centered;
        (_runningMean, _runningVariance, _gamma, _beta) = (runningMean, runningVariance, gamma, beta);
        RunningVariance = Array.AsReadOnly(runningVariance);
        Gamma = gamma.PerUnit is { } gammas ? Array.AsReadOnly(gammas) : gamma;
        Beta = beta.PerUnit is { } betas ? Array.AsReadOnly(betas) : beta;
        Epsilon = epsilon;
        BatchCount = batchCount;
        RowCount = rowCount;
        ChannelLayout = channelLayout;
        FitState = fitState;
    }

    /// <summary>
    /// Per-channel parameters known in advance, for example the <c>running_mean</c>, <c>running_var</c>, <c>weight</c>,
    /// <c>bias</c> and <c>eps</c> of a trained PyTorch <c>BatchNorm2d</c>:
    /// <c>y = gamma[c] * (x - runningMean[c]) / sqrt(runningVariance[c] + epsilon) + beta[c]</c> for every slot of channel c.
    /// </summary>
    /// <param name="outputColumnName">Name of the column to produce.</param>
    /// <param name="inputColumnName">Name of the column to normalize; null means <paramref name="outputColumnName"/>. A
    /// known-size vector of Single or Double with as many channels as <paramref name="runningMean"/> in
    /// <paramref name="channelLayout"/>: its first (channels first) or last (channels last) dimension, or, for a vector
    /// without dimensions, a divisor of its size.</param>
    /// <param name="channelLayout">Where the channel is in the column's slots; not <see cref="ChannelLayout.None"/>.</param>
    /// <param name="runningMean">Mean per channel; finite.</param>
    /// <param name="runningVariance">Variance per channel; finite and not negative (positive when <paramref name="epsilon"/> is 0).</param>
    /// <param name="gamma">Scale per channel, or one value for all; null means 1.</param>
    /// <param name="beta">Shift per channel, or one value for all; null means 0.</param>
    /// <param name="epsilon">Added to the variance; finite and positive, or 0 when every variance is positive.</param>
    /// <returns>The parameters, for <see cref="Microsoft.ML.BatchNormalizationCatalog.BatchNormalize(Microsoft.ML.TransformsCatalog, BatchNormalizationParameters[])"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="runningMean"/> or <paramref name="runningVariance"/> is null.</exception>
    /// <exception cref="ArgumentException">Lengths differ, a value is out of range, or <paramref name="channelLayout"/> is
    /// <see cref="ChannelLayout.None"/>; the message names the parameter.</exception>
    public static BatchNormalizationParameters ForChannels(string outputColumnName, string? inputColumnName, ChannelLayout channelLayout,
        IReadOnlyList<double> runningMean, IReadOnlyList<double> runningVariance, IReadOnlyList<double>? gamma = null, IReadOnlyList<double>? beta = null,
        double epsilon = 1e-5)
    {
        CheckChannels(channelLayout);
        var mean = Copy(runningMean, nameof(runningMean));
        return new BatchNormalizationParameters(outputColumnName, inputColumnName, mean, Copy(runningVariance, nameof(runningVariance)),
            Broadcast(gamma, mean.Length, 1, nameof(gamma)), Broadcast(beta, mean.Length, 0, nameof(beta)), epsilon, 0, 0, channelLayout);
    }

    /// <summary>
    /// torchvision's <c>Normalize(mean, std)</c>: <c>y = (x - mean[c]) / std[c]</c> for every slot of channel c, for
    /// example the ImageNet constants in front of a model exported from PyTorch, after <c>ExtractPixels</c> scaled the
    /// pixels to [0, 1] (<c>scaleImage: 1f / 255</c>).
    /// </summary>
    /// <param name="outputColumnName">Name of the column to produce.</param>
    /// <param name="inputColumnName">Name of the column to normalize; null means <paramref name="outputColumnName"/>; see
    /// <see cref="ForChannels"/>.</param>
    /// <param name="channelLayout">Where the channel is in the column's slots; not <see cref="ChannelLayout.None"/>.</param>
    /// <param name="mean">Mean per channel, at least one; finite.</param>
    /// <param name="std">Standard deviation per channel, as many as <paramref name="mean"/>; in [2^-511, 2^512), about
    /// 1.49e-154 to 1.34e154, the range where its square (the running variance) is a normal double.</param>
    /// <returns>Parameters with running mean <paramref name="mean"/>, running variance <c>std^2</c> and epsilon 0, so that
    /// <c>sqrt(variance + epsilon)</c> is <paramref name="std"/> exactly. A Single column computes
    /// <c>(x - (float)mean) / (float)std</c> in float, a Double column <c>(x - mean) / std</c> in double: torchvision's
    /// <c>Normalize</c> on a float32 (float64) tensor bit for bit, in the transform and in the ONNX export (tested on
    /// a million seeded values in [0, 1) per channel, every pixel level and random values over the whole range). Only a
    /// std that is 0 or infinite as a float (below about 1.4e-45, above 3.4e38) is applied by a Single column as
    /// <c>(x - mean) * (1 / std)</c>, the reciprocal computed in double.</returns>
    /// <remarks>
    /// The parameters keep a variance, as every BatchNormalize stage does (a fit, a saved model, the ONNX export), and
    /// <paramref name="std"/> is kept as its square. A std outside [2^-511, 2^512) has no such square: it underflows to
    /// a subnormal or 0 (the std would come back changed, or not at all), or overflows to infinity. Such a std is refused
    /// rather than stored another way; a real standard deviation of data is far inside the range.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="mean"/> or <paramref name="std"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="channelLayout"/> is <see cref="ChannelLayout.None"/>,
    /// <paramref name="mean"/> is empty, or a value is out of range; the message names the argument and the index
    /// (<c>mean[1]</c>, <c>std[0]</c>).</exception>
    /// <exception cref="ArgumentException"><paramref name="std"/> and <paramref name="mean"/> differ in length.</exception>
    public static BatchNormalizationParameters FromMeanAndStd(string outputColumnName, string? inputColumnName, ChannelLayout channelLayout,
        IReadOnlyList<double> mean, IReadOnlyList<double> std)
    {
        // Each argument is checked here under its own name, before ForChannels would check the derived runningMean and
        // runningVariance under theirs.
        CheckChannels(channelLayout);
        var means = Copy(mean, nameof(mean));
        var deviations = Copy(std, nameof(std));
        CheckNotEmpty(means, nameof(mean), channelLayout);
        ThrowHelper.ThrowIfLengthDiffers(means.Length, deviations.Length, nameof(std));
        CheckAll(means, double.IsFinite, nameof(mean), "finite");
        CheckAll(deviations, s => double.IsNormal(s * s) && s > 0, nameof(std), StdRange);
        return ForChannels(outputColumnName, inputColumnName, channelLayout, means, Array.ConvertAll(deviations, s => s * s), epsilon: 0);
    }

    /// <summary>
    /// What <see cref="FromMeanAndStd"/> accepts of a std: [2^-511, 2^512), where its square is a normal double, so that
    /// the variance is stored without underflow or overflow and <c>sqrt(std * std)</c> is std exactly.
    /// </summary>
    private const string StdRange = "in [2^-511, 2^512), about 1.49e-154 to 1.34e154, so that its square (the variance) is a normal double";

    private double[]? _runningMean; // a scale-only column's: null until read
    private IReadOnlyList<double>? _runningMeanView;
    private readonly double[] _runningVariance;
    private readonly UnitValues _gamma;
    private readonly UnitValues _beta;
    private readonly AffineParameters?[] _scoring = new AffineParameters?[4];

    /// <summary>Name of the produced column.</summary>
    public string OutputColumnName { get; }

    /// <summary>Name of the normalized column.</summary>
    public string InputColumnName { get; }

    /// <summary>Mean per slot used at scoring time, in double precision (a Single column uses it rounded to float).</summary>
    /// <remarks>A scale-only fit's model does not keep it (its scoring does not use it): it is computed from the fit
    /// state when first read, the same values.</remarks>
    public IReadOnlyList<double> RunningMean => _runningMeanView ??= Array.AsReadOnly(RunningMeanArray);

    /// <summary>Variance per slot used at scoring time, in double precision.</summary>
    public IReadOnlyList<double> RunningVariance { get; }

    /// <summary>Scale per slot.</summary>
    public IReadOnlyList<double> Gamma { get; }

    /// <summary>Shift per slot.</summary>
    public IReadOnlyList<double> Beta { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; }

    /// <summary>Mini-batches the fit used (0 for given parameters).</summary>
    public long BatchCount { get; }

    /// <summary>Rows in those mini-batches (0 for given parameters).</summary>
    public long RowCount { get; }

    /// <summary>
    /// <see cref="ChannelLayout.None"/>: the lists have one value per slot. Otherwise one value per channel, the channel
    /// being the first (<see cref="ChannelLayout.ChannelsFirst"/>) or last (<see cref="ChannelLayout.ChannelsLast"/>)
    /// dimension of the column's slots.
    /// </summary>
    public ChannelLayout ChannelLayout { get; }

    /// <summary>The state of the fit that made these parameters, to continue it or merge it; null for known parameters.</summary>
    internal FitState? FitState { get; }

    /// <summary>
    /// True (the default): <c>y = Gamma * (x - RunningMean) / sqrt(RunningVariance + Epsilon) + Beta</c>. False: scale only,
    /// <c>y = Gamma * x / sqrt(RunningVariance + Epsilon)</c>, zeros stay zero and sparse rows stay sparse; <see cref="Beta"/>
    /// is 0, and <see cref="RunningMean"/> (the fitted mean, or 0 for <see cref="ForScaleOnly"/>) is not used.
    /// </summary>
    public bool Centered { get; }

    /// <summary>
    /// Scale-only parameters known in advance (scikit-learn's <c>StandardScaler(with_mean=False)</c>: <c>var_</c>, epsilon 0):
    /// <c>y = gamma * x / sqrt(runningVariance + epsilon)</c> per slot; zeros stay zero and sparse rows stay sparse.
    /// </summary>
    /// <param name="outputColumnName">Name of the column to produce.</param>
    /// <param name="inputColumnName">Name of the column to scale; null means <paramref name="outputColumnName"/>. It must
    /// have as many slots as <paramref name="runningVariance"/> (1 for a scalar column), Single or Double.</param>
    /// <param name="runningVariance">Variance per slot, at least one; finite and not negative (positive when <paramref name="epsilon"/> is 0).</param>
    /// <param name="gamma">Scale per slot, or one value for all slots; null means 1.</param>
    /// <param name="epsilon">Added to the variance; finite and positive, or 0 when every variance is positive.</param>
    /// <returns>Parameters with <see cref="Centered"/> false, running mean and beta 0.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="runningVariance"/> is null.</exception>
    /// <exception cref="ArgumentException">Lengths differ, or a value is out of range; the message names the parameter.</exception>
    public static BatchNormalizationParameters ForScaleOnly(string outputColumnName, string? inputColumnName, IReadOnlyList<double> runningVariance,
        IReadOnlyList<double>? gamma = null, double epsilon = 1e-5)
    {
        var variance = Copy(runningVariance, nameof(runningVariance));
        CheckNotEmpty(variance, nameof(runningVariance), ChannelLayout.None); // the running mean is made here, of its length
        return new BatchNormalizationParameters(outputColumnName, inputColumnName, null, variance,
            Broadcast(gamma, variance.Length, 1, nameof(gamma)), UnitValues.Uniform(variance.Length, 0), epsilon, 0, 0, ChannelLayout.None, centered: false);
    }

    /// <summary>
    /// Whether these parameters are a pure standardization, <c>y = (x - RunningMean) / sqrt(RunningVariance)</c>:
    /// centered, epsilon 0, every gamma 1 and every beta 0, as <see cref="FromMeanAndStd"/> makes them. Scoring then
    /// divides by the standard deviation instead of multiplying by its reciprocal (<see cref="AffineParameters{T}.Divides"/>):
    /// decided from the values, so a saved model needs no flag, and one saved before scores the same way.
    /// </summary>
    internal bool IsStandardization => Centered && Epsilon == 0 && _gamma.All(1) && _beta.All(0);

    /// <summary>Number of statistics units: slots (1 for a scalar column), or channels.</summary>
    internal int UnitCount => _runningVariance.Length;

    /// <summary>
    /// These values for another column pair, as known parameters (no fit state, batch and row counts 0): what the inverse
    /// stage keeps. The value arrays are shared; no one writes them.
    /// </summary>
    internal BatchNormalizationParameters ForColumns(string outputColumnName, string inputColumnName) =>
        new(outputColumnName, inputColumnName, Centered || FitState is null ? _runningMean : RunningMeanArray, _runningVariance, _gamma, _beta, Epsilon, 0, 0, ChannelLayout, null, Centered);

    /// <summary>
    /// One value per slot: <paramref name="values"/> (held once if all the same), its single value, or
    /// <paramref name="fallback"/> when null; a single value is held once, not repeated.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="values"/> has neither 1 value nor one per slot.</exception>
    internal static UnitValues Broadcast<T>(IReadOnlyList<T>? values, int slots, double fallback, string paramName)
        where T : System.Numerics.INumberBase<T>
    {
        if (values is null)
        {
            return UnitValues.Uniform(slots, fallback);
        }

        if (values.Count == 1)
        {
            return UnitValues.Uniform(slots, double.CreateTruncating(values[0]));
        }

        if (values.Count != slots)
        {
            throw new ArgumentException($"'{paramName}' must have 1 value or one per slot ({slots}), got {values.Count}.", paramName);
        }

        return UnitValues.Of(values.Select(double.CreateTruncating).ToArray());
    }

    private static double[] Copy(IReadOnlyList<double> values, string paramName)
    {
        ArgumentNullException.ThrowIfNull(values, paramName);
        return [.. values];
    }

    private static double[] Widen(IReadOnlyList<float> values, string paramName)
    {
        ArgumentNullException.ThrowIfNull(values, paramName);
        return values.Select(v => (double)v).ToArray();
    }

    /// <summary>The running means, without the read-only wrapper's per-element interface calls.</summary>
    internal ReadOnlySpan<double> RunningMeanValues => RunningMeanArray;

    /// <summary>The running means to save: held, or made for the writing and not kept.</summary>
    internal ReadOnlySpan<double> RunningMeanToWrite => Volatile.Read(ref _runningMean) ?? ComputeRunningMean();

    /// <summary>Whether the running mean is held (a centered column's always; a scale-only one's once read).</summary>
    internal bool HoldsRunningMean => Volatile.Read(ref _runningMean) is not null;

    /// <summary>The running means, made once on first read when not held (a scale-only column's).</summary>
    private double[] RunningMeanArray =>
        Volatile.Read(ref _runningMean) ?? Interlocked.CompareExchange(ref _runningMean, ComputeRunningMean(), null) ?? _runningMean!;

    // A scale-only column's running mean: its fit's, finished again from the state (the same computation, so the same
    // bits as the fit's), or 0 for parameters given without one.
    private double[] ComputeRunningMean() =>
        FitState is { } state ? state.FinishMean(InputColumnName, ChannelLayout == ChannelLayout.None ? "slot" : "channel") : new double[_runningVariance.Length];

    /// <summary>The running variances.</summary>
    internal ReadOnlySpan<double> RunningVarianceValues => _runningVariance;

    /// <summary>The gammas, held once when every unit has the same.</summary>
    internal UnitValues GammaValues => _gamma;

    /// <summary>The betas, held once when every unit has the same.</summary>
    internal UnitValues BetaValues => _beta;

    /// <summary>
    /// The scoring parameters in one precision and direction (the normalization, or its inverse), computed once and shared
    /// by every Transform and cursor (the parameters never change; for a million-slot column they are 12 MB and a million
    /// square roots). Read-only.
    /// </summary>
    internal AffineParameters Scoring(bool isDouble, AffineDirection direction, Func<BatchNormalizationParameters, bool, AffineDirection, AffineParameters> compute)
    {
        int k = (isDouble ? 1 : 0) + (direction == AffineDirection.Inverse ? 2 : 0);
        return Volatile.Read(ref _scoring[k]) ?? Interlocked.CompareExchange(ref _scoring[k], compute(this, isDouble, direction), null) ?? _scoring[k]!;
    }

    private static void CheckChannels(ChannelLayout channelLayout)
    {
        if (channelLayout == ChannelLayout.None)
        {
            ThrowHelper.ThrowOutOfRange(nameof(channelLayout), channelLayout, "ChannelsFirst or ChannelsLast (use the constructor for per-slot parameters)");
        }
    }

    private static void CheckNotEmpty(double[] values, string paramName, ChannelLayout channelLayout)
    {
        if (values.Length < 1)
        {
            ThrowHelper.ThrowOutOfRange(paramName, values.Length, channelLayout == ChannelLayout.None ? "at least one slot long" : "at least one channel long");
        }
    }

    private static void CheckAll(UnitValues values, Func<double, bool> valid, string paramName, string expected)
    {
        if (values.PerUnit is { } perUnit)
        {
            CheckAll(perUnit, valid, paramName, expected);
        }
        else if (values.Count > 0 && !valid(values[0]))
        {
            // Every unit's value is this one: the first is the first that fails.
            throw new ArgumentOutOfRangeException(paramName, values[0], $"'{paramName}[0]' must be {expected}, got {values[0]}.");
        }
    }

    private static void CheckAll(double[] values, Func<double, bool> valid, string paramName, string expected)
    {
        if (values.Length > 0 && TensorPrimitives.IsFiniteAll<double>(values) && valid(TensorPrimitives.Min<double>(values)) && valid(TensorPrimitives.Max<double>(values)))
        {
            return; // every check here holds for all values between two that pass it (a million-slot fit: one vectorized pass)
        }

        for (int i = 0; i < values.Length; i++)
        {
            if (!valid(values[i]))
            {
                throw new ArgumentOutOfRangeException(paramName, values[i], $"'{paramName}[{i}]' must be {expected}, got {values[i]}.");
            }
        }
    }
}
