using Microsoft.ML;
using Ml.Normalization;
using Ml.Normalization.Fitting;
using Ml.Normalization.MlNetInterop;
using Ml.Normalization.Persistence;
using Ml.Normalization.Transforms.BatchNormalize;
using Ml.Normalization.Transforms.Stages;

[assembly: LoadableStage<BatchNormalizingTransformer>("Batch Normalization")]

namespace Ml.Normalization;

/// <summary>
/// The fitted batch normalization: <c>y = gamma * (x - running_mean) / sqrt(running_var + epsilon) + beta</c> per slot,
/// applied lazily, row to row. Saves and loads with <c>mlContext.Model.Save</c>/<c>Load</c> like an in-box stage.
/// </summary>
/// <remarks>
/// The parameters are double (<see cref="BatchNormalizationParameters"/>). A Double column is normalized in double
/// with them; a Single column in float, with the mean, scale and beta each rounded once from double.
/// </remarks>
public sealed class BatchNormalizingTransformer : ColumnPairTransformer, IPersistedStage<BatchNormalizingTransformer>
{
    internal const string LoaderSignature = "MlNormBatchNormalize";

    // The format of 1.0: the training-pass batch size, the column count, then per column its names, channel layout,
    // centering flag, unit count (slots, or channels), epsilon, batch and row counts, the running mean, running variance,
    // gamma and beta (doubles, one per unit), and its fit state (a flag; then the statistics rule and its per-unit state,
    // FitState.Write). Versions 0x00010001 to 0x00010006 were development formats that never shipped: they are refused.
    // From 1.0 on, a format change keeps a reader for every version that shipped, with a committed fixture.
    private const uint Format10 = 0x00010007;

    private readonly BatchNormalizationParameters[] _columns;

    internal BatchNormalizingTransformer(BatchNormalizationParameters[] columns, int trainingBatchSize = 0)
        : base(columns.Select(c => new InputOutputColumnPair(c.OutputColumnName, c.InputColumnName)))
    {
        _columns = columns;
        Columns = Array.AsReadOnly(columns);
        TrainingBatchSize = trainingBatchSize;
    }

    /// <summary>The parameters of each column pair, in order.</summary>
    public IReadOnlyList<BatchNormalizationParameters> Columns { get; }

    /// <summary>
    /// Rows per mini-batch of the training pass when it uses batch statistics
    /// (<see cref="BatchNormalizingEstimator.Options.BatchStatisticsInTraining"/>); 0 when it uses the running statistics.
    /// </summary>
    public int TrainingBatchSize { get; }

    static StageFormat IPersistedStage<BatchNormalizingTransformer>.Format { get; } =
        new("MLNBNORM", Format10, Format10, Format10, LoaderSignature, "BatchNormalize");

    internal override ColumnMapper CreateMapper(DataViewSchema inputSchema) => BatchNormalizeMapping.CreateMapper(inputSchema, _columns);

    internal override void ExportOnnx(OnnxGraph graph, DataViewSchema inputSchema) => BatchNormalizeOnnx.Export(graph, inputSchema, _columns);

    /// <summary>
    /// With <see cref="TrainingBatchSize"/> set, the training pass normalizes each mini-batch with its own statistics;
    /// otherwise it is the same as <see cref="ColumnPairTransformer.Transform"/>.
    /// </summary>
    internal override IDataView? TrainingView(IDataView input) =>
        TrainingBatchSize >= 2 ? new BatchStatisticsTrainingView(input, _columns, TrainingBatchSize) : null;

    internal override bool TrainsDifferently => TrainingBatchSize >= 2;

    internal override void Save(ModelSaveContext ctx) => ModelPersistence.Save(ctx, this);

