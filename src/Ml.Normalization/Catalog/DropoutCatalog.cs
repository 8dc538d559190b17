using Ml.Normalization;
using Ml.Normalization.MlNetInterop;

namespace Microsoft.ML;

/// <summary>
/// <c>mlContext.Transforms.Dropout(...)</c>: dropout that regularises the training of the stages after it and
/// never touches scoring.
/// </summary>
/// <remarks>
/// The dropped values reach every stage an <c>EstimatorChain</c> trains after Dropout, through nested chains too (the
/// stage gives its training pass when <c>Transform</c> is called while an <c>EstimatorChain.Fit</c> runs). A cache
/// checkpoint right after Dropout would hold one set of masks for every epoch: the fit warns of it through
/// <c>mlContext.Log</c>. Cache before Dropout.
/// </remarks>
public static class DropoutCatalog
{
    /// <summary>
    /// Inverted dropout of <paramref name="inputColumnName"/>: in the training pass of an <c>EstimatorChain</c> each
    /// value is zeroed with probability <paramref name="dropProbability"/> and kept values are scaled by 1 / (1 - p);
    /// scoring copies the input unchanged.
    /// </summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="outputColumnName">Name of the column to produce; it has the input's type and size.</param>
    /// <param name="inputColumnName">Name of the column to drop from; null means <paramref name="outputColumnName"/>.
    /// <c>Single</c> or <c>Double</c>, scalar or vector of any size, dense or sparse.</param>
    /// <param name="dropProbability">p, the probability of dropping a value, in [0, 1).</param>
    /// <param name="seed">Seed of the masks; null draws one from the MLContext's random source.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dropProbability"/> is outside [0, 1) or NaN; at fit or
    /// schema time, a column is missing or of another type.</exception>
    public static DropoutEstimator Dropout(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        float dropProbability = DropoutEstimator.Defaults.DropProbability, int? seed = null) =>
        Dropout(catalog, [new InputOutputColumnPair(outputColumnName, inputColumnName ?? outputColumnName)], dropProbability, seed);

    /// <summary>
    /// Dropout of <paramref name="outputColumnName"/> in place with every option, including
    /// <see cref="DropoutKind.Standard"/> dropout and channel dropout: in the training pass of an <c>EstimatorChain</c>
    /// each value (with <see cref="DropoutEstimator.Options.ChannelLayout"/>, each channel of a row as a whole) is zeroed
    /// with probability p (<see cref="DropoutEstimator.Options.DropProbability"/>) and kept values are scaled by
    /// 1 / (1 - p) (inverted) or kept as they are (standard); scoring gives x (inverted) or x * (1 - p) (standard).
    /// </summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="outputColumnName">Name of the column to drop from and to produce, in place; it keeps its type and size.
    /// <c>Single</c> or <c>Double</c>, scalar or vector of any size, dense or sparse.</param>
    /// <param name="options">The options; validated here, and copied: later changes to them do not reach the estimator.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (ParamName names it); at fit or schema time,
    /// the column is missing or of another type, or, with a <see cref="DropoutEstimator.Options.ChannelLayout"/>, not a
    /// known-size vector the channels describe (the message names the column, what was expected and what it is).</exception>
    /// <remarks>The same as <c>Dropout([new InputOutputColumnPair(outputColumnName)], options)</c>.</remarks>
    public static DropoutEstimator Dropout(this TransformsCatalog catalog, string outputColumnName, DropoutEstimator.Options options) =>
        Dropout(catalog, outputColumnName, outputColumnName, options);

    /// <summary>
    /// Dropout of <paramref name="inputColumnName"/> into <paramref name="outputColumnName"/> with every option, including
    /// <see cref="DropoutKind.Standard"/> dropout and channel dropout: in the training pass of an <c>EstimatorChain</c>
    /// each value (with <see cref="DropoutEstimator.Options.ChannelLayout"/>, each channel of a row as a whole) is zeroed
    /// with probability p (<see cref="DropoutEstimator.Options.DropProbability"/>) and kept values are scaled by
    /// 1 / (1 - p) (inverted) or kept as they are (standard); scoring gives x (inverted) or x * (1 - p) (standard).
    /// </summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="outputColumnName">Name of the column to produce; it has the input's type and size.</param>
    /// <param name="inputColumnName">Name of the column to drop from; null means <paramref name="outputColumnName"/>.
    /// <c>Single</c> or <c>Double</c>, scalar or vector of any size, dense or sparse.</param>
    /// <param name="options">The options; validated here, and copied: later changes to them do not reach the estimator.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (ParamName names it); at fit or schema time,
    /// the input column is missing or of another type, or, with a <see cref="DropoutEstimator.Options.ChannelLayout"/>, not
    /// a known-size vector the channels describe (the message names the column, what was expected and what it is).</exception>
    /// <remarks>The same as <c>Dropout([new InputOutputColumnPair(outputColumnName, inputColumnName)], options)</c>.</remarks>
    public static DropoutEstimator Dropout(this TransformsCatalog catalog, string outputColumnName, string? inputColumnName, DropoutEstimator.Options options) =>
        Dropout(catalog, [new InputOutputColumnPair(outputColumnName, inputColumnName ?? outputColumnName)], options);

    /// <summary>Inverted dropout of several columns; see the single-column overload.</summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="columns">The (output, input) column pairs; inputs <c>Single</c> or <c>Double</c>, scalar or vector.</param>
    /// <param name="dropProbability">p, the probability of dropping a value, in [0, 1).</param>
    /// <param name="seed">Seed of the masks; null draws one from the MLContext's random source.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="dropProbability"/> is outside [0, 1) or NaN.</exception>
    public static DropoutEstimator Dropout(this TransformsCatalog catalog, InputOutputColumnPair[] columns,
        float dropProbability = DropoutEstimator.Defaults.DropProbability, int? seed = null)
    {
        // Checked here so that an error names the caller's argument, not the Options field.
        DropoutEstimator.Options.CheckDropProbability(dropProbability, nameof(dropProbability));
        return Dropout(catalog, columns, new DropoutEstimator.Options { DropProbability = dropProbability, Seed = seed });
    }

    /// <summary>Dropout of several columns with every option, including <see cref="DropoutKind.Standard"/> dropout; each
    /// column pair draws its own masks. See the single-column overloads.</summary>
    /// <param name="catalog">The transform catalog.</param>
    /// <param name="columns">The (output, input) column pairs; inputs <c>Single</c> or <c>Double</c>, scalar or vector.</param>
    /// <param name="options">The options, for every column; validated here, and copied.</param>
    /// <returns>The estimator.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="columns"/> or <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; ParamName names it. At fit or schema time,
    /// an input column is missing or of another type, or, with a <see cref="DropoutEstimator.Options.ChannelLayout"/>, not
    /// a known-size vector the channels describe (the message names the column, what was expected and what it is).</exception>
    /// <exception cref="ArgumentException">No column pairs.</exception>
    public static DropoutEstimator Dropout(this TransformsCatalog catalog, InputOutputColumnPair[] columns, DropoutEstimator.Options options) =>
        new(MlNetEnvironment.Of(catalog), columns, options);
}
