using Microsoft.ML;
using Microsoft.ML.Runtime;
using Ml.Normalization.Fitting;
using Ml.Normalization.Kernels;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms.BatchNormalize;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization;

/// <summary>
/// Batch normalization as an ML.NET estimator: <see cref="ColumnPairEstimator{TTransformer}.Fit(IDataView)"/> streams the training data once in mini-batches
/// of <see cref="Options.BatchSize"/> consecutive rows and keeps running statistics per slot; the fitted
/// <see cref="BatchNormalizingTransformer"/> computes <c>y = gamma * (x - running_mean) / sqrt(running_var + epsilon) + beta</c>.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// | Estimator characteristics | |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | Yes |
/// | Input column data type | `Single` or `Double`, scalar or known-size vector (sparse accepted) |
/// | Output column data type | The input's type and size; dense, or sparse as the input with <see cref="Options.Center"/> false |
/// | Exportable to ONNX | Yes: Sub, Mul, Add (scale only: Mul) |
///
/// Per slot and mini-batch, the statistics are the mean and biased variance of the slot's finite values in that
/// batch: NaN and infinities are left out (as `NormalizeMeanVariance` does), and a slot with fewer than 2 finite
/// values in a batch skips that batch. The running statistics follow the seed article,
/// `running = Momentum * running + (1 - Momentum) * batch`, optionally bias-corrected (see <see cref="Options"/>).
/// A slot whose running variance is 0 (constant input) maps its constant to `beta`, other values are scaled by
/// `gamma / sqrt(epsilon)`, even when that scale is beyond the column type's range. NaN passes through the transform
/// as NaN.
///
/// Precision: the statistics are accumulated and kept in double for Single and Double columns alike, so Single data of
/// any magnitude fits (nanosecond timestamps, ~1.7e18, included) and batch counts are exact. A Double column is normalized in
/// double with the double parameters; a Single column in float, with the mean, `gamma / sqrt(var + epsilon)` and
/// `beta` each computed in double and rounded once. A statistic beyond double's range (deviations of ~1.3e154 and more)
/// fails the fit with an `InvalidOperationException` that names the column and the slot. The options are double too
/// (momentum, epsilon, initial values, gamma, beta), so the fitted <see cref="BatchNormalizationParameters"/> hold the
/// values as written: an `Epsilon` of 1e-5 reads back as 1e-5, and error messages print it so.
///
/// Channels (<see cref="Options.ChannelLayout"/>): an image column of C x H x W slots (`ExtractPixels`' output) gets one
/// mean, variance, gamma and beta per channel, over each batch's rows x H x W values of the channel, as PyTorch's
/// `BatchNorm2d`; every other option applies per channel. The channel count comes from the column's dimensions
/// (`[C, H, W]` channels first, `[H, W, C]` channels last) or from <see cref="Options.ChannelCount"/>; a column that is not
/// a known-size vector, whose dimensions contradict the option, or whose size the channel count does not divide, is
/// refused at `Fit` (and a scalar column at `GetOutputSchema`) with an `ArgumentOutOfRangeException` naming it.
///
/// Sparse columns: a per-slot vector column whose first row is sparse is fitted in O(non-zeros) per row, to the dense
/// computation's statistics within rounding. With <see cref="Options.Center"/> false (scale only) the output keeps the
/// input's sparsity; centering a sparse column of more than 10,000 slots logs a warning that its output will be dense.
/// ]]></format>
/// </remarks>
public sealed class BatchNormalizingEstimator : ColumnPairEstimator<BatchNormalizingTransformer>
{
    private readonly Options _options;

