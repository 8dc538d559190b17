using Ml.Normalization;
using Ml.Normalization.MlNetInterop;

namespace Microsoft.ML;

/// <summary>
/// <c>mlContext.Transforms.BatchNormalize(...)</c>: batch normalization as an ML.NET pipeline stage.
/// </summary>
public static class BatchNormalizationCatalog
{
    /// <summary>
    /// Normalizes <paramref name="inputColumnName"/> with running statistics fitted over mini-batches:
    /// <c>y = (x - running_mean) / sqrt(running_var + epsilon)</c> per slot.
    /// </summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="outputColumnName">Name of the column to produce; it has the input's type and size.</param>
    /// <param name="inputColumnName">Name of the column to normalize; null means <paramref name="outputColumnName"/>.
    /// <c>Single</c> or <c>Double</c>, scalar or known-size vector, dense or sparse.</param>
    /// <param name="batchSize">Rows per mini-batch, at least 2.</param>
    /// <param name="momentum">Weight of the old running value, in [0, 1) (the seed article's 0.9 = PyTorch's 0.1).</param>
    /// <param name="epsilon">Added to the variance before the square root; positive and finite. The fitted
    /// <see cref="BatchNormalizationParameters.Epsilon"/> is this value as written.</param>
    /// <returns>The estimator; its fitted transformer exposes the statistics in <see cref="BatchNormalizingTransformer.Columns"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (the exception's ParamName names it); at fit or
    /// schema time, a column is missing or of another type.</exception>
    /// <remarks>NaN and infinities are left out of the statistics; NaN passes through the transform.
    /// See <see cref="BatchNormalizingEstimator"/> for how each batch's statistics are formed, and the overloads taking
    /// <see cref="BatchNormalizingEstimator.Options"/> for every other option.</remarks>
    public static BatchNormalizingEstimator BatchNormalize(this TransformsCatalog catalog,
        string outputColumnName, string? inputColumnName = null,
        int batchSize = BatchNormalizingEstimator.Defaults.BatchSize,
        double momentum = BatchNormalizingEstimator.Defaults.Momentum,
        double epsilon = BatchNormalizingEstimator.Defaults.Epsilon) =>
        BatchNormalize(catalog, [new InputOutputColumnPair(outputColumnName, inputColumnName ?? outputColumnName)], batchSize, momentum, epsilon);

    /// <summary>
    /// Normalizes <paramref name="outputColumnName"/> in place with every option spelled out (bias correction, PyTorch's
    /// and Keras's conventions, whole-data statistics, channels, gamma, beta, scale only):
    /// <c>y = gamma * (x - running_mean) / sqrt(running_var + epsilon) + beta</c> per slot (per channel with
    /// <see cref="BatchNormalizingEstimator.Options.ChannelLayout"/>), the running statistics fitted over mini-batches.
    /// </summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="outputColumnName">Name of the column to normalize and to produce, in place; it keeps its type and size.
    /// <c>Single</c> or <c>Double</c>, scalar or known-size vector, dense or sparse (a known-size vector with channels).</param>
    /// <param name="options">The options; validated here, and copied: later changes to them do not reach the estimator.</param>
    /// <returns>The estimator; its fitted transformer exposes the statistics in <see cref="BatchNormalizingTransformer.Columns"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the exception's ParamName names it); at fit or
    /// schema time, the column is missing or of another type.</exception>
    /// <exception cref="ArgumentException"><see cref="BatchNormalizingEstimator.Options.Gamma"/> or
    /// <see cref="BatchNormalizingEstimator.Options.Beta"/> is empty; at fit time, it has neither 1 value nor one per slot
    /// (or channel).</exception>
    /// <remarks>The same as <c>BatchNormalize([new InputOutputColumnPair(outputColumnName)], options)</c>.</remarks>
    public static BatchNormalizingEstimator BatchNormalize(this TransformsCatalog catalog, string outputColumnName, BatchNormalizingEstimator.Options options) =>
        BatchNormalize(catalog, outputColumnName, outputColumnName, options);