    static BatchNormalizingTransformer IPersistedStage<BatchNormalizingTransformer>.Read(ModelBodyReader reader, uint formatVersion)
    {
        int trainingBatchSize = reader.ReadCount("the training batch size", 0, int.MaxValue);
        int count = reader.ReadCount("the column count", 1, 1 << 16);
        var columns = new BatchNormalizationParameters[count];
        for (int i = 0; i < count; i++)
        {
            var head = ParametersFormat.ReadHead(reader, i);
            long batches = reader.ReadInt64();
            long rows = reader.ReadInt64();
            var values = ParametersFormat.ReadValues(reader, head.Units);
            var state = reader.ReadCount("a fit-state flag", 0, 1) == 1 ? FitState.Read(reader, head.Units) : null;
            try
            {
                // A scale-only column with a fit state keeps no running mean: it is made from the state when read.
                columns[i] = new BatchNormalizationParameters(head.OutputColumnName, head.InputColumnName, head.Centered || state is null ? values.Mean : null, values.Variance, values.Gamma, values.Beta,
                    head.Epsilon, batches, rows, head.Layout, state, head.Centered);
            }
            catch (ArgumentException ex)
            {
                throw reader.Corrupt($"column '{head.OutputColumnName}': {ex.Message}");
            }
        }

        return new BatchNormalizingTransformer(columns, trainingBatchSize);
    }

    void IPersistedStage<BatchNormalizingTransformer>.WriteBody(BinaryWriter writer)
    {
        writer.Write(TrainingBatchSize);
        writer.Write(_columns.Length);
        foreach (var column in _columns)
        {
            ParametersFormat.WriteHead(writer, column);
            writer.Write(column.BatchCount);
            writer.Write(column.RowCount);
            ParametersFormat.WriteValues(writer, column);
            writer.Write(column.FitState is null ? 0 : 1);
            column.FitState?.Write(writer);
        }
    }

    /// <summary>
    /// The inverse of this stage, every column pair undone: each pair's output column is mapped back into its input
    /// column's name with <c>x = (y - beta) * sqrt(running_var + epsilon) / gamma + running_mean</c> (scale only:
    /// <c>x = y * sqrt(running_var + epsilon) / gamma</c>). For the inverse of one column's parameters applied to another
    /// column (a regressor's <c>Score</c>), see <see cref="GetInverse(string, string, string)"/>.
    /// </summary>
    /// <remarks>
    /// Named as ML.NET names what a transformer hands out (<c>GetOutputSchema</c>, <c>GetRowToRowMapper</c>,
    /// <c>NormalizingTransformer.GetNormalizerModelParameters</c>); it is scikit-learn's <c>inverse_transform</c> and Keras's
    /// <c>Normalization(invert=True)</c> as a stage. The same stage as an estimator, for a chain:
    /// <see cref="Microsoft.ML.BatchNormalizationCatalog.InverseBatchNormalize(Microsoft.ML.TransformsCatalog, BatchNormalizingTransformer)"/>.
    /// </remarks>
    /// <returns>The inverse stage; it transforms, saves, loads and exports to ONNX like this one.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A gamma is 0 (such a slot or channel maps every value to beta and has
    /// no inverse); the message names the column, the slot or channel, and gamma.</exception>
    public InverseBatchNormalizingTransformer GetInverse()
    {
        SeamCheck.EnsureCompatible();
        return InverseBatchNormalizingTransformer.Create(_columns.Select(c => (c, c.InputColumnName, c.OutputColumnName)).ToArray(), nameof(BatchNormalizationParameters.Gamma));
    }