    internal BatchNormalizingEstimator(IHostEnvironment environment, InputOutputColumnPair[] columns, Options options)
        : base(environment, columns, nameof(BatchNormalizingEstimator))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
    }

    // The defaults of the catalog methods and of Options, in one place. Internal, as ML.NET's Defaults classes are
    // (NormalizingEstimator.Defaults): the values show in the catalog signatures and in each option's documentation, and
    // a caller who wants a default omits the argument, so a public class would only freeze one more name at 1.0.
    internal static class Defaults
    {
        /// <summary>Rows per mini-batch.</summary>
        public const int BatchSize = 256;

        /// <summary>Weight of the old running value (the seed article's 0.9; PyTorch's momentum 0.1).</summary>
        public const double Momentum = 0.9;

        /// <summary>Added to the variance before the square root.</summary>
        public const double Epsilon = 1e-5;
    }

    /// <summary>
    /// Everything the fit can be told. The defaults reproduce the short catalog overloads; see the README for the
    /// seed-reference, PyTorch and Keras conventions side by side.
    /// </summary>
    public sealed class Options
    {
        /// <summary>Rows per mini-batch, at least 2; 256 by default. A final partial batch counts if it has at least 2 rows.</summary>
        public int BatchSize = Defaults.BatchSize;

        /// <summary>
        /// <c>running = Momentum * running + (1 - Momentum) * batch</c>, in [0, 1); 0.9 by default (the seed article's; PyTorch's
        /// <c>momentum=0.1</c>). Null: the plain average of all batches.
        /// </summary>
        public double? Momentum = Defaults.Momentum;

        /// <summary>Added to the variance before the square root; positive and finite, 1e-5 by default (PyTorch's <c>eps</c>).</summary>
        public double Epsilon = Defaults.Epsilon;

        /// <summary>
        /// Divide out the weight of the initial values, <c>(running - Momentum^t * initial) / (1 - Momentum^t)</c> with t
        /// the batches seen (as Adam does), so a fit of few batches is not pulled toward the initial values.
        /// </summary>
        public bool BiasCorrection = true;

        /// <summary>
        /// Feed the batch variance times n/(n-1) into the running variance (PyTorch's convention); with
        /// <see cref="WholeDataStatistics"/>, the variance of all values is divided by n - 1 instead of n.
        /// </summary>
        public bool UnbiasedRunningVariance;

        /// <summary>
        /// Make the running mean and variance the exact mean and variance of all finite values of each slot (or channel),
        /// independent of the batch boundaries: the batch-normalization paper's population statistics, and what
        /// <c>NormalizeMeanVariance(fixZero: false)</c> computes. Each batch's count, mean and sum of squared deviations are
        /// combined with Chan et al.'s formulas; <see cref="Momentum"/>, <see cref="BiasCorrection"/> and the initial values
        /// (except for a slot with no finite value) are then not used. Compare <c>Momentum = null</c>, the plain average of
        /// the batches' own statistics: on data whose mean drifts across the rows the average within-batch variance is lower
        /// than the variance of all values. Fits of disjoint shards with this option merge exactly
        /// (<see cref="BatchNormalizingTransformer.Merge"/>).
        /// </summary>
        public bool WholeDataStatistics;

        /// <summary>
        /// The column of example weights, as ML.NET trainers' <c>exampleWeightColumnName</c> and scikit-learn's
        /// <c>sample_weight</c>: a scalar Single or Double column, each row's weight finite and 0 or more. Null (the
        /// default): every row weighs 1. Frequency weights: a weight of 2 counts the row twice and 0 leaves it out. Each
        /// batch's statistics become its weighted mean <c>sum w x / sum w</c> and weighted biased variance
        /// <c>sum w (x - mean)^2 / sum w</c> (times W / (W - 1), W = sum w, with <see cref="UnbiasedRunningVariance"/>); a
        /// batch counts in a slot (or channel) when the weight sum of its finite values there is at least 2 (with
        /// <see cref="WholeDataStatistics"/>, when it is above 0: the count of all values becomes their weight sum).
        /// Sparse rows are fitted dense (their implicit zeros carry the row's weight), O(slots) per row. A continued or
        /// merged fit must use the same weight column. With <see cref="BatchStatisticsInTraining"/> the training pass
        /// normalizes each batch with its weighted statistics.
        /// </summary>
        public string? ExampleWeightColumnName;

        /// <summary>Initial running mean of every slot (or channel); finite, 0 by default, as the seed reference and PyTorch.</summary>
        public double InitialRunningMean;

        /// <summary>Initial running variance of every slot (or channel); finite and not negative, 0 by default, as the seed
        /// reference (PyTorch starts at 1).</summary>
        public double InitialRunningVariance;

        /// <summary>
        /// Normalize the training pass with each mini-batch's own statistics, as the layer does in training mode: when
        /// <c>EstimatorChain.Fit</c> passes the data on to the next stages, each run of <see cref="BatchSize"/> consecutive
        /// rows is normalized with its own mean and variance. Scoring always uses the running statistics. Off by default.
        /// </summary>
        public bool BatchStatisticsInTraining;

        /// <summary>
        /// Receives the fit's progress, for an app that draws a bar: at most every 0.1 s while the data streams, and once
        /// more when the pass ends (<see cref="FitProgress.IsComplete"/>). Called on the fitting thread; keep it short.
        /// Independently of it, a fit longer than a second writes its progress to <c>mlContext.Log</c> about once per
        /// second (rows read, rows per second, and the fraction done when the source knows its row count).
        /// </summary>
        public IProgress<FitProgress>? Progress;

        /// <summary>
        /// <see cref="ChannelLayout.None"/> (the default): statistics per slot. <see cref="ChannelLayout.ChannelsFirst"/> or
        /// <see cref="ChannelLayout.ChannelsLast"/>: statistics per channel of an image-like column (PyTorch's <c>BatchNorm2d</c>),
        /// over the batch's rows and the channel's spatial positions.
        /// </summary>
        public ChannelLayout ChannelLayout;

        /// <summary>
        /// With a <see cref="ChannelLayout"/>: the number of channels, or 0 to take it from the column's dimensions (the
        /// first of <c>[C, H, W]</c>, the last of <c>[H, W, C]</c>); when both are known they must agree. Not negative.
        /// </summary>
        public int ChannelCount;

        /// <summary>Scale per slot (per channel with a <see cref="ChannelLayout"/>), or one value for all; finite; null: 1.</summary>
        public double[]? Gamma;

        /// <summary>Shift per slot (per channel with a <see cref="ChannelLayout"/>), or one value for all; finite; null: 0.</summary>
        public double[]? Beta;

        /// <summary>
        /// True (the default): <c>y = gamma * (x - running_mean) / sqrt(running_var + epsilon) + beta</c>. False: scale only,
        /// <c>y = gamma * x / sqrt(running_var + epsilon)</c> (scikit-learn's <c>StandardScaler(with_mean=False)</c>), so zeros
        /// stay zero and sparse rows stay sparse with the same indices; <see cref="Beta"/> must then be null or 0. The
        /// statistics are fitted the same way in both modes (the mean is kept in the parameters, unused).
        /// </summary>
        public bool Center = true;

        /// <summary>
        /// Threads the fit reads on: null or 1 (the default), one, and the fit is the serial fit, bit for bit the same on
        /// every machine, as ML.NET's transforms are. 2 or more: data that knows its row count and does not split itself
        /// (in-memory data), or ML.NET's cache, is read in that many consecutive chunks of whole batches, one per thread, and the chunks'
        /// statistics are combined in row order, as <see cref="BatchNormalizingTransformer.Merge"/> combines shards:
        /// within 1e-12 relative of the serial fit (the rounding of the combination), whatever the rule. Data that splits
        /// itself (the output of ML.NET's transforms and loaders, whose cursors ML.NET already feeds from worker threads on
        /// every core, computing every row they pass) is read through its own cursor set, one cursor per thread, for
        /// <see cref="WholeDataStatistics"/> (any order; within 1e-12 of the serial fit, and which rows each cursor gets is
        /// ML.NET's choice), and on one cursor for the rules that need row order. A source without a row count is read
        /// on one thread.
        /// </summary>
        public int? NumberOfThreads;

        /// <summary>A copy the estimator keeps, arrays included, so that the caller's later changes do not reach it.</summary>
        internal Options Clone()
        {
            var copy = (Options)MemberwiseClone();
            copy.Gamma = (double[]?)Gamma?.Clone();
            copy.Beta = (double[]?)Beta?.Clone();
            return copy;
        }

        internal void Validate()
        {
            CheckBatchSize(BatchSize, nameof(BatchSize));
            CheckMomentum(Momentum, nameof(Momentum));
            CheckEpsilon(Epsilon, nameof(Epsilon));

            if (ExampleWeightColumnName is { Length: 0 })
            {
                throw new ArgumentException($"'{nameof(ExampleWeightColumnName)}' must be a column name or null, got an empty string.", nameof(ExampleWeightColumnName));
            }

            if (!double.IsFinite(InitialRunningMean))
            {
                throw new ArgumentOutOfRangeException(nameof(InitialRunningMean), InitialRunningMean, $"'{nameof(InitialRunningMean)}' must be finite, got {InitialRunningMean}.");
            }

            if (!(InitialRunningVariance >= 0) || double.IsInfinity(InitialRunningVariance))
            {
                throw new ArgumentOutOfRangeException(nameof(InitialRunningVariance), InitialRunningVariance, $"'{nameof(InitialRunningVariance)}' must be finite and not negative, got {InitialRunningVariance}.");
            }

            CheckFinite(Gamma, nameof(Gamma));
            CheckFinite(Beta, nameof(Beta));
            if (!Center && Beta is not null && Array.Exists(Beta, b => b != 0))
            {
                throw new ArgumentOutOfRangeException(nameof(Beta), $"'{nameof(Beta)}' must be null or 0 when '{nameof(Center)}' is false (scale only: no shift is added).");
            }

            ColumnLayouts.CheckOptions(ChannelLayout, ChannelCount, nameof(ChannelLayout), nameof(ChannelCount));
            if (NumberOfThreads is < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(NumberOfThreads), NumberOfThreads, $"'{nameof(NumberOfThreads)}' must be null or at least 1, got {NumberOfThreads}.");
            }
        }

        // The checks of the options the short catalog overloads take as arguments; each error names paramName, the
        // option's name here and the caller's argument there.
        internal static void CheckBatchSize(int value, string paramName)
        {
            if (value < 2)
            {
                ThrowHelper.ThrowOutOfRange(paramName, value, "at least 2");
            }
        }

        internal static void CheckMomentum(double? value, string paramName)
        {
            if (value is double m && !(m >= 0 && m < 1))
            {
                ThrowHelper.ThrowOutOfRange(paramName, m, "in [0, 1) or null");
            }
        }

        internal static void CheckEpsilon(double value, string paramName)
        {
            if (!(value > 0) || double.IsInfinity(value))
            {
                ThrowHelper.ThrowOutOfRange(paramName, value, "positive and finite");
            }
        }

        private static void CheckFinite(double[]? values, string name)
        {
            if (values is null)
            {
                return;
            }

            if (values.Length == 0)
            {
                throw new ArgumentException($"'{name}' must have 1 value or one per slot, got none.", name);
            }

            int bad = Array.FindIndex(values, v => !double.IsFinite(v));
            if (bad >= 0)
            {
                throw new ArgumentOutOfRangeException(name, values[bad], $"'{name}[{bad}]' must be finite, got {values[bad]}.");
            }
        }
    }

    internal override bool AcceptsVariableSize => false;

    /// <summary>
    /// Continues <paramref name="previous"/>'s fit on <paramref name="input"/>, as ML.NET's trainers continue from model
    /// parameters: the running statistics, their bias-correction state and the batch and row counts carry on, so
    /// fitting A and then continuing on B gives the fit of A followed by B, bit for bit, when A's row count is a multiple
    /// of <see cref="Options.BatchSize"/>. Gamma, beta, epsilon and the training pass are this estimator's.
    /// </summary>
    /// <param name="input">The new data, with the previous fit's columns.</param>
    /// <param name="previous">A transformer this estimator's options fitted (or loaded from a model it saved). One made
    /// from known parameters continues from its running statistics as if they were the initial values: bias correction
    /// then counts only the new batches.</param>
    /// <returns>The continued transformer; <paramref name="previous"/> is not changed.</returns>
    /// <exception cref="ArgumentException"><paramref name="previous"/> has other columns, other slot or channel counts,
    /// or was fitted with other statistics options (the message names the option).</exception>
    /// <exception cref="ArgumentOutOfRangeException">An input column is missing or of another type.</exception>
    public BatchNormalizingTransformer Fit(IDataView input, BatchNormalizingTransformer previous)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(previous);
        var shapes = Array.ConvertAll(Columns, pair => ColumnTypes.Check(input.Schema, pair.InputColumnName, AcceptsVariableSize, nameof(input)));
        CheckOtherInputs(input.Schema, nameof(input));
        return Fit(input, shapes, previous);
    }

    /// <summary>Streams <paramref name="input"/> once in mini-batches and returns the fitted transformer.</summary>
    internal override BatchNormalizingTransformer Fit(IDataView input, NumericColumnShape[] inputShapes) => Fit(input, inputShapes, null);

    private BatchNormalizingTransformer Fit(IDataView input, NumericColumnShape[] inputShapes, BatchNormalizingTransformer? previous)
    {
        var gammas = new UnitValues[Columns.Length];
        var betas = new UnitValues[Columns.Length];
        var layouts = new StatisticsLayout[Columns.Length];
        for (int i = 0; i < Columns.Length; i++)
        {
            var column = input.Schema[Columns[i].InputColumnName];
            layouts[i] = ColumnLayouts.Resolve(column.Type, column.Name, _options.ChannelLayout, _options.ChannelCount, nameof(input));
            // Before anything per unit is allocated (gamma and beta given per unit are the options' own, already held):
            // the least this column's fit holds per unit (per slot, the sparse moments' tag; the dense moments are
            // checked again when the first row chooses them).
            FitMemory.Ensure(column.Name, layouts[i].Units, layouts[i].UnitName, FitMemory.StateBytes + FitMemory.ParameterBytes(_options.Center) + (layouts[i].HasChannels ? 0 : FitMemory.SparseMomentsBytes),
                "its fit state, its parameters and the open batch's moments");
            gammas[i] = BatchNormalizationParameters.Broadcast(_options.Gamma, layouts[i].Units, 1, nameof(Options.Gamma));
            betas[i] = BatchNormalizationParameters.Broadcast(_options.Beta, layouts[i].Units, 0, nameof(Options.Beta));
        }

        var states = new FitState[Columns.Length];
        for (int i = 0; i < Columns.Length; i++)
        {
            states[i] = previous is null ? NewState(layouts[i].Units) : ContinuedState(previous, i, layouts[i]);
        }

        var result = BatchNormalizationFit.Run(Host, input, Columns, inputShapes, layouts, states, _options, () => layouts.Select(l => NewState(l.Units)).ToArray());
        var parameters = new BatchNormalizationParameters[Columns.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            // A scale-only model keeps no running mean (its scoring does not use it; read, it is made from the state).
            var (mean, variance) = _options.Center ? result.Statistics[i].Finish() : (null, result.Statistics[i].FinishVariance());
            var before = previous?.Columns[i];
            parameters[i] = new BatchNormalizationParameters(Columns[i].OutputColumnName, Columns[i].InputColumnName,
                mean, variance, gammas[i], betas[i], _options.Epsilon, result.Batches + (before?.BatchCount ?? 0), result.Rows + (before?.RowCount ?? 0),
                _options.ChannelLayout, states[i], _options.Center);
        }

        return new BatchNormalizingTransformer(parameters, _options.BatchStatisticsInTraining ? _options.BatchSize : 0);
    }

    internal override SchemaShape OutputAnnotations(SchemaShape.Column input) => SchemaShapes.NormalizedAnnotations(input);

    /// <summary>The statistics rule the options describe: the one place that maps the options to a rule.</summary>
    private StatisticsRule Rule =>
        _options.WholeDataStatistics ? new WholeDataRule(_options.UnbiasedRunningVariance, _options.ExampleWeightColumnName)
        : _options.Momentum is double momentum ? new MomentumRule(momentum, _options.BiasCorrection, _options.UnbiasedRunningVariance, _options.ExampleWeightColumnName)
        : new AverageRule(_options.UnbiasedRunningVariance, _options.ExampleWeightColumnName);

    private FitState NewState(int units) => FitState.Fresh(Rule, units, _options.InitialRunningMean, _options.InitialRunningVariance);

    /// <summary>
    /// Column <paramref name="i"/>'s state to continue from, after checking that <paramref name="previous"/> fits this
    /// estimator: the new batches fold onto it, which is the previous state combined, in row order, with the fit of the
    /// new data.
    /// </summary>
    private FitState ContinuedState(BatchNormalizingTransformer previous, int i, StatisticsLayout layout)
    {
        const string paramName = "previous";
        if (previous.Columns.Count != Columns.Length)
        {
            throw new ArgumentException($"The previous fit has {previous.Columns.Count} column(s), this estimator {Columns.Length}.", paramName);
        }

        var p = previous.Columns[i];
        if (p.OutputColumnName != Columns[i].OutputColumnName || p.InputColumnName != Columns[i].InputColumnName)
        {
            throw new ArgumentException($"The previous fit's column {i} is '{p.OutputColumnName}' from '{p.InputColumnName}', this estimator's '{Columns[i].OutputColumnName}' from '{Columns[i].InputColumnName}'.", paramName);
        }

        if (p.ChannelLayout != layout.Layout || p.UnitCount != layout.Units)
        {
            throw new ArgumentException($"The previous fit of column '{p.InputColumnName}' has {p.UnitCount} {(p.ChannelLayout == ChannelLayout.None ? "slot" : "channel")}(s) ({p.ChannelLayout}); this data and estimator give {layout.Units} {layout.UnitName}(s) ({layout.Layout}).", paramName);
        }

        var rule = Rule;
        if (p.FitState is not { } state)
        {
            // Given parameters: their statistics are where the new fit starts.
            return FitState.StartingFrom(rule, p.RunningMeanValues, p.RunningVarianceValues);
        }

        if (state.Rule.Difference(rule) is var (option, before, now))
        {
            throw new ArgumentException($"The previous fit used {option} = {before}, this estimator {now}; a fit continues only with the same statistics options.", paramName);
        }

        return state.Copy();
    }

    /// <summary>With channels, a scalar is refused here; the channel count is checked against the vector at Fit, where its size is known.</summary>
    internal override void CheckOtherInputs(DataViewSchema schema, string paramName)
    {
        if (_options.ExampleWeightColumnName is { } weight)
        {
            ColumnTypes.CheckWeight(schema, weight, paramName);
        }
    }

    internal override void CheckOtherInputs(SchemaShape schema, string paramName)
    {
        if (_options.ExampleWeightColumnName is { } weight)
        {
            ColumnTypes.CheckWeight(schema, weight, paramName);
        }
    }

    internal override void CheckInput(SchemaShape.Column input, string paramName) =>
        ColumnLayouts.CheckShape(input, _options.ChannelLayout, paramName);
}