    /// <summary>
    /// Normalizes <paramref name="inputColumnName"/> into <paramref name="outputColumnName"/> with every option spelled out:
    /// <c>y = gamma * (x - running_mean) / sqrt(running_var + epsilon) + beta</c> per slot (per channel with
    /// <see cref="BatchNormalizingEstimator.Options.ChannelLayout"/>), the running statistics fitted over mini-batches.
    /// </summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="outputColumnName">Name of the column to produce; it has the input's type and size.</param>
    /// <param name="inputColumnName">Name of the column to normalize; null means <paramref name="outputColumnName"/>.
    /// <c>Single</c> or <c>Double</c>, scalar or known-size vector, dense or sparse (a known-size vector with channels).</param>
    /// <param name="options">The options; validated here, and copied: later changes to them do not reach the estimator.</param>
    /// <returns>The estimator; its fitted transformer exposes the statistics in <see cref="BatchNormalizingTransformer.Columns"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (the exception's ParamName names it); at fit or
    /// schema time, the input column is missing or of another type.</exception>
    /// <exception cref="ArgumentException"><see cref="BatchNormalizingEstimator.Options.Gamma"/> or
    /// <see cref="BatchNormalizingEstimator.Options.Beta"/> is empty; at fit time, it has neither 1 value nor one per slot
    /// (or channel).</exception>
    /// <remarks>The same as <c>BatchNormalize([new InputOutputColumnPair(outputColumnName, inputColumnName)], options)</c>.</remarks>
    public static BatchNormalizingEstimator BatchNormalize(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName,
        BatchNormalizingEstimator.Options options) =>
        BatchNormalize(catalog, [new InputOutputColumnPair(outputColumnName, inputColumnName ?? outputColumnName)], options);

    /// <summary>Normalizes several columns in one pass over the data; see the single-column overload.</summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="columns">The (output, input) column pairs. Inputs: <c>Single</c> or <c>Double</c>, scalar or known-size vector.</param>
    /// <param name="batchSize">Rows per mini-batch, at least 2.</param>
    /// <param name="momentum">Weight of the old running value, in [0, 1).</param>
    /// <param name="epsilon">Added to the variance before the square root; positive and finite, kept as written.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range; the exception's ParamName names it.</exception>
    public static BatchNormalizingEstimator BatchNormalize(this TransformsCatalog catalog,
        InputOutputColumnPair[] columns,
        int batchSize = BatchNormalizingEstimator.Defaults.BatchSize,
        double momentum = BatchNormalizingEstimator.Defaults.Momentum,
        double epsilon = BatchNormalizingEstimator.Defaults.Epsilon)
    {
        // Checked here so that an error names the caller's argument, not the Options field.
        BatchNormalizingEstimator.Options.CheckBatchSize(batchSize, nameof(batchSize));
        BatchNormalizingEstimator.Options.CheckMomentum(momentum, nameof(momentum));
        BatchNormalizingEstimator.Options.CheckEpsilon(epsilon, nameof(epsilon));
        return BatchNormalize(catalog, columns, new BatchNormalizingEstimator.Options { BatchSize = batchSize, Momentum = momentum, Epsilon = epsilon });
    }

    /// <summary>Normalizes several columns in one pass with every option spelled out (bias correction, PyTorch conventions,
    /// channels, gamma, beta); see the single-column overloads.</summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="columns">The (output, input) column pairs. Inputs: <c>Single</c> or <c>Double</c>, scalar or known-size vector.</param>
    /// <param name="options">The options, for every column; validated here, and copied.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="columns"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the exception's ParamName names it.</exception>
    /// <exception cref="ArgumentException">No column pairs, or <see cref="BatchNormalizingEstimator.Options.Gamma"/> or
    /// <see cref="BatchNormalizingEstimator.Options.Beta"/> is empty.</exception>
    public static BatchNormalizingEstimator BatchNormalize(this TransformsCatalog catalog,
        InputOutputColumnPair[] columns, BatchNormalizingEstimator.Options options) =>
        new(MlNetEnvironment.Of(catalog), columns, options);