    /// <summary>
    /// The inverse of one column's normalization, applied to column <paramref name="inputColumnName"/>: typically a
    /// regressor's <c>Score</c> trained on the normalized label, mapped back to the label's scale with
    /// <c>x = (y - beta) * sqrt(running_var + epsilon) / gamma + running_mean</c> per slot or channel (scale only:
    /// <c>x = y * sqrt(running_var + epsilon) / gamma</c>).
    /// </summary>
    /// <param name="outputColumnName">Name of the column to produce; it has the input's type and size.</param>
    /// <param name="inputColumnName">Name of the column to map back; null means <paramref name="outputColumnName"/>.
    /// <c>Single</c> or <c>Double</c>, scalar or known-size vector, with the normalized column's slot count (or channels).</param>
    /// <param name="normalizedColumnName">Which column pair of this stage to invert, by its output column name
    /// (<see cref="BatchNormalizationParameters.OutputColumnName"/>); null when the stage has one column pair.</param>
    /// <returns>The inverse stage; it transforms, saves, loads and exports to ONNX like this one.</returns>
    /// <exception cref="ArgumentException"><paramref name="outputColumnName"/> is null or empty;
    /// <paramref name="normalizedColumnName"/> names no column pair of this stage, or is null while it has several.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A gamma of the column is 0 (no inverse); the message names the
    /// column, the slot or channel, and gamma.</exception>
    public InverseBatchNormalizingTransformer GetInverse(string outputColumnName, string? inputColumnName = null, string? normalizedColumnName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputColumnName);
        SeamCheck.EnsureCompatible();
        var normalization = Column(normalizedColumnName, nameof(normalizedColumnName));
        return InverseBatchNormalizingTransformer.Create([(normalization, outputColumnName, inputColumnName ?? outputColumnName)], nameof(BatchNormalizationParameters.Gamma));
    }

    /// <summary>The parameters of the column pair whose output is <paramref name="outputColumnName"/> (the last, as the output view shows); null: the only one.</summary>
    /// <exception cref="ArgumentException">No such pair, or null while there are several.</exception>
    internal BatchNormalizationParameters Column(string? outputColumnName, string paramName)
    {
        string names = string.Join(", ", _columns.Select(c => $"'{c.OutputColumnName}'"));
        if (outputColumnName is null)
        {
            return _columns.Length == 1 ? _columns[0]
                : throw new ArgumentException($"The stage normalizes {_columns.Length} columns ({names}): name the one to invert.", paramName);
        }

        return Array.FindLast(_columns, c => c.OutputColumnName == outputColumnName)
            ?? throw new ArgumentException($"The stage normalizes no column '{outputColumnName}'; its columns are {names}.", paramName);
    }

    /// <summary>
    /// Merges the fits of the consecutive chunks (shards) of one dataset into the fit of their concatenation: each worker
    /// fits its chunk with the same estimator and saves the model; one process loads them and merges.
    /// </summary>
    /// <remarks>
    /// Merging is the combination a fit makes batch by batch, applied to whole chunks, so every statistics option merges:
    /// <list type="bullet">
    /// <item><description><see cref="BatchNormalizingEstimator.Options.WholeDataStatistics"/>: the statistics of all rows,
    /// combined with Chan et al.'s formulas, in any order of the shards (equal to the one-pass fit within 1e-12 relative
    /// for the mean and the variance).</description></item>
    /// <item><description><c>Momentum = null</c> (the plain average of the batches): the average over all shards' batches,
    /// weighted by each shard's batch count, in any order.</description></item>
    /// <item><description>A momentum: the order of the batches matters, so give the shards in row order; the running
    /// statistics of the first shard decay by <c>Momentum^t</c> over the t batches of the next, and bias correction counts
    /// all batches.</description></item>
    /// </list>
    /// With the average or a momentum the result is the fit of the concatenation (within 1e-12 relative) when every shard
    /// but the last holds a multiple of the batch size in rows; otherwise a shard's final partial batch counts as a batch of
    /// its own. A shard's initial values matter only where no earlier shard had data. The parameters besides the
    /// statistics (gamma, beta, epsilon, the training pass) are the first shard's, and every shard's must equal them.
    /// </remarks>
    /// <param name="shards">At least one fitted transformer, all from the same estimator options and columns, in row order.</param>
    /// <returns>A transformer that scores, saves, loads, continues and exports like a fitted one.</returns>
    /// <exception cref="ArgumentException">No shards; a shard without a fit state (made from known parameters); or shards
    /// whose columns, sizes or options differ (the message says which).</exception>
    public static BatchNormalizingTransformer Merge(params BatchNormalizingTransformer[] shards)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Length == 0 || Array.Exists(shards, s => s is null))
        {
            throw new ArgumentException("At least one shard is needed, and none may be null.", nameof(shards));
        }

        SeamCheck.EnsureCompatible();
        var first = shards[0];
        var columns = new BatchNormalizationParameters[first._columns.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            columns[i] = FitMerge.Column(shards.Select(s => i < s._columns.Length ? s._columns[i] : null).ToArray(), i, shards.Select(s => s._columns.Length).ToArray());
        }

        foreach (var shard in shards)
        {
            if (shard.TrainingBatchSize != first.TrainingBatchSize)
            {
                throw new ArgumentException($"The shards' training-pass batch sizes differ ({first.TrainingBatchSize} and {shard.TrainingBatchSize}).", nameof(shards));
            }
        }

        return new BatchNormalizingTransformer(columns, first.TrainingBatchSize);
    }

}
