using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ml.Normalization.Kernels;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Transforms.Stages;

namespace Ml.Normalization;

/// <summary>
/// Dropout as an ML.NET pipeline stage: it perturbs only the data that trains the stages after it in an
/// <see cref="EstimatorChain{TLastTransformer}"/>, never scoring.
/// </summary>
/// <remarks>
/// <format type="text/markdown"><![CDATA[
/// | Estimator characteristics | |
/// | -- | -- |
/// | Does this estimator need to look at the data to train its parameters? | No |
/// | Input column data type | `Single` or `Double`, scalar or vector (known or variable size, dense or sparse); with channels, a known-size vector |
/// | Output column data type | The input's type and size, with all the input's annotations (SlotNames, IsNormalized, ...) |
/// | Exportable to ONNX | Yes (scoring map) |
///
/// When `EstimatorChain.Fit` passes the training data on to the next stages, each value is zeroed with probability p
/// and kept values are multiplied by 1 / (1 - p) (inverted dropout; <see cref="DropoutKind.Standard"/> keeps them
/// unscaled). Masks are a pure function of (seed, pass, row id, slot, column pair): the same seed reproduces them, parallel cursors
/// agree with one cursor, and every new cursor over the training data (a trainer's next epoch) draws fresh masks.
/// Scoring — `Transform`, `PredictionEngine`, a loaded model — never drops: it gives x (inverted) or x * (1 - p) (standard).
/// A dropped implicit zero of a sparse vector stays an implicit zero.
///
/// Channel dropout (<see cref="Options.ChannelLayout"/>, PyTorch's `Dropout1d`/`Dropout2d`/`Dropout3d`): an image column
/// of C x H x W slots gets one draw per row and channel, so each channel of a row is kept whole, every value times
/// 1 / (1 - p) (inverted), or all zero: `y[c, s] = mask[row, c] * x[c, s] / (1 - p)`. The channel count comes from the
/// column's dimensions (`[C, H, W]` channels first, `[H, W, C]` channels last) or from <see cref="Options.ChannelCount"/>,
/// as BatchNormalize's; a column that is not a known-size vector, whose dimensions contradict the option, or whose size
/// the channel count does not divide, is refused at `Fit` and `Transform` (a scalar or variable-size column already at
/// `GetOutputSchema`) with an `ArgumentOutOfRangeException` naming it, what was expected and what it is. Scoring is
/// unchanged by channels.
/// ]]></format>
/// </remarks>
public sealed class DropoutEstimator : ColumnPairEstimator<DropoutTransformer>
{
    private readonly Options _options;

    internal DropoutEstimator(IHostEnvironment environment, InputOutputColumnPair[] columns, Options options)
        : base(environment, columns, nameof(DropoutEstimator))
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options.Clone();
    }

    // The defaults of the catalog methods and of Options. Internal, as ML.NET's Defaults classes are (see
    // BatchNormalizingEstimator.Defaults).
    internal static class Defaults
    {
        /// <summary>p, the probability of dropping a value.</summary>
        public const float DropProbability = 0.5f;
    }

    /// <summary>Everything the stage can be told.</summary>
    public sealed class Options
    {
        /// <summary>
        /// p, the probability of dropping a value (with a <see cref="ChannelLayout"/>, a channel of a row), in [0, 1); 0.5 by
        /// default. 0 makes the stage the identity. Resolved to 2^-32: each value (or channel) is dropped when its 32-bit
        /// draw is below round(p * 2^32).
        /// </summary>
        public float DropProbability = Defaults.DropProbability;

        /// <summary>Seed of the masks; null draws one from the MLContext's random source, so <c>new MLContext(seed: n)</c> reproduces.</summary>
        public int? Seed;

        /// <summary>Inverted (default) or standard dropout.</summary>
        public DropoutKind Kind = DropoutKind.Inverted;

        /// <summary>
        /// <see cref="ChannelLayout.None"/> (the default): one draw per slot. <see cref="ChannelLayout.ChannelsFirst"/> or
        /// <see cref="ChannelLayout.ChannelsLast"/>: channel dropout (PyTorch's <c>Dropout2d</c>), one draw per row and
        /// channel of an image-like column, so each channel is dropped or kept as a whole. The column must then be a
        /// known-size vector.
        /// </summary>
        public ChannelLayout ChannelLayout;

        /// <summary>
        /// With a <see cref="ChannelLayout"/>: the number of channels, or 0 to take it from the column's dimensions (the
        /// first of <c>[C, H, W]</c>, the last of <c>[H, W, C]</c>); when both are known they must agree. Not negative;
        /// resolved as BatchNormalize resolves its own <c>ChannelCount</c>.
        /// </summary>
        public int ChannelCount;

        internal Options Clone() => (Options)MemberwiseClone();

        internal void Validate()
        {
            CheckDropProbability(DropProbability, nameof(DropProbability));

            if (!Enum.IsDefined(Kind))
            {
                throw new ArgumentOutOfRangeException(nameof(Kind), Kind, $"'{nameof(Kind)}' must be Inverted or Standard, got {Kind}.");
            }

            ColumnLayouts.CheckOptions(ChannelLayout, ChannelCount, nameof(ChannelLayout), nameof(ChannelCount));
        }

        // Also the check of the short catalog overloads' argument; the error names paramName.
        internal static void CheckDropProbability(float value, string paramName)
        {
            if (!(value >= 0f && value < 1f))
            {
                ThrowHelper.ThrowOutOfRange(paramName, value, "in [0, 1)");
            }
        }
    }

    // Dropout has nothing to learn from the data: the fit checks the columns (and their channels) and fixes the seed.
    // Without channels any vector will do; with channels, known-size vectors (CheckInput, ColumnLayouts.Resolve).
    internal override bool AcceptsVariableSize => true;

    /// <exception cref="ArgumentOutOfRangeException">With a <see cref="Options.ChannelLayout"/>: an input column is not a
    /// known-size vector, has no dimensions to take the channel count from, has dimensions that contradict
    /// <see cref="Options.ChannelCount"/>, or has a size the channel count does not divide; the message names the column,
    /// what was expected and what it is.</exception>
    internal override DropoutTransformer Fit(IDataView input, NumericColumnShape[] inputShapes)
    {
        foreach (var pair in Columns)
        {
            var column = input.Schema[pair.InputColumnName];
            ColumnLayouts.Resolve(column.Type, column.Name, _options.ChannelLayout, _options.ChannelCount, nameof(input));
        }

        return new(Columns, _options.DropProbability, _options.Seed ?? MlNetEnvironment.DrawSeed(Host), _options.Kind, _options.ChannelLayout, _options.ChannelCount) { Host = Host };
    }

    /// <summary>With channels, a scalar or variable-size column is refused here; the channel count is checked at Fit.</summary>
    internal override void CheckInput(SchemaShape.Column input, string paramName) =>
        ColumnLayouts.CheckShape(input, _options.ChannelLayout, paramName);

    // A copy of the input at scoring time keeps every annotation, as ML.NET's column copy does.
    internal override SchemaShape OutputAnnotations(SchemaShape.Column input) => input.Annotations;
}