    /// <summary>
    /// A batch-normalization stage from known parameters, without fitting: for example the <c>running_mean</c>,
    /// <c>running_var</c>, <c>weight</c>, <c>bias</c> and <c>eps</c> of a trained PyTorch <c>BatchNorm1d</c>.
    /// </summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="columns">One set of parameters per column pair (<see cref="BatchNormalizationParameters"/>'s
    /// constructors, <see cref="BatchNormalizationParameters.ForChannels"/>, <see cref="BatchNormalizationParameters.FromMeanAndStd"/>,
    /// <see cref="BatchNormalizationParameters.ForScaleOnly"/>, or a fitted transformer's <see cref="BatchNormalizingTransformer.Columns"/>).</param>
    /// <returns>An estimator with nothing to learn: append it to a chain, or call its
    /// <see cref="KnownParametersBatchNormalizingEstimator.Fit(IDataView)"/>, which checks the data's columns and returns
    /// the <see cref="BatchNormalizingTransformer"/> of these parameters, to transform, save and load like a fitted one.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> or <paramref name="columns"/> is null.</exception>
    /// <exception cref="ArgumentException">No parameters, or a null entry.</exception>
    /// <exception cref="NotSupportedException">The loaded ML.NET lacks a member this library binds to (every catalog method).</exception>
    public static KnownParametersBatchNormalizingEstimator BatchNormalize(this TransformsCatalog catalog, params BatchNormalizationParameters[] columns)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Length == 0 || Array.Exists(columns, c => c is null))
        {
            throw new ArgumentException("At least one set of parameters is needed, and none may be null.", nameof(columns));
        }

        // This overload needs no environment, so it is its own gate: the transformer saves through ML.NET internals.
        SeamCheck.EnsureCompatible();
        return new KnownParametersBatchNormalizingEstimator(new BatchNormalizingTransformer([.. columns]));
    }

    /// <summary>
    /// Maps <paramref name="inputColumnName"/> back through the inverse of the normalization <paramref name="parameters"/>
    /// describe: <c>x = (y - beta) * sqrt(running_var + epsilon) / gamma + running_mean</c> per slot, or per channel
    /// (scale only: <c>x = y * sqrt(running_var + epsilon) / gamma</c>); scikit-learn's <c>inverse_transform</c>, Keras's
    /// <c>Normalization(invert=True)</c>. For example a regressor's <c>Score</c>, trained on a normalized label, back on
    /// the label's scale.
    /// </summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="outputColumnName">Name of the column to produce; it has the input's type, size and slot names.</param>
    /// <param name="inputColumnName">Name of the column to map back; null means <paramref name="outputColumnName"/>.
    /// <c>Single</c> or <c>Double</c>, scalar or known-size vector (dense or sparse), with as many slots (or channels) as
    /// the parameters.</param>
    /// <param name="parameters">The normalization to invert: a fitted transformer's <see cref="BatchNormalizingTransformer.Columns"/>
    /// entry, or known parameters; only its values are used, not its column names. Every gamma must be non-zero.</param>
    /// <returns>An estimator with nothing to learn: append it to a chain, or call its
    /// <see cref="InverseBatchNormalizingEstimator.Fit(IDataView)"/> for the <see cref="InverseBatchNormalizingTransformer"/>,
    /// which transforms, saves, loads and exports to ONNX.</returns>
    /// <remarks>NaN gives NaN and an infinity an infinity. A Single column is mapped in float with beta, the mean and the
    /// scale <c>sqrt(running_var + epsilon) / gamma</c> each computed in double and rounded once; the round trip
    /// <c>inverse(normalize(x))</c> is within <c>8 u (|x| + |running_mean| + |beta| sqrt(running_var + epsilon) / |gamma|)</c>
    /// of x, u = 2^-24 for Single and 2^-53 for Double (see <see cref="InverseBatchNormalizingTransformer"/>).</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> or <paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="outputColumnName"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A gamma is 0, which maps every value to beta and has no inverse (the
    /// message names the column, the slot or channel, and gamma); at fit or schema time, the input column is missing or of
    /// another type or size.</exception>
    /// <exception cref="NotSupportedException">The loaded ML.NET lacks a member this library binds to (every catalog method).</exception>
    public static InverseBatchNormalizingEstimator InverseBatchNormalize(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName,
        BatchNormalizationParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        ArgumentNullException.ThrowIfNull(parameters);
        SeamCheck.EnsureCompatible();
        return new InverseBatchNormalizingEstimator(
            InverseBatchNormalizingTransformer.Create([(parameters, outputColumnName, inputColumnName ?? outputColumnName)], nameof(parameters)));
    }

    /// <summary>
    /// Maps <paramref name="inputColumnName"/> back through the inverse of one column of a fitted (or loaded) BatchNormalize
    /// stage: <c>x = (y - beta) * sqrt(running_var + epsilon) / gamma + running_mean</c>; the estimator of
    /// <see cref="BatchNormalizingTransformer.GetInverse(string, string, string)"/>. See the overload taking
    /// <see cref="BatchNormalizationParameters"/>.
    /// </summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="outputColumnName">Name of the column to produce; it has the input's type, size and slot names.</param>
    /// <param name="inputColumnName">Name of the column to map back; null means <paramref name="outputColumnName"/>.</param>
    /// <param name="normalizer">The fitted BatchNormalize stage.</param>
    /// <param name="normalizedColumnName">Which of its column pairs to invert, by output column name; null when it has one.</param>
    /// <returns>An estimator with nothing to learn, whose <see cref="InverseBatchNormalizingEstimator.Fit(IDataView)"/>
    /// gives the <see cref="InverseBatchNormalizingTransformer"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> or <paramref name="normalizer"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="outputColumnName"/> is null or empty;
    /// <paramref name="normalizedColumnName"/> names no column pair of <paramref name="normalizer"/>, or is null while it
    /// has several.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A gamma of the column is 0 (no inverse; the message names the
    /// column, the slot or channel, and gamma); at fit or schema time, the input column is missing or of another type or
    /// size.</exception>
    public static InverseBatchNormalizingEstimator InverseBatchNormalize(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName,
        BatchNormalizingTransformer normalizer, string? normalizedColumnName = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        ArgumentNullException.ThrowIfNull(normalizer);
        SeamCheck.EnsureCompatible();
        var normalization = normalizer.Column(normalizedColumnName, nameof(normalizedColumnName));
        return new InverseBatchNormalizingEstimator(
            InverseBatchNormalizingTransformer.Create([(normalization, outputColumnName, inputColumnName ?? outputColumnName)], nameof(normalizer)));
    }

    /// <summary>
    /// Undoes every column pair of a fitted (or loaded) BatchNormalize stage: each pair's output column is mapped back
    /// into its input column's name with <c>x = (y - beta) * sqrt(running_var + epsilon) / gamma + running_mean</c>; the
    /// estimator of <see cref="BatchNormalizingTransformer.GetInverse()"/>.
    /// </summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="normalizer">The fitted BatchNormalize stage.</param>
    /// <returns>An estimator with nothing to learn, whose <see cref="InverseBatchNormalizingEstimator.Fit(IDataView)"/>
    /// gives the <see cref="InverseBatchNormalizingTransformer"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="catalog"/> or <paramref name="normalizer"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A gamma is 0 (no inverse; the message names the column, the slot or
    /// channel, and gamma); at fit or schema time, a normalized column is missing or of another type or size.</exception>
    public static InverseBatchNormalizingEstimator InverseBatchNormalize(this TransformsCatalog catalog, BatchNormalizingTransformer normalizer)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(normalizer);
        SeamCheck.EnsureCompatible();
        return new InverseBatchNormalizingEstimator(
            InverseBatchNormalizingTransformer.Create(normalizer.Columns.Select(c => (c, c.InputColumnName, c.OutputColumnName)).ToArray(), nameof(normalizer)));
    }
}
